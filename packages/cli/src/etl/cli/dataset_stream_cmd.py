"""``etl dataset stream``: a collection's stream of storage events (docs/streaming.md). On the local
runner ``--submit`` runs the consumers here (:func:`etl.runner.stream.run_local_stream`); on a
cluster the stream is KEDA objects, printed, submitted or deleted
(:func:`etl.runner.stream_app.run_stream`). The command joins the ``etl dataset`` group
(:mod:`etl.cli.dataset_cmd`) and makes one of those two calls."""

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
from etl.cli.output import ManifestOutput, OutputFormat, print_outcome
from etl.cli.selection import load_selection
from etl.cli.state import active_profile, active_runner
from etl.core.counts import counted
from etl.core.errors import OptionError, RunError
from etl.core.profiles.model import RunnerKind

__all__ = ["app"]

app = command_group("A dataset's streams of storage events.")

StreamSubmitOption = Annotated[
    bool,
    typer.Option(
        "--submit",
        help="On the local runner: run the consumers here until Ctrl-C or --until-idle. On a "
        "cluster: create or update the KEDA objects (uploading the code bundle their pods read).",
    ),
]
DeleteOption = Annotated[
    bool, typer.Option("--delete", help="Remove the KEDA objects from the profile's cluster.")
]
UntilIdleOption = Annotated[
    float | None,
    typer.Option(
        "--until-idle",
        help="End once every queue was empty this many seconds and every consumer ended "
        "(exit 1 if anything was dead-lettered); default: run until Ctrl-C. The consumers exit "
        "after as many idle seconds.",
        metavar="SECONDS",
        min=0.1,
        show_default=False,
    ),
]
PollingOption = Annotated[
    float,
    typer.Option(
        "--polling",
        help="Seconds between two reads of the queues' depths (KEDA's pollingInterval).",
        metavar="SECONDS",
        min=0.1,
    ),
]
MaxConsumersOption = Annotated[
    int | None,
    typer.Option(
        "--max-consumers",
        help="Most consumers of one collection at once (default: the profile's workflow.max_pods).",
        metavar="N",
        min=1,
        show_default=False,
    ),
]
StreamOutput = Annotated[
    ManifestOutput,
    typer.Option(
        "--output",
        "-o",
        help="Manifest format: YAML documents separated by ---, or JSON (a v1 List); with "
        "--submit on the local runner, json prints what the consumers did as one JSON object.",
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
    until_idle: UntilIdleOption = None,
    polling: PollingOption = 5.0,
    max_consumers: MaxConsumersOption = None,
    output: StreamOutput = ManifestOutput.YAML,
) -> None:
    """Turn each collection's storage events into items. On the local runner, --submit runs the
    consumers here: started by queue depth (KEDA's ScaledJob, played by the local runner), each
    loading micro-batches into PgSTAC, and prints what they did. On a cluster: print the KEDA
    objects (a ScaledJob on its events.queue, and its TriggerAuthentication), everything
    `kubectl apply` needs; with --submit create or update them, with --delete remove them."""
    from etl.argo.manifest_format import manifest_text
    from etl.runner.stream_app import StreamAction, run_stream

    if submit and delete:
        raise OptionError("submit", "and --delete exclude each other")
    profile = active_profile(ctx)
    if submit and profile.runner is RunnerKind.LOCAL:
        _stream_here(
            ctx,
            dataset,
            collection=collection,
            arg=arg,
            until_idle=until_idle,
            polling=polling,
            max_consumers=max_consumers,
            output=output,
        )
        return
    action = (
        StreamAction.SUBMIT if submit else StreamAction.DELETE if delete else StreamAction.PRINT
    )
    work = run_stream(
        lambda: load_selection(ctx, dataset, collection, arg)[0],
        tuple(collection) if collection else None,
        profile,
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


def _stream_here(
    ctx: typer.Context,
    dataset: Path,
    *,
    collection: list[str] | None,
    arg: list[str] | None,
    until_idle: float | None,
    polling: float,
    max_consumers: int | None,
    output: ManifestOutput,
) -> None:
    """``--submit`` on the local runner: the consumers run here; what they did is printed."""
    from etl.runner.stream import StreamOptions, run_local_stream

    options = StreamOptions(
        collections=tuple(collection) if collection else None,
        until_idle=until_idle,
        polling=polling,
        max_consumers=max_consumers,
    )
    totals = run_local_stream(
        lambda: load_selection(ctx, dataset, None, arg)[0],
        options,
        active_profile(ctx),
        runner=active_runner(ctx),
        report=lambda line: print(line, file=sys.stderr, flush=True),
    )
    json_output = OutputFormat.JSON if output is ManifestOutput.JSON else None
    print_outcome(f"stream: {totals.summary()}", totals.to_json(), json_output)
    if totals.dead_lettered:
        raise RunError(
            f"{counted(totals.dead_lettered, 'message')} dead-lettered: see "
            "`etl dataset status`; `etl dataset replay-dead-letters` puts them back"
        )
