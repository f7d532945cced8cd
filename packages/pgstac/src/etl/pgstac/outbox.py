"""The outbox: item events waiting for delivery, in the table ``etl.outbox`` of the PgSTAC database.

The events of a load batch (or a removal batch) are recorded in the same transaction as the
change they report, as **one row**: the batch's events as newline-separated CloudEvents JSON
(``plain``; ``with_items`` the same with each item in ``data.item``, when a target asked for
items) and the targets still owed them (``pending``). One row a batch keeps the load's cost to one
small insert (the text is compressed out of line, with lz4 where the server has it); a row exists
exactly when its change committed. Delivery (:mod:`etl.task.notify_delivery`) claims the rows
owed to its targets after the commit, sends them, and takes each target that got them out of
``pending``; a row owed to nobody is deleted. A pod killed between the two leaves its rows here
for the next delivery (any pod's, or ``etl dataset send-notifications``): at-least-once, each
event with the id it was recorded with.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` inside the deliverer's transaction, so two
deliverers never send the same row at once, and one that dies releases its claim with its
connection (a row held for one target is skipped by a deliverer of another, which the next
delivery sends). A target's failed attempts and last error are kept in ``etl.outbox_failures``
(never a secret: the senders' messages name the target, not its credentials).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

__all__ = [
    "TABLE",
    "OutboxBatch",
    "PendingBatch",
    "PendingSummary",
    "claim_pending",
    "ensure_outbox",
    "mark_delivered",
    "mark_failed",
    "pending_summary",
    "record_events",
]

TABLE = "etl.outbox"
EVENT_SEPARATOR = "\n"
"""Between the events of a row's text (compact JSON never holds a raw newline)."""

_DDL = """
CREATE SCHEMA IF NOT EXISTS etl;
CREATE TABLE IF NOT EXISTS etl.outbox (
    seq bigserial PRIMARY KEY,
    collection text NOT NULL,
    pending text[] NOT NULL,
    events integer NOT NULL,
    plain text NOT NULL,
    with_items text,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
DO $$ BEGIN  -- lz4 compresses a batch's events in half pglz's time, where the server has it
    IF 'lz4' = ANY(SELECT unnest(enumvals) FROM pg_settings
                   WHERE name = 'default_toast_compression') THEN
        ALTER TABLE etl.outbox ALTER COLUMN plain SET COMPRESSION lz4,
            ALTER COLUMN with_items SET COMPRESSION lz4;
    END IF;
END $$;
CREATE TABLE IF NOT EXISTS etl.outbox_failures (
    target text PRIMARY KEY,
    attempts integer NOT NULL,
    last_error text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
"""

_LOCK = "SELECT pg_advisory_xact_lock(hashtext('etl.outbox'))"

Connection = psycopg.Connection[Any]


@dataclass(frozen=True)
class OutboxBatch:
    """The events of one batch, for ``targets``: each event's JSON text, and the same with its
    item (``None``: no target asked for items)."""

    collection: str
    targets: tuple[str, ...]
    plain: Sequence[str]
    with_items: Sequence[str] | None = None


@dataclass(frozen=True)
class PendingBatch:
    """A claimed row: its sequence number, the targets it is owed to, its events' JSON texts."""

    seq: int
    pending: tuple[str, ...]
    plain: list[str]
    with_items: list[str] | None

    def events(self, include_item: bool) -> list[str]:
        """The events a target gets: with the items when it asked and they were recorded."""
        return self.with_items if include_item and self.with_items is not None else self.plain


@dataclass(frozen=True)
class PendingSummary:
    """What waits for one target of one collection."""

    target: str
    collection: str
    events: int
    oldest: datetime
    attempts: int
    """Failed attempts since the target's last success."""
    last_error: str | None


def ensure_outbox(conn: Connection) -> None:
    """Create the schema ``etl`` and the tables if missing (safe to run concurrently)."""
    if _table_exists(conn, "etl.outbox_failures"):
        return
    with conn.transaction():
        conn.execute(_LOCK)
        conn.execute(_DDL)


def record_events(conn: Connection, batch: OutboxBatch) -> int:
    """Record ``batch`` (one row) inside the caller's transaction; returns how many events."""
    if not batch.plain or not batch.targets:
        return 0
    with_items = None if batch.with_items is None else EVENT_SEPARATOR.join(batch.with_items)
    conn.execute(
        "INSERT INTO etl.outbox (collection, pending, events, plain, with_items) "
        "VALUES (%s, %s, %s, %s, %s)",
        (
            batch.collection,
            list(batch.targets),
            len(batch.plain),
            EVENT_SEPARATOR.join(batch.plain),
            with_items,
        ),
    )
    return len(batch.plain)


def claim_pending(conn: Connection, targets: Sequence[str], limit: int) -> list[PendingBatch]:
    """The oldest ``limit`` rows owed to any of ``targets`` that nobody else holds, locked until
    the caller's transaction ends (call inside ``conn.transaction()``)."""
    cursor = conn.execute(
        "SELECT seq, pending, plain, with_items FROM etl.outbox WHERE pending && %s::text[] "
        "ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED",
        (list(targets), limit),
    )
    return [
        PendingBatch(
            seq,
            tuple(pending),
            plain.split(EVENT_SEPARATOR),
            None if with_items is None else with_items.split(EVENT_SEPARATOR),
        )
        for seq, pending, plain, with_items in cursor
    ]


def mark_delivered(conn: Connection, target: str, seqs: Sequence[int]) -> None:
    """``target`` got the rows ``seqs``: rows owed to nobody else go, the others owe it no more;
    the target's failures are forgotten."""
    conn.execute(
        "DELETE FROM etl.outbox WHERE seq = ANY(%s) AND pending = ARRAY[%s]::text[]",
        (list(seqs), target),
    )
    conn.execute(
        "UPDATE etl.outbox SET pending = array_remove(pending, %s) WHERE seq = ANY(%s)",
        (target, list(seqs)),
    )
    conn.execute("DELETE FROM etl.outbox_failures WHERE target = %s", (target,))


def mark_failed(conn: Connection, target: str, error: str) -> None:
    """Count a failed attempt of ``target``, keeping ``error`` (one line)."""
    conn.execute(
        "INSERT INTO etl.outbox_failures (target, attempts, last_error) VALUES (%s, 1, %s) "
        "ON CONFLICT (target) DO UPDATE SET attempts = etl.outbox_failures.attempts + 1, "
        "last_error = EXCLUDED.last_error, failed_at = now()",
        (target, error),
    )


def pending_summary(
    conn: Connection, collections: Sequence[str] | None = None
) -> list[PendingSummary]:
    """What waits, per target and collection (of ``collections`` only, when given), by target."""
    if not _table_exists(conn, "etl.outbox_failures"):
        return []
    rows = conn.execute(
        "SELECT t.target, o.collection, sum(o.events)::int, min(o.recorded_at), "
        "coalesce(max(f.attempts), 0), max(f.last_error) "
        "FROM etl.outbox o CROSS JOIN LATERAL unnest(o.pending) AS t(target) "
        "LEFT JOIN etl.outbox_failures f ON f.target = t.target "
        "WHERE %(all)s OR o.collection = ANY(%(collections)s) "
        "GROUP BY t.target, o.collection ORDER BY t.target, o.collection",
        {"all": collections is None, "collections": list(collections or ())},
    )
    return [PendingSummary(*row) for row in rows]


def _table_exists(conn: Connection, name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
    return bool(row and row[0])
