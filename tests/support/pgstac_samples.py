"""Synthetic STAC collections and items for the etl.pgstac tests and benchmark."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def make_collection(collection_id: str, *, title: str = "Test collection") -> dict[str, Any]:
    """A minimal valid STAC collection."""
    return {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": collection_id,
        "title": title,
        "description": f"{title} for etl tests",
        "license": "CC-BY-4.0",
        "links": [],
        "extent": {
            "spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {"interval": [["2020-01-01T00:00:00Z", None]]},
        },
        "item_assets": {"data": {"type": "image/tiff; application=geotiff", "roles": ["data"]}},
    }


def make_item(collection_id: str, n: int, *, month: int = 1, title: str = "tile") -> dict[str, Any]:
    """Item number ``n`` of ``collection_id``, dated the first of ``month`` 2024."""
    x = (n % 360) - 180 + 0.5
    y = ((n // 360) % 180) - 90 + 0.5
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": f"item-{n:07d}",
        "collection": collection_id,
        "geometry": {"type": "Point", "coordinates": [x, y]},
        "bbox": [x, y, x, y],
        "properties": {"datetime": f"2024-{month:02d}-01T00:00:00Z", "title": f"{title} {n}"},
        "assets": {
            "data": {
                "href": f"https://example.com/{collection_id}/{n}.tif",
                "type": "image/tiff; application=geotiff",
                "roles": ["data"],
            }
        },
        "links": [],
    }


def make_items(
    collection_id: str, start: int, stop: int, *, months: int = 1, title: str = "tile"
) -> Iterator[dict[str, Any]]:
    """Items ``start`` .. ``stop - 1``, spread over the first ``months`` months of 2024."""
    for n in range(start, stop):
        yield make_item(collection_id, n, month=n % months + 1, title=title)


def item_id(n: int) -> str:
    """The id :func:`make_item` gives item ``n``."""
    return f"item-{n:07d}"
