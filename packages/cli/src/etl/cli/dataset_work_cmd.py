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

from etl.argo.options import RunRequest, WorkflowCommand
from etl.cli.follow import submit_and_report
from etl.cli.options import (
    ArgOption,
    CollectionOption,
    DatasetOption,
    SubmitOption,
    WaitOption,
    WorkOutput,
    choices_metavar,
    command_group,
)
from etl.cli.output import ManifestOutput, print_manifest
from etl.cli.run_request_options import takes_run_request
from etl.cli.selection import load_selection
from etl.cli.state import active_profile, active_runner

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
UploadBundleOption = Annotated[
    bool,
    typer.Option(
        "--upload-bundle",
        help="Without --submit: upload the code bundle the manifest's pods read, then print the "
        "manifest (for `kubectl apply -f -`).",
    ),
]


def _prepare(
    ctx: typer.Context, request: RunRequest, dataset: Path, arg: list[str] | None
) -> PreparedWork:
    from etl.runner.work import prepare_dataset_work

    loaded, _ = load_selection(ctx, dataset, list(request.collections or ()) or None, arg)
    return prepare_dataset_work(loaded, request, active_profile(ctx))


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
    request: RunRequest,
    dataset: Path,
    arg: list[str] | None,
    *,
    submit: bool,
    wait: bool,
    output: ManifestOutput | None,
    upload_bundle: bool = False,
) -> None:
    if wait and not submit:
        raise typer.BadParameter("--wait needs --submit", param_hint="--wait")
    if wait and request.schedule is not None:
        raise typer.BadParameter(
            "--wait is for a Workflow; a CronWorkflow starts one at each scheduled time "
            "(follow those with `etl workflow list` and `etl workflow watch`)",
            param_hint="--wait",
        )
    runner = active_runner(ctx) if submit else None
    cron_client = None
    if runner is not None and request.schedule is not None:
        from etl.cli.cron_cmd import argo_client_for_cron

        cron_client = argo_client_for_cron(runner, "--schedule with --submit")
    elif runner is not None:
        runner.prepare()  # the local runner warms its task server while the dataset compiles
    work = _prepare(ctx, request, dataset, arg)
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
@takes_run_request(None)
def render(
    ctx: typer.Context,
    *,
    dataset: DatasetOption = Path("."),
    collection: CollectionOption = None,
    arg: ArgOption = None,
    command: CommandOption = WorkflowCommand.PROCESS_ITEMS,
    request: RunRequest,
    output: RenderOutput = ManifestOutput.YAML,
) -> None:
    """Print the Argo Workflow manifest that would be submitted (nothing else on stdout).

    With the work commands' options (--limit, --since, --schedule, --remove-missing, ...) it is
    what the --command submits with the same options.
    """
    work = _prepare(ctx, request, dataset, arg)
    _note_bundle_not_uploaded(work)
    print_manifest(work.manifest, output)


@app.command("process-items")
@takes_run_request(WorkflowCommand.PROCESS_ITEMS)
def process_items(
    ctx: typer.Context,
    *,
    dataset: DatasetOption = Path("."),
    collection: CollectionOption = None,
    arg: ArgOption = None,
    request: RunRequest,
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
        request,
        dataset,
        arg,
        submit=submit,
        wait=wait,
        output=output,
        upload_bundle=upload_bundle,
    )


@app.command("create-chunks")
@takes_run_request(WorkflowCommand.CREATE_CHUNKS)
def create_chunks(
    ctx: typer.Context,
    *,
    dataset: DatasetOption = Path("."),
    collection: CollectionOption = None,
    arg: ArgOption = None,
    request: RunRequest,
    submit: SubmitOption = False,
    wait: WaitOption = False,
    upload_bundle: UploadBundleOption = False,
    output: WorkOutput = None,
) -> None:
    """List the assets into chunk files in each collection's chunk storage."""
    _work(
        ctx,
        request,
        dataset,
        arg,
        submit=submit,
        wait=wait,
        output=output,
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
    request = RunRequest(
        WorkflowCommand.INGEST_COLLECTION, tuple(collection) if collection else None
    )
    _work(
        ctx,
        request,
        dataset,
        arg,
        submit=submit,
        wait=wait,
        output=output,
        upload_bundle=upload_bundle,
    )
