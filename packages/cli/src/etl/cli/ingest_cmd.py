"""``etl ingest collection | items``: load a collection JSON or ndjson item files into PgSTAC.

Each compiles a one-step Argo ``Workflow`` (``etl.argo.compile_ingest_collection`` /
``compile_ingest_items``). Without ``--submit`` the manifest is printed on stdout and nothing else;
with ``--submit`` local files are uploaded when the profile's pods cannot read them, and the
manifest goes to the active profile's runner. See ``docs/pgstac.md``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from etl.argo.task_command import IngestMethod
from etl.cli.options import SubmitOption, WaitOption, WorkOutput, command_group
from etl.cli.output import ManifestOutput, OutputFormat, print_manifest
from etl.cli.state import active_profile

if TYPE_CHECKING:
    from etl.argo import IngestSource
    from etl.core.profiles import Profile

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
    sources: list[str],
    compile_manifest: Callable[[Profile, tuple[IngestSource, ...]], dict[str, Any]],
    *,
    submit: bool,
    wait: bool,
    output: ManifestOutput | None,
) -> None:
    """Plan the sources, compile, then print the manifest or submit it."""
    from etl.argo import plan_sources

    if wait and not submit:
        raise typer.BadParameter("--wait needs --submit", param_hint="--wait")
    profile = active_profile(ctx)
    planned = plan_sources(sources, profile)
    manifest = compile_manifest(profile, planned)
    if not submit:
        print_manifest(manifest, output or ManifestOutput.YAML)
        return
    from etl.argo import upload_sources
    from etl.cli.workflow_cmd import open_runner, submit_and_report

    runner = open_runner(profile)
    for source in upload_sources(planned, profile):
        print(f"uploaded {source.given} to {source.uri}", file=sys.stderr)
    submit_and_report(
        runner,
        manifest,
        wait=wait,
        output=OutputFormat(output.value) if output is not None else None,
    )


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
    from etl.argo import compile_ingest_collection

    _run(
        ctx,
        [path],
        lambda profile, planned: compile_ingest_collection(planned[0], profile, retries=retries),
        submit=submit,
        wait=wait,
        output=output,
    )


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
        IngestMethod,
        typer.Option(
            "--method",
            help="Items whose id exists: upsert replaces them, insert fails, ignore keeps them.",
        ),
    ] = "upsert",
    retries: RetriesOption = None,
    submit: SubmitOption = False,
    wait: WaitOption = False,
    output: WorkOutput = None,
) -> None:
    """Load ndjson item files into a PgSTAC collection."""
    from etl.argo import compile_ingest_items

    _run(
        ctx,
        sources,
        lambda profile, planned: compile_ingest_items(
            planned, collection, profile, method=method, retries=retries
        ),
        submit=submit,
        wait=wait,
        output=output,
    )
