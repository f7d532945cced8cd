"""``etl dataset render | create-chunks | process-items | ingest-collection``.

Each compiles the dataset to an Argo manifest (``etl.argo.compile_workflow``). ``render`` and the
work commands without ``--submit`` print it on stdout and nothing else; with ``--submit`` the code
bundle is uploaded and the manifest goes to the active profile's runner. See ``docs/argo.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from etl.argo.compile_options import WorkflowCommand
from etl.cli.dataset_cmd import app, load_selection
from etl.cli.options import (
    ArgOption,
    CollectionOption,
    DatasetOption,
    LimitOption,
    SubmitOption,
    WaitOption,
    WorkOutput,
)
from etl.cli.output import ManifestOutput, OutputFormat, print_manifest
from etl.cli.state import active_profile

if TYPE_CHECKING:
    from etl.argo import CodeBundle
    from etl.core.runners import WorkflowRunner

__all__ = ["create_chunks", "ingest_collection", "process_items", "render"]

CommandOption = Annotated[
    WorkflowCommand,
    typer.Option("--command", help="Which workflow to render.", show_default=True),
]
RenderOutput = Annotated[
    ManifestOutput, typer.Option("--output", "-o", help="Manifest format.", show_default=True)
]
WorkSinceOption = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Only assets modified since this ISO-8601 date or time, or 'last-success': since "
        "the start of the collection's last successful process-items run.",
        metavar="ISO-8601|last-success",
    ),
]
ScheduleOption = Annotated[
    str | None,
    typer.Option(
        "--schedule",
        help="process-items only: a CronWorkflow running on this cron schedule (e.g. '0 3 * * *').",
        metavar="CRON",
    ),
]


def _compile(
    ctx: typer.Context,
    command: WorkflowCommand,
    dataset: Path,
    collection: list[str] | None,
    arg: list[str] | None,
    **options: Any,
) -> tuple[dict[str, Any], CodeBundle]:
    from etl.argo import compile_workflow, plan_bundle

    profile = active_profile(ctx)
    loaded, _ = load_selection(ctx, dataset, collection, arg)
    bundle = plan_bundle(loaded, profile)
    manifest = compile_workflow(
        loaded, command, profile, collections=collection or None, bundle=bundle, **options
    )
    return manifest, bundle


def _submit(
    ctx: typer.Context,
    runner: WorkflowRunner,
    manifest: dict[str, Any],
    bundle: CodeBundle,
    *,
    wait: bool,
    output: ManifestOutput | None,
) -> None:
    from etl.argo import upload_bundle
    from etl.cli.workflow_cmd import submit_and_report
    from etl.core.errors import InputError

    if manifest["kind"] != "Workflow":
        raise InputError(
            "--schedule with --submit: the runners start Workflows only; render the CronWorkflow "
            "and create it with `kubectl apply -f -` or `argo cron create`"
        )
    profile = active_profile(ctx)
    print(f"uploading the code bundle to {bundle.uri}", file=sys.stderr)
    upload_bundle(bundle, profile)
    submit_and_report(
        runner,
        manifest,
        wait=wait,
        output=OutputFormat(output.value) if output is not None else None,
    )


def _work(
    ctx: typer.Context,
    command: WorkflowCommand,
    dataset: Path,
    collection: list[str] | None,
    arg: list[str] | None,
    *,
    submit: bool,
    wait: bool,
    output: ManifestOutput | None,
    **options: Any,
) -> None:
    if wait and not submit:
        raise typer.BadParameter("--wait needs --submit", param_hint="--wait")
    if submit:
        from etl.cli.workflow_cmd import open_runner

        runner = open_runner(active_profile(ctx))
        runner.prepare()
        manifest, bundle = _compile(ctx, command, dataset, collection, arg, **options)
        _submit(ctx, runner, manifest, bundle, wait=wait, output=output)
    else:
        manifest, bundle = _compile(ctx, command, dataset, collection, arg, **options)
        print_manifest(manifest, output or ManifestOutput.YAML)


@app.command()
def render(
    ctx: typer.Context,
    *,
    dataset: DatasetOption = Path("."),
    collection: CollectionOption = None,
    arg: ArgOption = None,
    command: CommandOption = WorkflowCommand.PROCESS_ITEMS,
    limit: LimitOption = None,
    since: WorkSinceOption = None,
    schedule: ScheduleOption = None,
    output: RenderOutput = ManifestOutput.YAML,
) -> None:
    """Print the Argo Workflow manifest that would be submitted (nothing else on stdout).

    With --limit, --since or --schedule it is what the work command submits with the same options.
    """
    manifest, _ = _compile(
        ctx, command, dataset, collection, arg, limit=limit, since=since, schedule=schedule
    )
    print_manifest(manifest, output)


@app.command("process-items")
def process_items(
    ctx: typer.Context,
    *,
    dataset: DatasetOption = Path("."),
    collection: CollectionOption = None,
    arg: ArgOption = None,
    limit: LimitOption = None,
    since: WorkSinceOption = None,
    schedule: ScheduleOption = None,
    submit: SubmitOption = False,
    wait: WaitOption = False,
    output: WorkOutput = None,
) -> None:
    """Make the items of every asset and load them into PgSTAC (collection first)."""
    _work(
        ctx,
        WorkflowCommand.PROCESS_ITEMS,
        dataset,
        collection,
        arg,
        submit=submit,
        wait=wait,
        output=output,
        limit=limit,
        since=since,
        schedule=schedule,
    )


@app.command("create-chunks")
def create_chunks(
    ctx: typer.Context,
    *,
    dataset: DatasetOption = Path("."),
    collection: CollectionOption = None,
    arg: ArgOption = None,
    limit: LimitOption = None,
    since: WorkSinceOption = None,
    submit: SubmitOption = False,
    wait: WaitOption = False,
    output: WorkOutput = None,
) -> None:
    """List the assets into chunk files in each collection's chunk storage."""
    _work(
        ctx,
        WorkflowCommand.CREATE_CHUNKS,
        dataset,
        collection,
        arg,
        submit=submit,
        wait=wait,
        output=output,
        limit=limit,
        since=since,
    )


@app.command("ingest-collection")
def ingest_collection(
    ctx: typer.Context,
    *,
    dataset: DatasetOption = Path("."),
    collection: CollectionOption = None,
    arg: ArgOption = None,
    submit: SubmitOption = False,
    wait: WaitOption = False,
    output: WorkOutput = None,
) -> None:
    """Create or update each collection in PgSTAC from its template."""
    _work(
        ctx,
        WorkflowCommand.INGEST_COLLECTION,
        dataset,
        collection,
        arg,
        submit=submit,
        wait=wait,
        output=output,
    )
