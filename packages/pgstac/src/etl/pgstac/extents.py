"""A collection's extent in PgSTAC made to follow its items.

pgstac's ``collection_extent(id, true)`` recomputes the statistics of each of the collection's
partitions (``update_partition_stats``: one scan of its items) and aggregates them into
``{"spatial": {"bbox": [[...]]}, "temporal": {"interval": [[start, end]]}}``. pgstac's own
``update_collection_extents()`` does this for *every* collection of the database, so etl runs the
per-collection function once per run, holding one of the collection's load slots.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from etl.pgstac.item_sources import Connection
from etl.pgstac.policy import LoadConcurrency
from etl.pgstac.slots import acquire_load_slot, release_load_slot

__all__ = ["ExtentUpdate", "covers", "update_collection_extent"]


@dataclass(frozen=True)
class ExtentUpdate:
    """What :func:`update_collection_extent` did."""

    collection: str
    items_extent: dict[str, Any] | None
    """The extent of the items (``None`` when the collection has none)."""
    stored: dict[str, Any] | None
    """The collection's extent afterwards."""
    changed: bool
    reason: str
    """Why it is what it is, for the run's output."""


def update_collection_extent(
    conn: Connection, collection_id: str, *, keep_template: bool, concurrency: LoadConcurrency
) -> ExtentUpdate:
    """Set the collection's extent to its items' extent.

    With ``keep_template`` the stored (template) extent is kept when it covers the items, and
    replaced by theirs when it does not. A collection without items keeps its extent.
    """
    slot = acquire_load_slot(conn, collection_id, concurrency)
    try:
        row = conn.execute(
            "SELECT collection_extent(%s, true), content->'extent' FROM collections WHERE id = %s",
            (collection_id, collection_id),
        ).fetchone()
        items, stored = (row[0], row[1]) if row else (None, None)
        if items is None:
            return ExtentUpdate(collection_id, None, stored, False, "no items: extent kept")
        if keep_template and stored is not None and covers(stored, items):
            return ExtentUpdate(collection_id, items, stored, False, "template covers the items")
        reason = "template does not cover the items: replaced" if keep_template else "items"
        if stored == items:
            return ExtentUpdate(collection_id, items, stored, False, "already the items' extent")
        conn.execute(
            "UPDATE collections SET content = jsonb_set(content, '{extent}', %s) WHERE id = %s",
            (_jsonb(items), collection_id),
        )
        return ExtentUpdate(collection_id, items, items, True, reason)
    finally:
        release_load_slot(conn, collection_id, concurrency, slot)


def covers(outer: dict[str, Any], inner: dict[str, Any]) -> bool:
    """Whether ``outer``'s overall bbox and interval contain ``inner``'s (open ends unbounded)."""
    try:
        obox, ibox = outer["spatial"]["bbox"][0], inner["spatial"]["bbox"][0]
        ostart, oend = outer["temporal"]["interval"][0]
        istart, iend = inner["temporal"]["interval"][0]
    except (KeyError, IndexError, TypeError, ValueError):
        return False
    half = len(obox) // 2
    if len(ibox) != 4 or half not in (2, 3):
        return False
    inside = (
        obox[0] <= ibox[0]
        and obox[1] <= ibox[1]
        and obox[half] >= ibox[2]
        and obox[half + 1] >= ibox[3]
    )
    return inside and _before(ostart, istart) and _before(iend, oend)


def _before(earlier: str | None, later: str | None) -> bool:
    """``earlier <= later``, ``None`` being the open end on either side."""
    if earlier is None or later is None:
        return True
    return _time(earlier) <= _time(later)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _jsonb(value: dict[str, Any]) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value)
