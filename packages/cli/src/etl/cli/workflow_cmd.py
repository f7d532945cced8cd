"""``etl workflow``: submit a workflow manifest and follow, inspect, stop or retry workflows.

Every command talks to the active profile's runner (:func:`etl.runner.runner_for`) through
:class:`etl.core.runners.WorkflowRunner`, so the same commands work against an Argo Server and the
local runner's records of its runs. Results go to stdout; progress and failed steps' messages go to
stderr. ``get`` and ``errors`` also read the run's per-asset failures from its chunk storage
(:func:`etl.runner.run_report`), with the profile's storage credentials.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from etl.cli.follow import (
    SHOWN_ERRORS,
    read_run_report,
    report_submission,
    wait_and_report,
)
from etl.cli.options import OptionalOutputOption, command_group
from etl.cli.output import OutputFormat, print_result, warn
from etl.cli.state import active_profile, active_runner

if TYPE_CHECKING:
    from etl.core.runners import SubmittedWorkflow, WorkflowRunner, WorkflowStatus

__all__ = ["app"]

app = command_group("Submit workflows and follow them on the active profile's runner.")

NameArgument = Annotated[str, typer.Argument(help="The workflow's name.", metavar="NAME")]
ListLimitOption = Annotated[
    int | None,
    typer.Option("--limit", min=1, help="At most N workflows, the newest.", metavar="N"),
]
WaitOption = Annotated[
    bool, typer.Option("--wait", help="Wait for the end: exit 0 if Succeeded, 1 otherwise.")
]


def _submit_file(runner: WorkflowRunner, path: Path) -> SubmittedWorkflow:
    """Submit the manifest in ``path``; a field the runner refuses is located in the file."""
    from etl.argo.server.manifest_models import ManifestFieldError
    from etl.core.located_yaml import load_located_yaml

    doc = load_located_yaml(path)
    if not isinstance(doc.data, dict):
        raise doc.error((), "expected an Argo Workflow manifest (a mapping)")
    if doc.data.get("kind") != "Workflow":
        raise doc.error(("kind",), f"expected kind Workflow, got {doc.data.get('kind')!r}")
    try:
        return runner.submit(doc.data)
    except ManifestFieldError as exc:
        raise doc.error(exc.field_path, exc.reason, key=True) from None


def _summary(status: WorkflowStatus) -> dict[str, object]:
    return {
        "name": status.name,
        "phase": status.phase.value,
        "progress": status.progress,
        "started": status.started_at,
        "finished": status.finished_at,
    }


@app.command()
def submit(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="An Argo Workflow manifest (YAML or JSON).", metavar="FILE")
    ],
    wait: WaitOption = False,
    output: OptionalOutputOption = None,
) -> None:
    """Submit a workflow manifest and print the workflow's name."""
    runner = active_runner(ctx)
    submitted = _submit_file(runner, file)
    report_submission(runner, active_profile(ctx), submitted, wait=wait, output=output)


@app.command()
def get(ctx: typer.Context, name: NameArgument, output: OptionalOutputOption = None) -> None:
    """Show a workflow's phase, progress, failed steps, first failed assets and what
    finish-collection did (extent, removals)."""
    runner = active_runner(ctx)
    status = runner.get(name)
    report = read_run_report(runner, active_profile(ctx), name, limit=SHOWN_ERRORS)
    if output is None or output is OutputFormat.TABLE:
        data = _summary(status)
        data["message"] = status.message or None
        data["failed"] = status.failure_messages() or None
        if report is not None:
            data["assets"] = "; ".join(c.summary() for c in report.collections) or None
            finished = [line for c in report.collections for line in c.lines()[1:]]
            data["finished"] = "; ".join(finished) or None
            data["failed_assets"] = report.failed
        print_result(data, OutputFormat.TABLE)
        if report is not None and report.errors:
            print()
            print_result(report.to_json()["errors"], OutputFormat.TABLE)
    else:
        data = status.to_json()
        if report is not None:
            report_json = report.to_json()
            data |= {k: report_json[k] for k in ("collections", "failed")}
            data["asset_errors"] = report_json["errors"]
        print_result(data, output)


@app.command()
def errors(
    ctx: typer.Context,
    name: NameArgument,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="At most N failed assets.", metavar="N")
    ] = None,
    output: OptionalOutputOption = None,
) -> None:
    """List a run's failed assets and why, as of each chunk's last try."""
    from etl.runner.run_report import run_report

    report = run_report(active_runner(ctx), active_profile(ctx), name, limit=limit)
    if output is None or output is OutputFormat.TABLE:
        for collection in report.collections:
            print(collection.summary(), file=sys.stderr)
        print_result(report.to_json()["errors"], OutputFormat.TABLE)
    else:
        print_result(report.to_json(), output)


@app.command("list")
def list_(
    ctx: typer.Context, limit: ListLimitOption = None, output: OptionalOutputOption = None
) -> None:
    """List workflows, newest first; a local run whose record cannot be read is listed Error,
    with a warning naming its file."""
    from etl.runner.records import UNREADABLE_RECORD

    statuses = active_runner(ctx).list(limit=limit)
    for status in statuses:
        if UNREADABLE_RECORD in status.message:
            warn(f"{status.name}: {status.message}")
    if output is None or output is OutputFormat.TABLE:
        print_result([_summary(status) for status in statuses], OutputFormat.TABLE)
    else:
        print_result([status.to_json() for status in statuses], output)


@app.command()
def watch(ctx: typer.Context, name: NameArgument) -> None:
    """Follow a workflow to its end: exit 0 if it Succeeded, 1 otherwise."""
    wait_and_report(active_runner(ctx), active_profile(ctx), name)


@app.command()
def logs(
    ctx: typer.Context,
    name: NameArgument,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing until the workflow ends.")
    ] = False,
) -> None:
    """Print the workflow's pods' output, each line prefixed by its pod; a pod that is gone
    (on Argo, every pod that succeeded) is read from the log etl-task kept in the run's storage."""
    from etl.runner.pod_logs import workflow_logs

    lines = workflow_logs(active_runner(ctx), active_profile(ctx), name, follow=follow, warn=warn)
    for line in lines:
        print(f"{line.pod}: {line.content}", flush=follow)


@app.command()
def stop(ctx: typer.Context, name: NameArgument) -> None:
    """Stop a running workflow (its exit handlers still run).

    Prints the phase once the stop has taken effect (with why, if it ended Error: a local
    run whose runner is gone), or `NAME: stopping` if the workflow is still ending after a few
    seconds.
    """
    from etl.core.runners import WorkflowPhase

    status = active_runner(ctx).stop(name)
    if not status.finished:
        print(f"{status.name}: stopping")
        return
    reason = f": {status.message}" if status.phase is WorkflowPhase.ERROR else ""
    print(f"{status.name}: {status.phase.value}{reason}")


@app.command()
def retry(ctx: typer.Context, name: NameArgument, wait: WaitOption = False) -> None:
    """Run a Failed or Error workflow again from its failed steps.

    With --wait (always on the local runner, which retries in the foreground) the retried
    workflow's end decides the exit code: 0 if it Succeeded, 1 otherwise.
    """
    runner = active_runner(ctx)
    status = runner.retry(name)
    print(f"{status.name}: {status.phase.value}", flush=True)
    if wait or runner.runs_to_completion:
        wait_and_report(runner, active_profile(ctx), name)
