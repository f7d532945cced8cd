"""``etl dataset send-events``: storage events for blobs, put into a collection's queue as Event
Grid puts them (to replay, to backfill, to try a stream locally). The command joins the
``etl dataset`` group (:mod:`etl.cli.dataset_cmd`); docs/streaming.md has the walk-through.
"""

from __future__ import annotations

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
from etl.cli.state import active_profile
from etl.core.counts import counted
from etl.core.errors import InputError
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
    from etl.core.queues.handling import replay_dead_letters as replay
    from etl.core.queues.uris import parse_queue_uri

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
