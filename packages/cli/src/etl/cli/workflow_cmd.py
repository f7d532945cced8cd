"""``etl workflow``: submit a workflow manifest and follow, inspect, stop or retry workflows.

Every command talks to the active profile's runner (:func:`etl.runner.runner_for`) through
:class:`etl.core.runners.WorkflowRunner`, so the same commands work against an Argo Server and the
local runner's records of its runs. Results go to stdout; progress and failed steps' messages go to
stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from etl.cli.follow import report_submission, wait_and_report
from etl.cli.options import choices_metavar, command_group
from etl.cli.output import OutputFormat, print_result
from etl.cli.state import active_runner

if TYPE_CHECKING:
    from etl.core.runners import WorkflowStatus

__all__ = ["app"]

app = command_group("Submit workflows and follow them on the active profile's runner.")

NameArgument = Annotated[str, typer.Argument(help="The workflow's name.", metavar="NAME")]
OptionalOutput = Annotated[
    OutputFormat | None,
    typer.Option(
        "--output",
        "-o",
        help="Result format; json is stable for scripts.",
        metavar=choices_metavar(OutputFormat),
    ),
]
ListLimitOption = Annotated[
    int | None,
    typer.Option("--limit", min=1, help="At most N workflows, the newest.", metavar="N"),
]


def _load_manifest(path: Path) -> dict[str, object]:
    from etl.core.located_yaml import load_located_yaml

    doc = load_located_yaml(path)
    if not isinstance(doc.data, dict):
        raise doc.error((), "expected an Argo Workflow manifest (a mapping)")
    if doc.data.get("kind") != "Workflow":
        raise doc.error(("kind",), f"expected kind Workflow, got {doc.data.get('kind')!r}")
    return doc.data


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
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for the end: exit 0 if Succeeded, 1 otherwise.")
    ] = False,
    output: OptionalOutput = None,
) -> None:
    """Submit a workflow manifest and print the workflow's name."""
    runner = active_runner(ctx)
    report_submission(runner, runner.submit(_load_manifest(file)), wait=wait, output=output)


@app.command()
def get(ctx: typer.Context, name: NameArgument, output: OptionalOutput = None) -> None:
    """Show a workflow's phase, progress and failed steps."""
    status = active_runner(ctx).get(name)
    if output is None or output is OutputFormat.TABLE:
        data = _summary(status)
        data["message"] = status.message or None
        data["failed"] = status.failure_messages() or None
        print_result(data, OutputFormat.TABLE)
    else:
        print_result(status.to_json(), output)


@app.command("list")
def list_(ctx: typer.Context, limit: ListLimitOption = None, output: OptionalOutput = None) -> None:
    """List workflows, newest first."""
    statuses = active_runner(ctx).list(limit=limit)
    if output is None or output is OutputFormat.TABLE:
        print_result([_summary(status) for status in statuses], OutputFormat.TABLE)
    else:
        print_result([status.to_json() for status in statuses], output)


@app.command()
def watch(ctx: typer.Context, name: NameArgument) -> None:
    """Follow a workflow to its end: exit 0 if it Succeeded, 1 otherwise."""
    wait_and_report(active_runner(ctx), name)


@app.command()
def logs(
    ctx: typer.Context,
    name: NameArgument,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing until the workflow ends.")
    ] = False,
) -> None:
    """Print the workflow's pods' output, each line prefixed by its pod."""
    for line in active_runner(ctx).logs(name, follow=follow):
        print(f"{line.pod}: {line.content}", flush=follow)


@app.command()
def stop(ctx: typer.Context, name: NameArgument) -> None:
    """Stop a running workflow (its exit handlers still run)."""
    status = active_runner(ctx).stop(name)
    print(f"{status.name}: {status.phase.value}")


@app.command()
def retry(ctx: typer.Context, name: NameArgument) -> None:
    """Run a Failed or Error workflow again from its failed steps."""
    status = active_runner(ctx).retry(name)
    print(f"{status.name}: {status.phase.value}")
