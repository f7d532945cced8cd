"""Checks every item a dataset's ``create_item`` returns before it is written.

The cheap structural checks always run: right collection id, a geometry with a matching bbox, a
datetime (or a start/end range), at least one asset with an href. Full STAC JSON-Schema validation
(:mod:`etl.task.stac_validation`) runs only when the collection's ``stac_validation`` asks for it:
every schema an item names must be cached in the image (docs/writing-a-dataset.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from etl.task.stac_validation import ItemValidation

__all__ = ["ItemCheckError", "ItemChecker"]


class ItemCheckError(ValueError):
    """An item fails a check; the message names the item and what is wrong."""


@dataclass(frozen=True)
class ItemChecker:
    """Checks item dicts of one collection.

    Attributes:
        collection_id: The collection every item must belong to.
        validation: Full STAC validation of (a share of) the items, or ``None``.
    """

    collection_id: str
    validation: ItemValidation | None = None

    def check(self, item: Mapping[str, Any]) -> None:
        """Raise :class:`ItemCheckError` when ``item`` is not fit to load."""
        item_id = item.get("id")
        if not isinstance(item_id, str) or not item_id:
            raise ItemCheckError("item has no id")
        if item.get("collection") != self.collection_id:
            raise ItemCheckError(
                f"item {item_id!r}: collection is {item.get('collection')!r}, "
                f"expected {self.collection_id!r}"
            )
        _check_geometry(item, item_id)
        _check_datetime(item.get("properties") or {}, item_id)
        assets = item.get("assets")
        if not assets:
            raise ItemCheckError(f"item {item_id!r}: has no assets")
        for key, asset in assets.items():
            if not isinstance(asset, dict) or not asset.get("href"):
                raise ItemCheckError(f"item {item_id!r}: asset {key!r} has no href")
        if self.validation is not None:
            self.validation.check(item, item_id)


def _check_geometry(item: Mapping[str, Any], item_id: str) -> None:
    geometry = item.get("geometry")
    bbox = item.get("bbox")
    if geometry is None:
        if bbox is not None:
            raise ItemCheckError(f"item {item_id!r}: has a bbox but no geometry")
        return
    if not isinstance(geometry, dict) or "type" not in geometry:
        raise ItemCheckError(f"item {item_id!r}: geometry is not a GeoJSON geometry")
    if not isinstance(bbox, list) or len(bbox) not in (4, 6):
        raise ItemCheckError(f"item {item_id!r}: has a geometry but no bbox of 4 or 6 numbers")
    half = len(bbox) // 2
    west, south, east, north = bbox[0], bbox[1], bbox[half], bbox[half + 1]
    if south > north or (half == 3 and bbox[2] > bbox[5]):
        raise ItemCheckError(f"item {item_id!r}: bbox {bbox} has a minimum above its maximum")
    slack = 1e-6
    crosses_antimeridian = west > east
    for x, y in _coordinates(geometry):
        inside_x = crosses_antimeridian or west - slack <= x <= east + slack
        if not inside_x or not south - slack <= y <= north + slack:
            raise ItemCheckError(
                f"item {item_id!r}: geometry point ({x}, {y}) lies outside bbox {bbox}"
            )


def _coordinates(geometry: Mapping[str, Any]) -> Iterator[tuple[float, float]]:
    """Every position of a GeoJSON geometry, as (x, y)."""
    if geometry.get("type") == "GeometryCollection":
        for part in geometry.get("geometries") or []:
            yield from _coordinates(part)
        return
    stack = [geometry.get("coordinates")]
    while stack:
        value = stack.pop()
        if isinstance(value, (list, tuple)) and value:
            if isinstance(value[0], (int, float)):
                yield float(value[0]), float(value[1])
            else:
                stack.extend(reversed(value))


def _check_datetime(properties: Mapping[str, Any], item_id: str) -> None:
    if properties.get("datetime"):
        return
    if properties.get("start_datetime") and properties.get("end_datetime"):
        return
    raise ItemCheckError(f"item {item_id!r}: has no datetime, nor start_datetime and end_datetime")
