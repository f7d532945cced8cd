"""``etl dataset stream``: a collection's stream of storage events on a cluster, as KEDA objects
printed, submitted or deleted (docs/streaming.md). The command joins the ``etl dataset`` group
(:mod:`etl.cli.dataset_cmd`); it makes one call, :func:`etl.runner.stream_app.run_stream`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from etl.cli.options import (
    ArgOption,
    CollectionOption,
    DatasetOption,
    choices_metavar,
    command_group,
)
from etl.cli.output import ManifestOutput
from etl.cli.selection import load_selection
from etl.cli.state import active_profile
from etl.core.errors import OptionError

__all__ = ["app"]

app = command_group("A dataset's streams of storage events.")

StreamSubmitOption = Annotated[
    bool,
    typer.Option(
        "--submit",
        help="Create or update the KEDA objects on the profile's cluster (uploading the code "
        "bundle their pods read).",
    ),
]
DeleteOption = Annotated[
    bool, typer.Option("--delete", help="Remove the KEDA objects from the profile's cluster.")
]
StreamOutput = Annotated[
    ManifestOutput,
    typer.Option(
        "--output",
        "-o",
        help="Manifest format: YAML documents separated by ---, or JSON (a v1 List).",
        metavar=choices_metavar(ManifestOutput),
        show_default=True,
    ),
]


@app.command("stream")
def stream(
    ctx: typer.Context,
    *,
    dataset: DatasetOption = Path("."),
    collection: CollectionOption = None,
    arg: ArgOption = None,
    submit: StreamSubmitOption = False,
    delete: DeleteOption = False,
    output: StreamOutput = ManifestOutput.YAML,
) -> None:
    """Print the KEDA objects that turn each collection's storage events into items on a cluster
    (a ScaledJob on its events.queue, and its TriggerAuthentication): everything `kubectl apply`
    needs. With --submit create or update them, with --delete remove them."""
    from etl.argo import manifest_text
    from etl.runner.stream_app import StreamAction, run_stream

    if submit and delete:
        raise OptionError("submit", "and --delete exclude each other")
    action = (
        StreamAction.SUBMIT if submit else StreamAction.DELETE if delete else StreamAction.PRINT
    )
    work = run_stream(
        lambda: load_selection(ctx, dataset, collection, arg)[0],
        tuple(collection) if collection else None,
        active_profile(ctx),
        action=action,
        report=print,
    )
    if action is not StreamAction.PRINT:
        return
    bundle = work.prepared.bundle
    if bundle is not None:
        print(
            f"note: the pods read {bundle.dataset_uri}, which printing does not upload: "
            "`etl dataset stream --submit` uploads it and applies these objects",
            file=sys.stderr,
        )
    items = work.prepared.manifest["items"]
    if output is ManifestOutput.JSON:
        sys.stdout.write(manifest_text(work.prepared.manifest, "json"))
    else:
        sys.stdout.write("---\n".join(manifest_text(item) for item in items))
