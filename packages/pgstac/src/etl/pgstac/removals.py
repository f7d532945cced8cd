"""Removing items whose assets are gone: pgstac's ``delete_item`` in one transaction per batch.

Each batch's items and their ``etl.item_sources`` rows go in the same transaction, holding one of
the collection's load slots, so a failed removal leaves both as they were for that batch; so do
the batch's ``deleted`` events (``etl.outbox``), when the caller asks for them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from etl.pgstac.item_events import ItemEventSpec, item_versions, record_removal_events
from etl.pgstac.item_sources import Connection, forget_item_sources
from etl.pgstac.policy import LoadConcurrency
from etl.pgstac.session import existing_ids
from etl.pgstac.slots import acquire_load_slot, release_load_slot

__all__ = ["REMOVAL_BATCH", "remove_items"]

REMOVAL_BATCH = 1_000
"""Items deleted per transaction."""


def remove_items(
    conn: Connection,
    collection_id: str,
    item_ids: Sequence[str],
    *,
    concurrency: LoadConcurrency,
    on_batch: Callable[[list[str]], None] | None = None,
    batch_size: int = REMOVAL_BATCH,
    events: ItemEventSpec | None = None,
) -> int:
    """Delete ``item_ids`` from the collection and forget their sources; returns how many items
    were deleted (ids no longer in PgSTAC are only forgotten). ``on_batch`` gets each committed
    batch's ids. With ``events``, each deleted item's event is recorded in its batch's
    transaction."""
    deleted = 0
    for start in range(0, len(item_ids), batch_size):
        batch = list(item_ids[start : start + batch_size])
        slot = acquire_load_slot(conn, collection_id, concurrency)
        try:
            with conn.transaction():
                present = existing_ids(conn, collection_id, batch)
                if events is not None:
                    versions = item_versions(conn, collection_id, present)
                    record_removal_events(conn, events, collection_id, versions)
                with conn.cursor() as cursor:
                    cursor.executemany(
                        "SELECT delete_item(%s, %s)",
                        [(item_id, collection_id) for item_id in present],
                    )
                forget_item_sources(conn, collection_id, batch)
        finally:
            release_load_slot(conn, collection_id, concurrency, slot)
        deleted += len(present)
        if on_batch is not None:
            on_batch(batch)
    return deleted
