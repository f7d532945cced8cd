"""The storage event types etl acts on and the schemas they come in: a light module, since the
CLI's options name them at start-up."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["EVENT_TYPES", "EventKind", "EventSchema"]


class EventSchema(StrEnum):
    """The two schemas Event Grid writes events in."""

    EVENT_GRID = "eventgrid"
    CLOUD_EVENTS = "cloudevents"


class EventKind(StrEnum):
    """What happened to the blob: the event types etl acts on, by their dataset.yaml names."""

    CREATED = "created"
    DELETED = "deleted"


EVENT_TYPES: dict[EventKind, str] = {
    EventKind.CREATED: "Microsoft.Storage.BlobCreated",
    EventKind.DELETED: "Microsoft.Storage.BlobDeleted",
}
"""Azure's event type of each kind."""
