"""``etl workflow``: submit a workflow manifest and follow, inspect, stop or retry workflows.

Every command talks to the active profile's runner through :class:`etl.core.runners.WorkflowRunner`, so
the same commands work against an Argo Server and the local runner's records of its runs. Results go
to stdout; progress and failed steps' messages go to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from etl.cli.options import LimitOption, command_group
from etl.cli.output import OutputFormat, print_result
from etl.cli.state import active_profile

if TYPE_CHECKING:
    from etl.core.profiles import Profile
    from etl.core.runners import WorkflowRunner, WorkflowStatus

__all__ = ["app", "open_runner", "submit_and_report", "wait_and_report"]

app = command_group("Submit workflows and follow them on the active profile's runner.")

NameArgument = Annotated[str, typer.Argument(help="The workflow's name.", metavar="NAME")]
OptionalOutput = Annotated[
    OutputFormat | None,
    typer.Option("--output", "-o", help="Result format; json is stable for scripts."),
]


def open_runner(profile: Profile) -> WorkflowRunner:
    """The runner of ``profile``: its Argo Server, or the local runner and its records.

    The built-in ``local`` profile talks to Argo when the environment names an Argo Server
    (``ETL_ARGO_SERVER`` or ``ARGO_SERVER``), so that a CI job needs nothing but variables.

    Raises:
        ProfileError: the profile's runner is argo but names no server.
    """
    from etl.core.profiles import BUILTIN_PROFILE, RunnerKind

    if profile.runner is RunnerKind.ARGO or (
        profile.name == BUILTIN_PROFILE and profile.argo.server
    ):
        from etl.argo import ArgoClient

        return ArgoClient.from_profile(profile)
    from etl.runner import local_runner_for

    return local_runner_for(profile)


def submit_and_report(
    runner: WorkflowRunner,
    manifest: Mapping[str, Any],
    *,
    wait: bool,
    output: OutputFormat | None,
) -> None:
    """Submit ``manifest``; print the name (or, with ``output``, the result once known).

    With ``wait`` — and always on the local runner, which runs the workflow before it returns —
    the workflow's end decides the exit: a Failed or Error workflow raises after the result is out.

    Raises:
        WorkflowFailedError: the workflow was followed to its end and did not succeed.
    """
    from etl.core.errors import WorkflowFailedError

    submitted = runner.submit(manifest)
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
    submit_and_report(
        open_runner(active_profile(ctx)), _load_manifest(file), wait=wait, output=output
    )


@app.command()
def get(ctx: typer.Context, name: NameArgument, output: OptionalOutput = None) -> None:
    """Show a workflow's phase, progress and failed steps."""
    status = open_runner(active_profile(ctx)).get(name)
    if output is None or output is OutputFormat.TABLE:
        data = _summary(status)
        data["message"] = status.message or None
        data["failed"] = status.failure_messages() or None
        print_result(data, OutputFormat.TABLE)
    else:
        print_result(status.to_json(), output)


@app.command("list")
def list_(ctx: typer.Context, limit: LimitOption = None, output: OptionalOutput = None) -> None:
    """List workflows, newest first."""
    statuses = open_runner(active_profile(ctx)).list(limit=limit)
    if output is None or output is OutputFormat.TABLE:
        print_result([_summary(status) for status in statuses], OutputFormat.TABLE)
    else:
        print_result([status.to_json() for status in statuses], output)


@app.command()
def watch(ctx: typer.Context, name: NameArgument) -> None:
    """Follow a workflow to its end: exit 0 if it Succeeded, 1 otherwise."""
    wait_and_report(open_runner(active_profile(ctx)), name)


@app.command()
def logs(
    ctx: typer.Context,
    name: NameArgument,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing until the workflow ends.")
    ] = False,
) -> None:
    """Print the workflow's pods' output, each line prefixed by its pod."""
    for line in open_runner(active_profile(ctx)).logs(name, follow=follow):
        print(f"{line.pod}: {line.content}", flush=follow)


@app.command()
def stop(ctx: typer.Context, name: NameArgument) -> None:
    """Stop a running workflow (its exit handlers still run)."""
    status = open_runner(active_profile(ctx)).stop(name)
    print(f"{status.name}: {status.phase.value}")


@app.command()
def retry(ctx: typer.Context, name: NameArgument) -> None:
    """Run a Failed or Error workflow again from its failed steps."""
    status = open_runner(active_profile(ctx)).retry(name)
    print(f"{status.name}: {status.phase.value}")
