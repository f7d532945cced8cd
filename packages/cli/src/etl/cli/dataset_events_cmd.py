"""``etl dataset send-events``: storage events for blobs, put into a collection's queue as Event
Grid puts them (to replay, to backfill, to try a stream locally). The command joins the
``etl dataset`` group (:mod:`etl.cli.dataset_cmd`); docs/streaming.md has the walk-through.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from etl.cli.options import (
    ArgOption,
    CollectionOption,
    DatasetOption,
    OptionalOutputOption,
    choices_metavar,
    command_group,
)
from etl.cli.output import print_outcome
from etl.cli.selection import load_selection
from etl.cli.state import active_profile, active_runner
from etl.core.counts import counted
from etl.core.errors import InputError, RunError
from etl.core.queues.event_types import EventKind, EventSchema

__all__ = ["app"]

app = command_group("Storage events of a dataset's collections.")

UriArgument = Annotated[
    list[str],
    typer.Argument(
        help="blob://ACCOUNT/CONTAINER/PATH of a blob, or a prefix ending with / for every blob "
        "under it.",
        metavar="URI",
        show_default=False,
    ),
]
TypeOption = Annotated[
    EventKind,
    typer.Option(
        "--type",
        help="created (Microsoft.Storage.BlobCreated) or deleted (Microsoft.Storage.BlobDeleted).",
        metavar=choices_metavar(EventKind),
    ),
]
SchemaOption = Annotated[
    EventSchema,
    typer.Option(
        "--schema",
        help="The event schema of the Event Grid subscription: eventgrid or cloudevents (1.0).",
        metavar=choices_metavar(EventSchema),
    ),
]


@app.command("send-events")
def send_events(
    ctx: typer.Context,
    uris: UriArgument,
    *,
    dataset: DatasetOption = Path("."),
    collection: CollectionOption = None,
    arg: ArgOption = None,
    event_type: TypeOption = EventKind.CREATED,
    schema: SchemaOption = EventSchema.EVENT_GRID,
    output: OptionalOutputOption = None,
) -> None:
    """Put one storage event per blob into the collection's events queue, exactly as Event Grid
    would (base64 JSON): replay or backfill a stream, or try one locally."""
    from etl.core.queues.sending import send_events as send
    from etl.core.queues.uris import parse_queue_uri
    from etl.dataset.event_assets import CollectionAssets, collection_with_events

    loaded, selected = load_selection(ctx, dataset, collection, arg)
    chosen, events = collection_with_events(loaded.config.id, selected)
    queue = parse_queue_uri(events.queue)
    sent = send(queue, uris, kind=event_type, schema=schema, profile=active_profile(ctx))
    assets = CollectionAssets(chosen)
    skipped = [
        uri for uri in sent if event_type not in events.types or assets.storage_of(uri) is None
    ]
    message = (
        f"sent {counted(len(sent), f'{event_type} event')} ({schema}) to {queue.uri}: "
        f"{len(sent) - len(skipped)} for collection {chosen.id}, {len(skipped)} it skips "
        "(another event type, or outside its asset storage and filters)"
    )
    data = {
        "queue": queue.uri,
        "collection": chosen.id,
        "type": str(event_type),
        "schema": str(schema),
        "sent": sent,
        "skipped": skipped,
    }
    print_outcome(message, data, output)


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
StreamSubmitOption = Annotated[
    bool,
    typer.Option(
        "--submit",
        help="Run the consumers on the profile's runner: required on the local profile for now "
        "(the cluster's KEDA manifests are docs/streaming.md's).",
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
    until_idle: UntilIdleOption = None,
    polling: PollingOption = 5.0,
    max_consumers: MaxConsumersOption = None,
    output: OptionalOutputOption = None,
) -> None:
    """Turn the collections' storage events into items: consumers started by queue depth (KEDA's
    ScaledJob, played by the local runner), each loading micro-batches into PgSTAC. Prints what
    they did: events, items loaded, removed, skipped, dead-lettered."""
    from etl.runner.stream import StreamOptions, run_stream

    if not submit:
        raise InputError(
            "etl dataset stream: give --submit (runs the consumers on the local runner; "
            "printing the cluster's manifests is not built yet)"
        )
    options = StreamOptions(
        collections=tuple(collection) if collection else None,
        until_idle=until_idle,
        polling=polling,
        max_consumers=max_consumers,
    )
    totals = run_stream(
        lambda: load_selection(ctx, dataset, None, arg)[0],
        options,
        active_profile(ctx),
        runner=active_runner(ctx),
        report=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print_outcome(f"stream: {totals.summary()}", totals.to_json(), output)
    if totals.dead_lettered:
        raise RunError(
            f"{counted(totals.dead_lettered, 'message')} dead-lettered: see "
            "`etl dataset status`; `etl dataset replay-dead-letters` puts them back"
        )


@app.command("replay-dead-letters")
def replay_dead_letters(
    ctx: typer.Context,
    *,
    dataset: DatasetOption = Path("."),
    collection: CollectionOption = None,
    arg: ArgOption = None,
    output: OptionalOutputOption = None,
) -> None:
    """Move the messages of each collection's dead-letter queue (NAME-poison) back to its queue,
    each with its original body, for the consumers to try again."""
    from etl.core.queues import parse_queue_uri
    from etl.core.queues import replay_dead_letters as replay

    loaded, selected = load_selection(ctx, dataset, collection, arg)
    with_events = [c for c in selected if c.events is not None]
    if not with_events:
        raise InputError(
            f"dataset {loaded.config.id!r}: no chosen collection declares events "
            "(collections[].events.queue, docs/streaming.md)"
        )
    moved: dict[str, int] = {}
    lines = []
    for chosen in with_events:
        assert chosen.events is not None
        queue = parse_queue_uri(chosen.events.queue)
        moved[chosen.id] = replay(queue, active_profile(ctx))
        count = counted(moved[chosen.id], "dead letter")
        lines.append(f"{chosen.id}: {count} moved from {queue.poison.uri} back to {queue.uri}")
    print_outcome("\n".join(lines), {"moved": moved}, output)
