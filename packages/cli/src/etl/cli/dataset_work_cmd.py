"""``etl dataset render | create-chunks | process-items | ingest-collection``.

Each parses its options into one :class:`etl.argo.RunRequest` (:mod:`etl.cli.run_request_options`)
and makes one call, :func:`etl.runner.app.run_dataset_work`, which compiles the dataset to an Argo
manifest and, with ``--submit``, uploads the code bundle and submits it to the active profile's
runner, or, with ``--schedule``, creates or updates the ``CronWorkflow`` on the Argo Server.
``render`` and the work commands without ``--submit`` print the manifest on stdout and nothing
else (``--upload-bundle`` uploads the code bundle first, for a manifest applied with ``kubectl``).
See ``docs/argo.md``.
The commands join the ``etl dataset`` group (:mod:`etl.cli.dataset_cmd`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from etl.argo.options import RunRequest, WorkflowCommand
from etl.cli.follow import following, print_progress_line, print_submission
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
from etl.cli.output import ManifestOutput, OutputFormat, print_manifest, print_result
from etl.cli.run_request_options import takes_run_request
from etl.cli.selection import load_selection
from etl.cli.state import active_profile, active_runner

if TYPE_CHECKING:
    from collections.abc import Callable

    from etl.dataset.loader import LoadedDataset
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


def _loader(
    ctx: typer.Context, request: RunRequest, dataset: Path, arg: list[str] | None
) -> Callable[[], LoadedDataset]:
    """Loads the dataset of the command line (its warnings printed on stderr)."""
    return lambda: load_selection(ctx, dataset, list(request.collections or ()) or None, arg)[0]


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
    """Parse, call :func:`etl.runner.app.run_dataset_work` once (it follows a submitted run to
    its end when asked), print."""
    from etl.runner.app import run_dataset_work

    if wait and not submit:
        raise typer.BadParameter("--wait needs --submit", param_hint="--wait")
    if wait and request.schedule is not None:
        raise typer.BadParameter(
            "--wait is for a Workflow; a CronWorkflow starts one at each scheduled time "
            "(follow those with `etl workflow list` and `etl workflow watch`)",
            param_hint="--wait",
        )
    result = OutputFormat(output.value) if output is not None else None
    done = run_dataset_work(
        _loader(ctx, request, dataset, arg),
        request,
        active_profile(ctx),
        runner=active_runner(ctx) if submit else None,
        upload=upload_bundle,
        report=print_progress_line,
        following=following(wait=wait, output=result),
    )
    if done.scheduled is not None:
        applied = done.scheduled
        action = "created" if applied.created else "updated"
        print_progress_line(
            f"{action} CronWorkflow {applied.name} in namespace {applied.namespace}: {applied.url}"
        )
        if result is None:
            print(applied.name)
        else:
            print_result(applied.to_json(), result)
    elif done.submitted is not None:
        print_submission(active_profile(ctx), done.submitted, done.ended, result)
    else:
        if not upload_bundle:
            _note_bundle_not_uploaded(done.prepared)
        print_manifest(done.prepared.manifest, output or ManifestOutput.YAML)


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
    from etl.runner.app import run_dataset_work

    work = run_dataset_work(_loader(ctx, request, dataset, arg), request, active_profile(ctx))
    _note_bundle_not_uploaded(work.prepared)
    print_manifest(work.prepared.manifest, output)


def _add_work_command(command: WorkflowCommand, summary: str) -> None:
    """Add ``etl dataset COMMAND``: the dataset, its collections, the run options ``command``
    takes, ``--submit``, ``--wait``, ``--upload-bundle`` and ``-o``; one call, :func:`_work`."""

    @takes_run_request(command)
    def work(
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

    work.__doc__ = summary
    app.command(command.value)(work)


_add_work_command(
    WorkflowCommand.PROCESS_ITEMS,
    """Make the items of every asset and load them into PgSTAC (collection first).

    With --schedule it is a CronWorkflow: printed, or with --submit created (or updated, by
    name) on the Argo Server with its code bundle uploaded.
    """,
)
_add_work_command(
    WorkflowCommand.CREATE_CHUNKS,
    "List the assets into chunk files in each collection's chunk storage.",
)
_add_work_command(
    WorkflowCommand.INGEST_COLLECTION,
    "Create or update each collection in PgSTAC from its template.",
)
