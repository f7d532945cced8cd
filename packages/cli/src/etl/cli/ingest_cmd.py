"""``etl ingest collection | items``: load a collection JSON or ndjson item files into PgSTAC.

Each compiles a one-step Argo ``Workflow`` (:func:`etl.runner.work.prepare_collection_ingest` /
``prepare_items_ingest``). Without ``--submit`` the manifest is printed on stdout and nothing else;
with ``--submit`` local files are uploaded when the profile's pods cannot read them, and the
manifest goes to the active profile's runner. See ``docs/pgstac.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from etl.cli.follow import submit_and_report
from etl.cli.options import (
    SubmitOption,
    WaitOption,
    WorkOutput,
    choices_metavar,
    command_group,
)
from etl.cli.output import ManifestOutput, print_manifest
from etl.cli.state import active_profile, active_runner
from etl.core.pod_contract import LoadMethod

if TYPE_CHECKING:
    from etl.runner.work import PreparedWork

__all__ = ["app", "collection", "items"]

app = command_group(
    "Load a collection JSON or ndjson item files (local paths or blob URIs) into PgSTAC."
)

RetriesOption = Annotated[
    int | None,
    typer.Option(
        "--retries",
        min=0,
        help="Retries of the step, with backoff (default 3; 0 with --method insert).",
        metavar="N",
        show_default=False,
    ),
]


def _run(
    ctx: typer.Context,
    work: PreparedWork,
    *,
    submit: bool,
    wait: bool,
    output: ManifestOutput | None,
) -> None:
    """Print the prepared manifest, or submit it (uploading local files first)."""
    if not submit:
        print_manifest(work.manifest, output or ManifestOutput.YAML)
        return
    submit_and_report(work, active_runner(ctx), active_profile(ctx), wait=wait, output=output)


def _check_wait(*, submit: bool, wait: bool) -> None:
    if wait and not submit:
        raise typer.BadParameter("--wait needs --submit", param_hint="--wait")


@app.command()
def collection(
    ctx: typer.Context,
    path: Annotated[
        str,
        typer.Argument(
            help="A STAC collection JSON file: a local path or a blob:// URI.", metavar="PATH"
        ),
    ],
    *,
    retries: RetriesOption = None,
    submit: SubmitOption = False,
    wait: WaitOption = False,
    output: WorkOutput = None,
) -> None:
    """Create or update a collection in PgSTAC from a collection JSON file (loaded as it is)."""
    from etl.runner.work import prepare_collection_ingest

    _check_wait(submit=submit, wait=wait)
    work = prepare_collection_ingest(path, active_profile(ctx), retries=retries)
    _run(ctx, work, submit=submit, wait=wait, output=output)


@app.command()
def items(
    ctx: typer.Context,
    sources: Annotated[
        list[str],
        typer.Argument(
            help="ndjson files of STAC items, one item a line: local paths or blob:// URIs.",
            metavar="SOURCE",
        ),
    ],
    *,
    collection: Annotated[
        str,
        typer.Option(
            "--collection",
            "-c",
            help="The collection to load into; it must exist, and every item must name it.",
            metavar="ID",
        ),
    ],
    method: Annotated[
        LoadMethod,
        typer.Option(
            "--method",
            help="Items whose id exists: upsert replaces them, insert fails, ignore keeps them.",
            metavar=choices_metavar(LoadMethod),
        ),
    ] = LoadMethod.UPSERT,
    retries: RetriesOption = None,
    submit: SubmitOption = False,
    wait: WaitOption = False,
    output: WorkOutput = None,
) -> None:
    """Load ndjson item files into a PgSTAC collection."""
    from etl.runner.work import prepare_items_ingest

    _check_wait(submit=submit, wait=wait)
    work = prepare_items_ingest(
        sources, collection, active_profile(ctx), method=method, retries=retries
    )
    _run(ctx, work, submit=submit, wait=wait, output=output)
