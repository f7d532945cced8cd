"""Load slots: a bound on concurrent loaders kept as PostgreSQL advisory locks.

Slot ``k`` of a scope is the session-level advisory lock ``(hashtext(name), k)``. A loader takes the
first free slot (or queues for one, see :func:`acquire_load_slot`) on the connection it loads through for each batch and gives it back after the
batch, so loaders that also make items (one long load per pod) take turns batch by batch; a slot
also ends the moment its connection ends, cleanly or not: a crashed pod can never leak a slot.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from etl.pgstac.errors import LoadSlotTimeoutError
from etl.pgstac.policy import LoadConcurrency

if TYPE_CHECKING:
    import psycopg

__all__ = ["acquire_load_slot", "busy_load_slots", "release_load_slot"]

_TRY_LOCK = "SELECT pg_try_advisory_lock(hashtext(%s), %s)"
_LOCK = "SELECT pg_advisory_lock(hashtext(%s), %s)"
_UNLOCK = "SELECT pg_advisory_unlock(hashtext(%s), %s)"


def acquire_load_slot(
    conn: psycopg.Connection[tuple[Any, ...]],
    collection_id: str,
    concurrency: LoadConcurrency,
) -> int:
    """Take a free load slot on ``conn``, waiting for one; returns the slot number.

    When every slot is taken, the loader queues on one of them (in turn) for up to
    ``concurrency.poll_interval`` seconds, so it gets that slot the moment its holder lets go, and
    then looks at all of them again.

    Raises:
        LoadSlotTimeoutError: every slot stayed taken for ``concurrency.wait_timeout`` seconds.
    """
    name = concurrency.lock_name(collection_id)
    started = time.monotonic()
    turn = 0
    while True:
        for slot in range(concurrency.slots):
            row = conn.execute(_TRY_LOCK, (name, slot)).fetchone()
            if row is not None and row[0] is True:
                return slot
        waited = time.monotonic() - started
        if concurrency.wait_timeout is not None and waited >= concurrency.wait_timeout:
            raise LoadSlotTimeoutError(name, concurrency.slots, waited)
        pause = concurrency.poll_interval
        if concurrency.wait_timeout is not None:
            pause = min(pause, concurrency.wait_timeout - waited)
        slot = turn % concurrency.slots
        if _queue_for_slot(conn, name, slot, pause):
            return slot
        turn += 1


def _queue_for_slot(
    conn: psycopg.Connection[tuple[Any, ...]], name: str, slot: int, seconds: float
) -> bool:
    """Wait up to ``seconds`` for ``slot``; whether it was granted (it stays held, per session)."""
    import psycopg

    try:
        with conn.transaction():
            conn.execute(
                "SELECT set_config('lock_timeout', %s, true)",
                (f"{max(1, round(seconds * 1000))}ms",),
            )
            conn.execute(_LOCK, (name, slot))
    except psycopg.errors.LockNotAvailable:
        return False
    return True


def release_load_slot(
    conn: psycopg.Connection[tuple[Any, ...]],
    collection_id: str,
    concurrency: LoadConcurrency,
    slot: int,
) -> None:
    """Give back ``slot``, taken on ``conn`` by :func:`acquire_load_slot`."""
    conn.execute(_UNLOCK, (concurrency.lock_name(collection_id), slot))


def busy_load_slots(
    conn: psycopg.Connection[tuple[Any, ...]],
    collection_id: str,
    concurrency: LoadConcurrency,
) -> int:
    """How many of the scope's load slots are held right now (by any session)."""
    row = conn.execute(
        "SELECT count(*) FROM pg_locks"
        " WHERE locktype = 'advisory' AND granted AND objsubid = 2"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND classid = hashtext(%s)::oid AND objid::bigint < %s",
        (concurrency.lock_name(collection_id), concurrency.slots),
    ).fetchone()
    return int(row[0]) if row else 0
