"""What PgSTAC holds for a collection, read only: its items and extent (``etl dataset status``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from etl.pgstac.item_sources import Connection, count_item_sources

__all__ = ["CollectionState", "collection_state"]


@dataclass(frozen=True)
class CollectionState:
    """A collection as PgSTAC has it.

    Attributes:
        collection: The collection id.
        exists: Whether PgSTAC has the collection.
        items: Its items.
        recorded: Items whose source etl recorded (``etl.item_sources``).
        extent: The ``extent`` of the collection row (``None`` when there is no collection).
    """

    collection: str
    exists: bool
    items: int
    recorded: int
    extent: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        """The ``pgstac`` part of ``etl dataset status -o json``."""
        return {
            "exists": self.exists,
            "items": self.items,
            "recorded": self.recorded,
            "extent": self.extent,
        }


def collection_state(conn: Connection, collection_id: str) -> CollectionState:
    """Read the collection's row and count its items (on a ``connect_pgstac`` connection)."""
    row = conn.execute(
        "SELECT content->'extent' FROM collections WHERE id = %s", (collection_id,)
    ).fetchone()
    if row is None:
        return CollectionState(collection_id, False, 0, 0, None)
    count = conn.execute("SELECT count(*) FROM items WHERE collection = %s", (collection_id,))
    counted = count.fetchone()
    return CollectionState(
        collection=collection_id,
        exists=True,
        items=int(counted[0]) if counted else 0,
        recorded=count_item_sources(conn, collection_id),
        extent=row[0],
    )
