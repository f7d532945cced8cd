"""How ``etl workflow get`` and ``list`` show runs: durations, filters and ``get``'s sections.

``get`` prints a table of the run (times and duration included) and then, each in its own
section, the failed steps, what finish-collection and mark-success did, and the first failed
assets; ``list`` filters by phase, dataset and age, as ``argo list --status`` and
``gh run list --status --workflow`` do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import typer

from etl.cli.options import parse_since_time
from etl.cli.output import OutputFormat, print_result

if TYPE_CHECKING:
    from etl.runner.run_report import RunReport
    from etl.runner.workflow_status import WorkflowPhase, WorkflowStatus

__all__ = [
    "duration_text",
    "matches",
    "parse_age",
    "parse_phases",
    "print_get_table",
    "summary_row",
]

_AGE = re.compile(r"(\d+)([smhdw])")
_AGE_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_age(value: str) -> datetime:
    """``--since``: a duration back from now (``30m``, ``2h``, ``1d``, ``1h30m``) or an ISO-8601
    date or time (UTC unless a zone is given)."""
    text = value.strip()
    if text and _AGE.sub("", text) == "":
        span = timedelta()
        for number, unit in _AGE.findall(text):
            span += timedelta(**{_AGE_UNITS[unit]: int(number)})
        return datetime.now(UTC) - span
    try:
        return parse_since_time(text)
    except typer.BadParameter:
        raise typer.BadParameter(
            f"{value!r} is neither a duration (30m, 2h, 1d) nor an ISO-8601 date or time"
        ) from None


def parse_phases(values: Sequence[str] | None) -> set[WorkflowPhase]:
    """``--status`` (repeatable, or a comma list; any case) as phases."""
    from etl.runner.workflow_status import WorkflowPhase

    by_name = {phase.value.lower(): phase for phase in WorkflowPhase}
    phases: set[WorkflowPhase] = set()
    for value in values or []:
        for word in filter(None, (part.strip().lower() for part in value.split(","))):
            if word not in by_name:
                known = ", ".join(phase.value for phase in WorkflowPhase)
                raise typer.BadParameter(f"{word!r} is not a phase; use {known}")
            phases.add(by_name[word])
    return phases


def matches(
    status: WorkflowStatus,
    *,
    phases: set[WorkflowPhase],
    dataset: str | None,
    since: datetime | None,
) -> bool:
    """Whether ``status`` passes the ``list`` filters (each unset filter passes all)."""
    from etl.core.pod_contract import DATASET_LABEL, label_value

    if phases and status.phase not in phases:
        return False
    if dataset is not None and status.labels.get(DATASET_LABEL) != label_value(dataset):
        return False
    if since is not None:
        started = status.started_at
        if started is None or datetime.fromisoformat(started.replace("Z", "+00:00")) < since:
            return False
    return True


def duration_text(seconds: float | None) -> str | None:
    """``1h 02m``, ``3m 07s``, ``12s``; ``None`` for no duration."""
    if seconds is None:
        return None
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def summary_row(status: WorkflowStatus) -> dict[str, Any]:
    """One run as ``list`` shows it (and as ``get`` starts)."""
    return {
        "name": status.name,
        "phase": status.phase.value,
        "progress": status.progress,
        "started": status.started_at,
        "finished": status.finished_at,
        "duration": duration_text(status.duration_seconds()),
    }


def print_get_table(status: WorkflowStatus, report: RunReport | None) -> None:
    """``etl workflow get NAME``: the run's rows, then its sections, each titled."""
    data = summary_row(status)
    failures = status.failure_messages()
    if status.message and not any(status.message in line for line in failures):
        data["message"] = status.message
    if report is not None:
        data["assets"] = "; ".join(c.summary() for c in report.collections) or None
        data["failed_assets"] = report.failed
    print_result(data, OutputFormat.TABLE)
    _section("Failed steps", failures)
    if report is not None:
        _section("Collection finish", (line for c in report.collections for line in c.lines()[1:]))
        if report.errors:
            print("\nFailed assets:")
            print_result(report.to_json()["errors"], OutputFormat.TABLE)
            if len(report.errors) < report.listed_failures:
                print(f"all of them: etl workflow errors {report.workflow}")


def _section(title: str, lines: Iterable[str]) -> None:
    shown = list(lines)
    if shown:
        print(f"\n{title}:")
        for line in shown:
            print(f"  {line}")
