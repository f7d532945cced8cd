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
    from etl.runner.following import Following, RunEnd
    from etl.runner.run_report import RunReport
    from etl.runner.work import PreparedWork
    from etl.runner.workflow_runner import WorkflowRunner
    from etl.runner.workflow_status import SubmittedWorkflow, WorkflowStatus

__all__ = [
    "SHOWN_ERRORS",
    "following",
    "print_progress_line",
    "print_run_end",
    "print_run_page",
    "print_run_report",
    "print_submission",
    "raise_unless_succeeded",
    "report_submission",
    "submit_and_report",
    "wait_and_report",
    "warn_if_unreadable",
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


def following(*, wait: bool, output: OutputFormat | None) -> Following:
    """How a waiting command follows its run: the name on stdout once submitted (unless
    ``output`` asks for the result instead), phase changes on stderr."""
    from etl.runner.following import Following

    def announce(submitted: SubmittedWorkflow) -> None:
        if output is None:
            print(submitted.name, flush=True)

    return Following(wait=wait, limit=SHOWN_ERRORS, on_submitted=announce, on_status=_print_phase)


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
    from etl.runner.following import follow_submitted

    settings = following(wait=wait, output=output)
    print_submission(
        profile, submitted, follow_submitted(runner, profile, submitted, settings), output
    )


def print_submission(
    profile: Profile,
    submitted: SubmittedWorkflow,
    ended: RunEnd | None,
    output: OutputFormat | None,
) -> None:
    """What the end of a followed run did (:func:`print_run_end`), then, with ``output``, the
    submission's result.

    Raises:
        WorkflowFailedError: the run was followed to its end and did not succeed.
    """
    if ended is not None:
        print_run_end(profile, ended)
        submitted = replace(submitted, status=ended.status.phase.value)
    if output is not None:
        print_result(submitted.to_json(), output)
    if ended is not None:
        raise_unless_succeeded(ended)


def wait_and_report(runner: WorkflowRunner, profile: Profile, name: str) -> None:
    """Follow workflow ``name`` to its end, phase changes on stderr, then what the run did
    (:func:`print_run_end`).

    Raises:
        WorkflowFailedError: it ended Failed or Error (its failed steps' messages printed first).
    """
    from etl.runner.following import follow_run

    ended = follow_run(runner, profile, name, following(wait=True, output=None))
    print_run_end(profile, ended)
    raise_unless_succeeded(ended)


def raise_unless_succeeded(ended: RunEnd) -> None:
    """Raise unless the followed workflow succeeded.

    Raises:
        WorkflowFailedError: it ended Failed or Error.
    """
    from etl.core.errors import WorkflowFailedError

    if not ended.status.succeeded:
        status = ended.status
        raise WorkflowFailedError(f"workflow {status.name!r} ended {status.phase.value}")


def print_run_end(profile: Profile, ended: RunEnd) -> None:
    """On stderr: the failed steps' messages, what the run did (:func:`print_run_report`, or why
    that cannot be read) and the run's page."""
    if not ended.status.succeeded:
        for line in ended.status.failure_messages():
            print(f"  failed: {line}", file=sys.stderr)
    warn_if_unreadable(ended)
    if ended.report is not None:
        print_run_report(ended.report)
    print_run_page(profile, ended.status.name)


def warn_if_unreadable(ended: RunEnd) -> None:
    """A warning on stderr when the run's report cannot be read (its status still stands)."""
    if ended.unreadable is not None:
        warn(f"cannot read what {ended.status.name!r} did per asset: {ended.unreadable}")


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
    one runs (:func:`etl.core.serve_address.run_page_url`)."""
    from etl.core.serve_address import run_page_url

    url = run_page_url(profile.name, name)
    if url is not None:
        print(f"page: {url}", file=sys.stderr)


def _print_phase(status: WorkflowStatus) -> None:
    progress = f" ({status.progress})" if status.progress else ""
    print(f"{status.name}: {status.phase.value}{progress}", file=sys.stderr, flush=True)


def print_progress_line(line: str) -> None:
    """One line of what a command is doing (an upload, a phase change), on stderr."""
    print(line, file=sys.stderr, flush=True)
