"""What the runs page shows, read through the active profile's runner (local records or the Argo
Server): the runs with their dataset, a run's steps with their timing, its failed assets
(:func:`etl.runner.run_report.run_report`) and its logs (:func:`etl.runner.pod_logs.workflow_logs`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from etl.core.errors import EtlError
from etl.core.pod_contract import DATASET_LABEL
from etl.core.profiles.model import Profile
from etl.runner.argo_server.client import ArgoClient
from etl.runner.local import LocalRunner
from etl.runner.pod_logs import workflow_logs
from etl.runner.run_report import RunReport, run_report
from etl.runner.workflow_runner import WorkflowRunner
from etl.runner.workflow_status import LogLine, WorkflowStatus

__all__ = [
    "LISTED_RUNS",
    "LOG_LINES",
    "RunDetail",
    "RunRow",
    "Step",
    "list_runs",
    "read_run",
    "seconds_between",
]

LOG_LINES = 2000
"""The last log lines a run's page shows."""
LISTED_RUNS = 200
"""The newest runs the runs page lists."""


def seconds_between(start: str | None, end: str | None) -> float | None:
    """Seconds from ``start`` to ``end`` (ISO 8601 times, as Argo writes them); ``None`` if either
    is missing."""
    if not start or not end:
        return None
    return (_time(end) - _time(start)).total_seconds()


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Step:
    """One step (pod) of a run."""

    name: str
    template: str
    phase: str
    started_at: str | None
    finished_at: str | None
    message: str

    @property
    def seconds(self) -> float | None:
        """How long it ran, once it ended."""
        return seconds_between(self.started_at, self.finished_at)


@dataclass(frozen=True)
class RunRow:
    """A run in the list: its status, its dataset (label) and its page in the Argo UI."""

    status: WorkflowStatus
    dataset: str | None
    argo_url: str | None


@dataclass(frozen=True)
class RunDetail:
    """One run's page: status, steps, per-asset report, the last log lines."""

    row: RunRow
    steps: tuple[Step, ...]
    report: RunReport | None
    report_error: str | None
    logs: tuple[LogLine, ...]


def _argo_url(runner: WorkflowRunner, status: WorkflowStatus) -> str | None:
    if isinstance(runner, ArgoClient):
        return runner.workflow_url(status.name, status.namespace)
    return None


def _row(runner: WorkflowRunner, status: WorkflowStatus) -> RunRow:
    """The row of a listed run: its labels come with the listing (one request for the whole
    list on the Argo Server, not one more per run)."""
    return RunRow(status, status.labels.get(DATASET_LABEL), _argo_url(runner, status))


def list_runs(runner: WorkflowRunner, *, phase: str | None = None) -> list[RunRow]:
    """The runner's newest :data:`LISTED_RUNS` runs as it lists them, those in ``phase`` only
    when one is given."""
    listed = runner.list(limit=LISTED_RUNS)
    return [_row(runner, status) for status in listed if not phase or status.phase == phase]


def read_run(runner: WorkflowRunner, profile: Profile, name: str) -> RunDetail:
    """Everything the run's page shows.

    Raises:
        WorkflowNotFoundError: the runner has no such run.
    """
    status = runner.get(name)
    report: RunReport | None = None
    report_error = None
    try:
        report = run_report(runner, profile, name)
    except EtlError as exc:
        report_error = str(exc)
    warnings: list[str] = []
    logs = deque(workflow_logs(runner, profile, name, warn=warnings.append), maxlen=LOG_LINES)
    return RunDetail(
        row=_row(runner, status),
        steps=tuple(_steps(runner, name)),
        report=report,
        report_error=report_error or ("; ".join(warnings) or None),
        logs=tuple(logs),
    )


def _steps(runner: WorkflowRunner, name: str) -> Sequence[Step]:
    """The run's pods in the order they started: the local runner's records, or the nodes of
    the workflow's status on the Argo Server."""
    if isinstance(runner, LocalRunner):
        steps = [
            Step(n.display_name, n.template, n.phase.value, n.started_at, n.finished_at, n.message)
            for n in runner.store.load(name).nodes.values()
            if n.type == "Pod"
        ]
    else:
        nodes = (runner.manifest(name).get("status") or {}).get("nodes") or {}
        steps = [
            Step(
                str(n.get("displayName") or n.get("name") or ""),
                str(n.get("templateName") or ""),
                str(n.get("phase") or ""),
                n.get("startedAt"),
                n.get("finishedAt"),
                " ".join(str(n.get("message") or "").split()),
            )
            for n in nodes.values()
            if n.get("type") == "Pod"
        ]
    return sorted(steps, key=lambda s: (s.started_at or "~", s.name))
