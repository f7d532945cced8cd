"""Following a submitted run to its end, and what it did: the wait and the end-of-run report.

Every waiting command (``process-items --submit --wait``, ``etl ingest ... --wait``, ``etl
workflow submit | watch | retry``) and ``etl workflow get`` end the same way:
:func:`follow_submitted` (or :func:`follow_run`) waits, phase changes told to a callback, and
returns a :class:`RunEnd`: the final status and the run's report (:func:`etl.runner.run_report.
run_report`), or why the report could not be read. The front end renders it; nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from etl.core.profiles.model import Profile
    from etl.runner.run_report import RunReport
    from etl.runner.workflow_runner import WorkflowRunner
    from etl.runner.workflow_status import SubmittedWorkflow, WorkflowStatus

__all__ = ["NOT_FOLLOWED", "Following", "RunEnd", "follow_run", "follow_submitted", "run_end"]


def _ignore(_: object) -> None:
    """A callback that wants nothing."""


@dataclass(frozen=True)
class Following:
    """How a submitted run is followed.

    Attributes:
        wait: Follow it to its end (a runner that runs to completion is always followed).
        limit: Failed assets the end's report holds.
        on_submitted: Told the workflow once it is submitted, before any wait.
        on_status: Told each phase change while waiting.
    """

    wait: bool = False
    limit: int = 10
    on_submitted: Callable[[SubmittedWorkflow], None] = _ignore
    on_status: Callable[[WorkflowStatus], None] = _ignore


NOT_FOLLOWED = Following()
"""Nobody told, no wait asked (a runner that runs to completion still ends before the return)."""


@dataclass(frozen=True)
class RunEnd:
    """A workflow's status and what it did asset by asset.

    Attributes:
        status: The workflow's status (final, when followed).
        report: The run's report, with its first failed assets; ``None`` when unreadable.
        unreadable: Why the report could not be read (the status still stands).
    """

    status: WorkflowStatus
    report: RunReport | None
    unreadable: str | None = None


def run_end(
    runner: WorkflowRunner,
    profile: Profile,
    name: str,
    *,
    limit: int,
    status: WorkflowStatus | None = None,
) -> RunEnd:
    """Workflow ``name``'s status (``status``, else asked of the runner) and its report with its
    first ``limit`` failed assets.

    Raises:
        NotFoundError: no workflow ``name``.
        RemoteError: the runner cannot be reached.
    """
    from etl.core.errors import EtlError
    from etl.runner.run_report import run_report

    found = runner.get(name) if status is None else status
    try:
        return RunEnd(found, run_report(runner, profile, name, limit=limit))
    except EtlError as exc:
        return RunEnd(found, None, str(exc))


def follow_run(runner: WorkflowRunner, profile: Profile, name: str, following: Following) -> RunEnd:
    """Wait for workflow ``name`` to end (phase changes to ``following.on_status``), then
    :func:`run_end`.

    Raises:
        RemoteError: the runner cannot be reached.
    """
    status = runner.wait(name, on_status=following.on_status)
    return run_end(runner, profile, name, limit=following.limit, status=status)


def follow_submitted(
    runner: WorkflowRunner,
    profile: Profile,
    submitted: SubmittedWorkflow,
    following: Following,
) -> RunEnd | None:
    """Tell ``following.on_submitted``, then :func:`follow_run` when ``following.wait`` or the
    runner runs to completion; ``None`` when the run is not followed."""
    following.on_submitted(submitted)
    if not (following.wait or runner.runs_to_completion):
        return None
    return follow_run(runner, profile, submitted.name, following)
