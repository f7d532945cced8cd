"""``etl dataset render | create-chunks | process-items | ingest-collection``.

Each compiles the dataset to an Argo manifest (:func:`etl.runner.work.prepare_dataset_work`).
``render`` and the work commands without ``--submit`` print it on stdout and nothing else
(``--upload-bundle`` uploads the code bundle first, for a manifest applied with ``kubectl``); with
``--submit`` the code bundle is uploaded and the manifest goes to the active profile's runner
(:func:`etl.runner.work.submit_work`), or, with ``--schedule``, the ``CronWorkflow`` is created
or updated on the Argo Server (:func:`etl.cli.cron_cmd.schedule_work`). See ``docs/argo.md``.
The commands join the ``etl dataset`` group (:mod:`etl.cli.dataset_cmd`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from etl.argo.options import WorkflowCommand
from etl.cli.follow import submit_and_report
from etl.cli.missing_options import (
    MaxRemovalsOption,
    RemoveMissingOption,
    ReportMissingOption,
    missing_mode,
)
from etl.cli.options import (
    ArgOption,
    CollectionOption,
    DatasetOption,
    LimitOption,
    SubmitOption,
    WaitOption,
    WorkOutput,
    choices_metavar,
    command_group,
)
from etl.cli.output import ManifestOutput, print_manifest
from etl.cli.selection import load_selection
from etl.cli.state import active_profile, active_runner
from etl.core.pod_contract import StacValidationMode

if TYPE_CHECKING:
    from etl.runner.work import PreparedWork

__all__ = ["app"]

app = command_group("The work commands of a dataset.yaml.")

CommandOption = Annotated[
    WorkflowCommand,
    typer.Option(
        "--command",
        help="Which workflow to render.",
        metavar=choices_metavar(WorkflowCommand),
        show_default=True,
    ),
]
RenderOutput = Annotated[
    ManifestOutput,
    typer.Option(
        "--output",
        "-o",
        help="Manifest format.",
        metavar=choices_metavar(ManifestOutput),
        show_default=True,
    ),
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
        help="process-items only: a CronWorkflow running on this cron schedule (e.g. '0 3 * * *'); "
        "with --submit it is created, or updated, on the Argo Server.",
        metavar="CRON",
    ),
]
TimezoneOption = Annotated[
    str | None,
    typer.Option(
        "--timezone",
        help="With --schedule: the IANA time zone it is read in (e.g. Europe/Paris; default UTC).",
        metavar="ZONE",
    ),
]
StacValidationOption = Annotated[
    StacValidationMode | None,
    typer.Option(
        "--stac-validation",
        help="Validate the items against the STAC schemas, core and extensions (default: each "
        "collection's stac_validation, off): every item, a sample, or none; a failure fails its "
        "asset.",
        metavar=choices_metavar(StacValidationMode),
    ),
]
UploadBundleOption = Annotated[
    bool,
    typer.Option(
        "--upload-bundle",
        help="Without --submit: upload the code bundle the manifest's pods read, then print the "
        "manifest (for `kubectl apply -f -`).",
    ),
]


def _prepare(
    ctx: typer.Context,
    command: WorkflowCommand,
    dataset: Path,
    collection: list[str] | None,
    arg: list[str] | None,
    *,
    limit: int | None = None,
    since: str | None = None,
    schedule: str | None = None,
    timezone: str | None = None,
    missing: str | None = None,
    max_removals: str | None = None,
    stac_validation: str | None = None,
) -> PreparedWork:
    from etl.runner.work import prepare_dataset_work

    loaded, _ = load_selection(ctx, dataset, collection, arg)
    return prepare_dataset_work(
        loaded,
        command,
        active_profile(ctx),
        collections=collection or None,
        limit=limit,
        since=since,
        schedule=schedule,
        timezone=timezone,
        missing=missing,
        max_removals=max_removals,
        stac_validation=stac_validation,
    )


def _note_bundle_not_uploaded(work: PreparedWork) -> None:
    """A CronWorkflow printed for ``kubectl apply`` runs later: say its bundle is not uploaded."""
    if work.bundle is None or work.manifest.get("kind") != "CronWorkflow":
        return
    print(
        f"note: the CronWorkflow's pods read {work.bundle.dataset_uri}, which this command does "
        "not upload: `etl dataset process-items --schedule ... --upload-bundle` uploads it and "
        "prints the same manifest; `--submit` instead of `--upload-bundle` also creates the "
        "CronWorkflow",
        file=sys.stderr,
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
    limit: int | None = None,
    since: str | None = None,
    schedule: str | None = None,
    timezone: str | None = None,
    upload_bundle: bool = False,
    missing: str | None = None,
    max_removals: str | None = None,
    stac_validation: str | None = None,
) -> None:
    if wait and not submit:
        raise typer.BadParameter("--wait needs --submit", param_hint="--wait")
    if wait and schedule is not None:
        raise typer.BadParameter(
            "--wait is for a Workflow; a CronWorkflow starts one at each scheduled time "
            "(follow those with `etl workflow list` and `etl workflow watch`)",
            param_hint="--wait",
        )
    runner = active_runner(ctx) if submit else None
    cron_client = None
    if runner is not None and schedule is not None:
        from etl.cli.cron_cmd import argo_client_for_cron

        cron_client = argo_client_for_cron(runner, "--schedule with --submit")
    elif runner is not None:
        runner.prepare()  # the local runner warms its task server while the dataset compiles
    work = _prepare(
        ctx,
        command,
        dataset,
        collection,
        arg,
        limit=limit,
        since=since,
        schedule=schedule,
        timezone=timezone,
        missing=missing,
        max_removals=max_removals,
        stac_validation=stac_validation,
    )
    if runner is None:
        if upload_bundle and work.bundle is not None:
            from etl.argo import upload_bundle as upload

            print(f"uploading the code bundle to {work.bundle.uri}", file=sys.stderr, flush=True)
            upload(work.bundle, active_profile(ctx))
        elif not upload_bundle:
            _note_bundle_not_uploaded(work)
        print_manifest(work.manifest, output or ManifestOutput.YAML)
        return
    if cron_client is not None:
        from etl.cli.cron_cmd import schedule_work

        schedule_work(work, cron_client, active_profile(ctx), output=output)
        return
    submit_and_report(work, runner, active_profile(ctx), wait=wait, output=output)


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
    timezone: TimezoneOption = None,
    output: RenderOutput = ManifestOutput.YAML,
) -> None:
    """Print the Argo Workflow manifest that would be submitted (nothing else on stdout).

    With --limit, --since or --schedule it is what the work command submits with the same options.
    """
    work = _prepare(
        ctx,
        command,
        dataset,
        collection,
        arg,
        limit=limit,
        since=since,
        schedule=schedule,
        timezone=timezone,
    )
    _note_bundle_not_uploaded(work)
    print_manifest(work.manifest, output)


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
    timezone: TimezoneOption = None,
    remove_missing: RemoveMissingOption = False,
    report_missing: ReportMissingOption = False,
    max_removals: MaxRemovalsOption = None,
    stac_validation: StacValidationOption = None,
    submit: SubmitOption = False,
    wait: WaitOption = False,
    upload_bundle: UploadBundleOption = False,
    output: WorkOutput = None,
) -> None:
    """Make the items of every asset and load them into PgSTAC (collection first).

    With --schedule it is a CronWorkflow: printed, or with --submit created (or updated, by
    name) on the Argo Server with its code bundle uploaded.
    """
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
        timezone=timezone,
        upload_bundle=upload_bundle,
        missing=missing_mode(remove_missing, report_missing),
        max_removals=max_removals,
        stac_validation=stac_validation.value if stac_validation else None,
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
    upload_bundle: UploadBundleOption = False,
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
        upload_bundle=upload_bundle,
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
    upload_bundle: UploadBundleOption = False,
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
        upload_bundle=upload_bundle,
    )
