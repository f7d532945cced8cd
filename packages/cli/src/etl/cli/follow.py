"""Report a submitted workflow and follow it to its end: what every waiting command prints.

Results go to stdout (the name, or the ``-o`` result once known); phase changes, failed steps'
messages and, at the end, each collection's counts, its extent update and removals, and the first
failed assets go to stderr.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from etl.cli.output import ManifestOutput, OutputFormat, print_result, warn

if TYPE_CHECKING:
    from etl.core.profiles.model import Profile
    from etl.runner.run_report import RunReport
    from etl.runner.work import PreparedWork
    from etl.runner.workflow_runner import WorkflowRunner
    from etl.runner.workflow_status import SubmittedWorkflow, WorkflowStatus

__all__ = [
    "SHOWN_ERRORS",
    "print_progress_line",
    "print_run_page",
    "print_run_report",
    "read_run_report",
    "report_submission",
    "submit_and_report",
    "wait_and_report",
]

SHOWN_ERRORS = 10
"""Failed assets the end of a run and ``etl workflow get`` show; ``etl workflow errors`` lists all."""


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

    submitted = submit_work(work, runner, profile, report=print_progress_line)
    report_submission(
        runner,
        profile,
        submitted,
        wait=wait,
        output=OutputFormat(output.value) if output is not None else None,
    )


def report_submission(
    runner: WorkflowRunner,
    profile: Profile,
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
            final = wait_and_report(runner, profile, submitted.name)
        except WorkflowFailedError as exc:
            failure, final = exc, runner.get(submitted.name)
        submitted = replace(submitted, status=final.phase.value)
    if output is not None:
        print_result(submitted.to_json(), output)
    if failure is not None:
        raise failure


def wait_and_report(runner: WorkflowRunner, profile: Profile, name: str) -> WorkflowStatus:
    """Follow workflow ``name`` to its end, phase changes on stderr, then what the run did
    (:func:`print_run_report`).

    Raises:
        WorkflowFailedError: it ended Failed or Error (its failed steps' messages printed first).
    """
    from etl.core.errors import WorkflowFailedError

    status = runner.wait(name, on_status=_print_phase)
    if not status.succeeded:
        for line in status.failure_messages():
            print(f"  failed: {line}", file=sys.stderr)
    report = read_run_report(runner, profile, name, limit=SHOWN_ERRORS)
    if report is not None:
        print_run_report(report)
    print_run_page(profile, name)
    if status.succeeded:
        return status
    raise WorkflowFailedError(f"workflow {name!r} ended {status.phase.value}")


def read_run_report(
    runner: WorkflowRunner, profile: Profile, name: str, *, limit: int
) -> RunReport | None:
    """The run's report with its first ``limit`` failed assets; ``None``, after a warning on
    stderr, when its storage cannot be read (the workflow's own status still stands)."""
    from etl.core.errors import EtlError
    from etl.runner.run_report import run_report

    try:
        return run_report(runner, profile, name, limit=limit)
    except EtlError as exc:
        warn(f"cannot read what {name!r} did per asset: {exc}")
        return None


def print_run_report(report: RunReport) -> None:
    """Each collection's counts and what finish-collection did (extent, removals), then the
    failed assets the report holds, on stderr."""
    from etl.core.counts import counted

    for collection in report.collections:
        for line in collection.lines():
            print(line, file=sys.stderr)
    failed = report.listed_failures
    if not failed:
        return
    shown = len(report.errors)
    first = "" if shown == failed else f"; the first {shown}"
    print(f"{counted(failed, 'asset')} failed{first}:", file=sys.stderr)
    for error in report.errors:
        print(f"  {error}", file=sys.stderr)
    if shown < failed:
        print(f"all of them: etl workflow errors {report.workflow}", file=sys.stderr)


def print_run_page(profile: Profile, name: str) -> None:
    """``page: URL`` on stderr: the run's page on the ``etl serve`` running for ``profile``, if
    one runs (:func:`etl.serve.address.run_page_url`)."""
    from etl.serve.address import run_page_url

    url = run_page_url(profile.name, name)
    if url is not None:
        print(f"page: {url}", file=sys.stderr)


def _print_phase(status: WorkflowStatus) -> None:
    progress = f" ({status.progress})" if status.progress else ""
    print(f"{status.name}: {status.phase.value}{progress}", file=sys.stderr, flush=True)


def print_progress_line(line: str) -> None:
    """One line of what a command is doing (an upload, a phase change), on stderr."""
    print(line, file=sys.stderr, flush=True)
