"""A collection's event stream as ``etl dataset status`` shows it: its queue's depth and oldest
message (:func:`etl.core.queues.queue_state`), the dead letters in ``NAME-poison``, and the events
per second the consumers recorded over the last minutes (``etl.event_counts``,
:mod:`etl.pgstac.event_counts`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from etl.core.profiles.model import Profile
    from etl.dataset.model import CollectionConfig
    from etl.pgstac.item_sources import Connection

__all__ = ["RATE_MINUTES", "event_status", "event_status_line"]

RATE_MINUTES = 5
"""The window of the events-per-second figure."""


def event_status(
    conn: Connection, collection: CollectionConfig, profile: Profile
) -> dict[str, Any] | None:
    """The ``events`` entry of the collection's status (``None``: it declares no events):
    ``queue``, ``depth``, ``oldest_age_seconds``, ``dead_letters``, ``events_per_second`` and the
    window's ``counts`` (events, loaded, removed, skipped, dead_lettered) over ``minutes``.

    Raises:
        StorageError: the queue service failed or refused.
    """
    from etl.core.queues.handling import queue_state
    from etl.core.queues.uris import parse_queue_uri
    from etl.pgstac.event_counts import event_rate

    if collection.events is None:
        return None
    state = queue_state(parse_queue_uri(collection.events.queue), profile)
    rate = event_rate(conn, collection.id, minutes=RATE_MINUTES)
    oldest = state.oldest_age
    return {
        "queue": state.queue,
        "depth": state.depth,
        "oldest_age_seconds": round(oldest, 1) if oldest is not None else None,
        "dead_letters": state.dead_letters,
        "events_per_second": round(rate.per_second, 3),
        "minutes": RATE_MINUTES,
        "counts": rate.counts,
    }


def event_status_line(events: dict[str, Any]) -> str:
    """The entry in one line, for the status table."""
    oldest = events["oldest_age_seconds"]
    age = f"oldest {oldest:.0f} s" if oldest is not None else "none visible"
    return (
        f"{events['queue']}: depth {events['depth']} ({age}), "
        f"{events['events_per_second']:g} events/s over {events['minutes']} min, "
        f"dead letters {events['dead_letters']}"
    )
