"""``etl workflow``: submit a workflow manifest and follow, inspect, stop or retry workflows.

Every command talks to the active profile's runner (:func:`etl.runner.runner_for`) through
:class:`etl.runner.workflow_runner.WorkflowRunner`, so the same commands work against an Argo Server and the
local runner's records of its runs. Results go to stdout; progress and failed steps' messages go to
stderr. ``get`` and ``errors`` also read the run's per-asset failures from its chunk storage
(:func:`etl.runner.run_report`), with the profile's storage credentials.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from etl.cli.completion import complete_workflows
from etl.cli.follow import (
    SHOWN_ERRORS,
    print_run_page,
    report_submission,
    wait_and_report,
    warn_if_unreadable,
)
from etl.cli.options import OptionalOutputOption, command_group
from etl.cli.output import OutputFormat, machine_format, print_outcome, print_result, warn
from etl.cli.run_views import matches, parse_age, parse_phases, print_get_table, summary_row
from etl.cli.state import active_profile, active_runner

if TYPE_CHECKING:
    from etl.runner.workflow_runner import WorkflowRunner
    from etl.runner.workflow_status import SubmittedWorkflow

__all__ = ["app"]

app = command_group("Submit workflows and follow them on the active profile's runner.")

NameArgument = Annotated[
    str,
    typer.Argument(help="The workflow's name.", metavar="NAME", autocompletion=complete_workflows),
]
ListLimitOption = Annotated[
    int | None,
    typer.Option("--limit", min=1, help="At most N workflows, the newest.", metavar="N"),
]
WaitOption = Annotated[
    bool, typer.Option("--wait", help="Wait for the end: exit 0 if Succeeded, 1 otherwise.")
]


def _submit_file(runner: WorkflowRunner, path: Path) -> SubmittedWorkflow:
    """Submit the manifest in ``path``; a field the runner refuses is located in the file."""
    from etl.core.located_yaml import load_located_yaml
    from etl.runner.argo_server.manifest_models import ManifestFieldError

    doc = load_located_yaml(path)
    if not isinstance(doc.data, dict):
        raise doc.error((), "expected an Argo Workflow manifest (a mapping)")
    if doc.data.get("kind") != "Workflow":
        raise doc.error(("kind",), f"expected kind Workflow, got {doc.data.get('kind')!r}")
    try:
        return runner.submit(doc.data)
    except ManifestFieldError as exc:
        raise doc.error(exc.field_path, exc.reason, key=True) from None


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
    """Show a workflow's phase, start, end and duration, then its failed steps, what
    finish-collection did (extent, removals) and its first failed assets."""
    from etl.runner.following import run_end

    ended = run_end(active_runner(ctx), active_profile(ctx), name, limit=SHOWN_ERRORS)
    warn_if_unreadable(ended)
    status, report = ended.status, ended.report
    if output is None or output is OutputFormat.TABLE:
        print_get_table(status, report)
        print_run_page(active_profile(ctx), name)
        return
    data = status.to_json() | {"duration_seconds": status.duration_seconds()}
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
    ctx: typer.Context,
    *,
    limit: ListLimitOption = None,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            help="Only workflows in this phase (repeatable, or a comma list): Pending, Running, "
            "Succeeded, Failed, Error.",
            metavar="PHASE",
            show_default=False,
        ),
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(
            "--dataset", help="Only the runs of this dataset id.", metavar="ID", show_default=False
        ),
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(
            "--since",
            parser=parse_age,
            help="Only workflows started since: a duration back from now (30m, 2h, 1d) or an "
            "ISO-8601 date or time.",
            metavar="DURATION|ISO-8601",
            show_default=False,
        ),
    ] = None,
    output: OptionalOutputOption = None,
) -> None:
    """List workflows, newest submitted first, with their duration; a local run whose record
    cannot be read is listed Error, with a warning naming its file."""
    from etl.runner.records import UNREADABLE_RECORD

    phases = parse_phases(status)
    filtered = bool(phases) or dataset is not None or since is not None
    statuses = [
        found
        for found in active_runner(ctx).list(limit=None if filtered else limit)
        if matches(found, phases=phases, dataset=dataset, since=since)
    ][:limit]
    for found in statuses:
        if UNREADABLE_RECORD in found.message:
            warn(f"{found.name}: {found.message}")
    if output is None or output is OutputFormat.TABLE:
        print_result([summary_row(found) for found in statuses], OutputFormat.TABLE)
    else:
        print_result([found.to_json() for found in statuses], output)


@app.command()
def watch(ctx: typer.Context, name: NameArgument, output: OptionalOutputOption = None) -> None:
    """Follow a workflow to its end: exit 0 if it Succeeded, 1 otherwise (with -o, its final
    status as `get -o` prints it)."""
    runner = active_runner(ctx)
    try:
        wait_and_report(runner, active_profile(ctx), name)
    finally:
        if (machine := machine_format(output)) is not None:
            print_result(runner.get(name).to_json(), machine)


@app.command()
def logs(
    ctx: typer.Context,
    name: NameArgument,
    pod: Annotated[
        str | None,
        typer.Argument(
            help="Only this pod (a name `etl workflow logs NAME` prefixes lines with).",
            metavar="POD",
            show_default=False,
        ),
    ] = None,
    *,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing until the workflow ends.")
    ] = False,
    step: Annotated[
        str | None,
        typer.Option(
            "--step",
            help="Only the pods of this step (e.g. process-chunks, finish-collection).",
            metavar="NAME",
            show_default=False,
        ),
    ] = None,
    tail: Annotated[
        int | None,
        typer.Option(
            "--tail",
            min=0,
            help="Only the last N lines of each pod.",
            metavar="N",
            show_default=False,
        ),
    ] = None,
    output: OptionalOutputOption = None,
) -> None:
    """Print the workflow's pods' output, each line prefixed by its pod; a pod that is gone
    (on Argo, every pod that succeeded) is read from the log etl-task kept in the run's storage.
    The pods' progress reports (counts etl reads) are left out; with -o json, one
    {"pod", "content"} object a line."""
    from etl.cli.log_view import print_log_lines
    from etl.runner.pod_logs import workflow_logs

    lines = workflow_logs(active_runner(ctx), active_profile(ctx), name, follow=follow, warn=warn)
    print_log_lines(lines, pod=pod, step=step, tail=tail, follow=follow, output=output)


@app.command()
def stop(ctx: typer.Context, name: NameArgument, output: OptionalOutputOption = None) -> None:
    """Stop a running workflow (its exit handlers still run).

    Prints the phase once the stop has taken effect (with why, if it ended Error: a local
    run whose runner is gone), or `NAME: stopping` if the workflow is still ending after a few
    seconds.
    """
    from etl.runner.workflow_status import WorkflowPhase

    status = active_runner(ctx).stop(name)
    reason = f": {status.message}" if status.phase is WorkflowPhase.ERROR else ""
    said = f"{status.name}: {status.phase.value}{reason}" if status.finished else None
    print_outcome(said or f"{status.name}: stopping", status.to_json(), output)


@app.command()
def retry(
    ctx: typer.Context,
    name: NameArgument,
    wait: WaitOption = False,
    output: OptionalOutputOption = None,
) -> None:
    """Run a Failed or Error workflow again from its failed steps.

    With --wait (always on the local runner, which retries in the foreground) the retried
    workflow's end decides the exit code: 0 if it Succeeded, 1 otherwise. With -o, the
    workflow's status (once it ended, when followed) as `get -o` prints it.
    """
    runner = active_runner(ctx)
    status = runner.retry(name)
    machine = machine_format(output)
    if machine is None:
        print(f"{status.name}: {status.phase.value}", flush=True)
    try:
        if wait or runner.runs_to_completion:
            wait_and_report(runner, active_profile(ctx), name)
    finally:
        if machine is not None:
            print_result(runner.get(name).to_json(), machine)
