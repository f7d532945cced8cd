"""Report a submitted workflow and follow it to its end: what every submitting command prints.

Results go to stdout (the name, or the ``-o`` result once known); phase changes and failed steps'
messages go to stderr.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from etl.cli.output import ManifestOutput, OutputFormat, print_result

if TYPE_CHECKING:
    from etl.core.profiles import Profile
    from etl.core.runners import SubmittedWorkflow, WorkflowRunner, WorkflowStatus
    from etl.runner.work import PreparedWork

__all__ = ["report_submission", "submit_and_report", "wait_and_report"]


def submit_and_report(
    work: PreparedWork,
    runner: WorkflowRunner,
    profile: Profile,
    *,
    wait: bool,
    output: ManifestOutput | None,
) -> None:
    """Upload what ``work`` needs and submit it (:func:`etl.runner.work.submit_work`), uploads
    reported on stderr, then :func:`report_submission` in the ``-o`` format asked for."""
    from etl.runner.work import submit_work

    submitted = submit_work(work, runner, profile, report=_print_progress_line)
    report_submission(
        runner,
        submitted,
        wait=wait,
        output=OutputFormat(output.value) if output is not None else None,
    )


def report_submission(
    runner: WorkflowRunner,
    submitted: SubmittedWorkflow,
    *,
    wait: bool,
    output: OutputFormat | None,
) -> None:
    """Print the name of ``submitted`` (or, with ``output``, the result once known).

    With ``wait`` — and always on a runner that runs to completion — the workflow's end decides
    the exit: a Failed or Error workflow raises after the result is out.

    Raises:
        WorkflowFailedError: the workflow was followed to its end and did not succeed.
    """
    from etl.core.errors import WorkflowFailedError

    if output is None:
        print(submitted.name, flush=True)
    failure: WorkflowFailedError | None = None
    if wait or runner.runs_to_completion:
        try:
            final = wait_and_report(runner, submitted.name)
        except WorkflowFailedError as exc:
            failure, final = exc, runner.get(submitted.name)
        submitted = replace(submitted, status=final.phase.value)
    if output is not None:
        print_result(submitted.to_json(), output)
    if failure is not None:
        raise failure


def wait_and_report(runner: WorkflowRunner, name: str) -> WorkflowStatus:
    """Follow workflow ``name`` to its end, phase changes on stderr.

    Raises:
        WorkflowFailedError: it ended Failed or Error (its failed steps' messages printed first).
    """
    from etl.core.errors import WorkflowFailedError

    status = runner.wait(name, on_status=_print_phase)
    if status.succeeded:
        return status
    for line in status.failure_messages():
        print(f"  failed: {line}", file=sys.stderr)
    raise WorkflowFailedError(f"workflow {name!r} ended {status.phase.value}")


def _print_phase(status: WorkflowStatus) -> None:
    progress = f" ({status.progress})" if status.progress else ""
    print(f"{status.name}: {status.phase.value}{progress}", file=sys.stderr, flush=True)


def _print_progress_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
