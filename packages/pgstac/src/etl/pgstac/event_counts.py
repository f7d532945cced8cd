"""What the event consumers did, minute by minute: the table ``etl.event_counts`` in PgSTAC.

Each ``etl-task consume-events`` pod adds its batch's counts to the row of its collection and the
current minute (UTC) after the batch has committed, in one statement: events received, items
loaded, items removed, events skipped, messages dead-lettered. ``etl dataset status`` reads the
last minutes of it for each collection's events per second. The table lives beside
``etl.item_sources`` in etl's own schema (never pgstac's), is created on first use, and is small:
one row per collection and minute with events; rows older than :data:`KEPT_DAYS` days are deleted
as new ones are written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg

__all__ = [
    "COUNTED",
    "KEPT_DAYS",
    "TABLE",
    "EventRate",
    "ensure_event_counts",
    "event_rate",
    "record_event_counts",
]

TABLE = "etl.event_counts"
KEPT_DAYS = 7
COUNTED = ("events", "loaded", "removed", "skipped", "dead_lettered")
"""The counts of a row, in its column order."""

_DDL = f"""
CREATE SCHEMA IF NOT EXISTS etl;
CREATE TABLE IF NOT EXISTS {TABLE} (
    collection text NOT NULL,
    minute timestamptz NOT NULL,
    {", ".join(f"{name} bigint NOT NULL DEFAULT 0" for name in COUNTED)},
    PRIMARY KEY (collection, minute)
);
"""
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('etl.event_counts'))"
_ADD = f"""
INSERT INTO {TABLE} (collection, minute, {", ".join(COUNTED)})
VALUES (%(collection)s, date_trunc('minute', now()), {", ".join(f"%({n})s" for n in COUNTED)})
ON CONFLICT (collection, minute) DO UPDATE SET
    {", ".join(f"{n} = {TABLE.split('.')[1]}.{n} + EXCLUDED.{n}" for n in COUNTED)}
"""

Connection = psycopg.Connection[Any]


@dataclass(frozen=True)
class EventRate:
    """A collection's events over its last minutes.

    Attributes:
        events: Events received in the window.
        seconds: The window's length.
        counts: Every count of the window, by :data:`COUNTED` name.
    """

    events: int
    seconds: float
    counts: dict[str, int]

    @property
    def per_second(self) -> float:
        """Events per second over the window."""
        return self.events / self.seconds if self.seconds else 0.0


def ensure_event_counts(conn: Connection) -> None:
    """Create the table if it is missing (safe to run concurrently)."""
    if _table_exists(conn):
        return
    with conn.transaction():
        conn.execute(_LOCK)
        conn.execute(_DDL)


def record_event_counts(conn: Connection, collection: str, counts: Mapping[str, int]) -> None:
    """Add ``counts`` (names of :data:`COUNTED`; others ignored) to this minute's row."""
    values = {name: int(counts.get(name, 0)) for name in COUNTED}
    if not any(values.values()):
        return
    with conn.transaction():
        conn.execute(_ADD, {"collection": collection, **values})
        conn.execute(
            f"DELETE FROM {TABLE} WHERE collection = %s AND minute < now() - %s::interval",
            (collection, f"{KEPT_DAYS} days"),
        )


def event_rate(conn: Connection, collection: str, *, minutes: int = 5) -> EventRate:
    """The collection's counts over the last ``minutes`` minutes (the current one included)."""
    seconds = minutes * 60.0
    if not _table_exists(conn):
        return EventRate(0, seconds, dict.fromkeys(COUNTED, 0))
    row = conn.execute(
        f"SELECT {', '.join(f'coalesce(sum({n}), 0)' for n in COUNTED)} FROM {TABLE} "
        "WHERE collection = %s AND minute > now() - %s::interval",
        (collection, f"{minutes} minutes"),
    ).fetchone()
    counts = dict(zip(COUNTED, (int(v) for v in row or ()), strict=False))
    return EventRate(counts.get("events", 0), seconds, counts)


def _table_exists(conn: Connection) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,)).fetchone()
    return bool(row and row[0])
