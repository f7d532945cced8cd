"""The outbox: item events waiting for delivery, in the table ``etl.outbox`` of the PgSTAC database.

An event is recorded in the same transaction as the change it reports (the batch's load, or its
removal), one row per event and target, so it exists exactly when the change committed; delivery
(:mod:`etl.task.notify_delivery`) reads a target's rows after the commit, sends them and deletes
them. A pod killed between the two leaves its rows here for the next delivery (of any pod, or
``etl dataset send-notifications``): at-least-once, with the event's id as recorded.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` inside the deliverer's transaction, so two
deliverers of one target never send the same row at once, and a deliverer that dies releases its
claim with its connection. A failed attempt counts in ``attempts`` and keeps its ``last_error``
(never a secret: the senders' messages name the target, not its credentials).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import psycopg

__all__ = [
    "TABLE",
    "OutboxRow",
    "PendingEvent",
    "PendingSummary",
    "claim_pending",
    "ensure_outbox",
    "mark_delivered",
    "mark_failed",
    "pending_summary",
    "record_events",
]

TABLE = "etl.outbox"

_DDL = """
CREATE SCHEMA IF NOT EXISTS etl;
CREATE TABLE IF NOT EXISTS etl.outbox (
    seq bigserial PRIMARY KEY,
    target text NOT NULL,
    event_id text NOT NULL,
    collection text NOT NULL,
    event text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    UNIQUE (target, event_id)
);
"""

_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS outbox_staging (
    target text, event_id text, collection text, event text
) ON COMMIT DELETE ROWS
"""

_COPY = "COPY outbox_staging (target, event_id, collection, event) FROM STDIN"

_MERGE = """
INSERT INTO etl.outbox (target, event_id, collection, event)
SELECT target, event_id, collection, event FROM outbox_staging ORDER BY ctid
ON CONFLICT (target, event_id) DO NOTHING
"""

_LOCK = "SELECT pg_advisory_xact_lock(hashtext('etl.outbox'))"

Connection = psycopg.Connection[Any]


class OutboxRow(NamedTuple):
    """One event for one target, as recorded: ``event`` is the CloudEvent's JSON text."""

    target: str
    event_id: str
    collection: str
    event: str


@dataclass(frozen=True)
class PendingEvent:
    """A claimed row: its sequence number, the event's id and JSON text, and tries so far."""

    seq: int
    event_id: str
    event: str
    attempts: int


@dataclass(frozen=True)
class PendingSummary:
    """What waits for one target of one collection."""

    target: str
    collection: str
    events: int
    oldest: datetime
    attempts: int
    """The most tries any of these events had."""
    last_error: str | None


def ensure_outbox(conn: Connection) -> None:
    """Create the schema ``etl`` and the table if missing (safe to run concurrently)."""
    if _table_exists(conn):
        return
    with conn.transaction():
        conn.execute(_LOCK)
        conn.execute(_DDL)


def record_events(conn: Connection, rows: Iterable[OutboxRow]) -> int:
    """Record ``rows`` inside the caller's transaction (a savepoint of it; its own transaction on
    an autocommit connection outside one): one COPY into a staging table, one merge; an event
    already waiting for its target is kept once. Returns how many rows were given."""
    count = 0
    with conn.transaction():
        conn.execute(_STAGING)
        with conn.cursor().copy(_COPY) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        if count:
            conn.execute(_MERGE)
    return count


def claim_pending(conn: Connection, target: str, limit: int) -> list[PendingEvent]:
    """The oldest ``limit`` rows of ``target`` nobody else holds, locked until the caller's
    transaction ends (call inside ``conn.transaction()``)."""
    cursor = conn.execute(
        "SELECT seq, event_id, event, attempts FROM etl.outbox WHERE target = %s "
        "ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED",
        (target, limit),
    )
    return [PendingEvent(*row) for row in cursor]


def mark_delivered(conn: Connection, seqs: Sequence[int]) -> None:
    """Delete delivered rows."""
    conn.execute("DELETE FROM etl.outbox WHERE seq = ANY(%s)", (list(seqs),))


def mark_failed(conn: Connection, seqs: Sequence[int], error: str) -> None:
    """Count a failed attempt on rows, keeping ``error`` (one line)."""
    conn.execute(
        "UPDATE etl.outbox SET attempts = attempts + 1, last_error = %s WHERE seq = ANY(%s)",
        (error, list(seqs)),
    )


def pending_summary(
    conn: Connection, collections: Sequence[str] | None = None
) -> list[PendingSummary]:
    """What waits, per target and collection (of ``collections`` only, when given), by target."""
    if not _table_exists(conn):
        return []
    rows = conn.execute(
        "SELECT target, collection, count(*), min(recorded_at), max(attempts), "
        "(array_agg(last_error ORDER BY attempts DESC, seq DESC) "
        " FILTER (WHERE last_error IS NOT NULL))[1] "
        "FROM etl.outbox WHERE %(all)s OR collection = ANY(%(collections)s) "
        "GROUP BY target, collection ORDER BY target, collection",
        {"all": collections is None, "collections": list(collections or ())},
    )
    return [PendingSummary(*row) for row in rows]


def _table_exists(conn: Connection) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,)).fetchone()
    return bool(row and row[0])
