"""What the catalog page shows, read only from PgSTAC: each collection's item count and extent,
its items' footprints (for the map) and its items per day (for the chart)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from etl.pgstac.catalog_state import CollectionState, collection_state
from etl.pgstac.session import Connection

__all__ = [
    "MAP_ITEMS",
    "CollectionView",
    "Footprint",
    "collection_ids",
    "collection_view",
]

MAP_ITEMS = 2000
"""Footprints drawn on a collection's map at most (the newest items)."""


@dataclass(frozen=True)
class Footprint:
    """An item's id and its geometry (GeoJSON)."""

    item: str
    geometry: dict[str, Any]


@dataclass(frozen=True)
class CollectionView:
    """A collection as its page shows it."""

    state: CollectionState
    title: str | None
    footprints: tuple[Footprint, ...]
    per_day: tuple[tuple[str, int], ...]
    """Items by the UTC day of their ``datetime``, oldest first."""


def collection_ids(conn: Connection) -> list[str]:
    """Every collection PgSTAC holds, by id."""
    return [str(row[0]) for row in conn.execute("SELECT id FROM collections ORDER BY id")]


def collection_view(conn: Connection, collection_id: str, *, footprints: bool) -> CollectionView:
    """The collection's state and title, its items per day and (with ``footprints``) the newest
    :data:`MAP_ITEMS` footprints."""
    state = collection_state(conn, collection_id)
    row = conn.execute(
        "SELECT content->>'title' FROM collections WHERE id = %s", (collection_id,)
    ).fetchone()
    per_day = conn.execute(
        "SELECT to_char(datetime AT TIME ZONE 'UTC', 'YYYY-MM-DD'), count(*) FROM items"
        " WHERE collection = %s GROUP BY 1 ORDER BY 1",
        (collection_id,),
    ).fetchall()
    shapes: list[Footprint] = []
    if footprints:
        found = conn.execute(
            "SELECT id, ST_AsGeoJSON(geometry, 6) FROM items WHERE collection = %s"
            " ORDER BY datetime DESC, id LIMIT %s",
            (collection_id, MAP_ITEMS),
        )
        shapes = [Footprint(str(item), json.loads(geo)) for item, geo in found if geo]
    return CollectionView(
        state=state,
        title=row[0] if row else None,
        footprints=tuple(shapes),
        per_day=tuple((str(day), int(count)) for day, count in per_day),
    )
