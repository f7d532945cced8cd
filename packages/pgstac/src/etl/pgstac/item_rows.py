"""The row pypgstac writes for an item, made the way ``pypgstac.load.Loader.format_item`` makes
it, in a third of the time.

A ``process-chunks`` pod formats every item it loads: pypgstac's ``format_item`` was the largest
per-item cost of its item making threads after ``create_item`` itself (docs/performance.md): its
``dehydrate`` walks the item against the collection's base item through two generic helpers,
and ``plpygis`` builds an object tree per geometry to write its EWKB (40 µs for a five-point
polygon). :func:`format_row` gives the same row, field for field, for the items nearly every
dataset makes, and hands any other item to pypgstac's own ``format_item`` (``fallback``), so the
row of an unusual item is pypgstac's by construction:

- ``datetime`` set (a ``start_datetime``/``end_datetime`` range goes to pypgstac, which checks
  its order);
- a geometry of one of GeoJSON's six simple types whose positions all have two numbers or all
  three (a ``GeometryCollection``, an empty or mixed geometry goes to pypgstac);
- a base item (the collection's ``item_assets`` and common fields) that is a dictionary, with
  no dictionary of the item where the base item has something other than a dictionary.

tests/pgstac/test_item_rows.py holds the equality with pypgstac over generated items.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import orjson
from pypgstac.hydration import DO_NOT_MERGE_MARKER

__all__ = ["format_row"]

Formatter = Callable[[dict[str, Any]], dict[str, Any]]

SRID = 4326
"""The SRID pypgstac gives every geometry (plpygis' GeoJSON default)."""

_WKB_TYPES = {
    "Point": 1,
    "LineString": 2,
    "Polygon": 3,
    "MultiPoint": 4,
    "MultiLineString": 5,
    "MultiPolygon": 6,
}
_DEPTH = {
    "Point": 0,
    "LineString": 1,
    "Polygon": 2,
    "MultiPoint": 1,
    "MultiLineString": 2,
    "MultiPolygon": 3,
}
"""How deep a type's positions lie in its ``coordinates``."""
_PART = {"MultiPoint": "Point", "MultiLineString": "LineString", "MultiPolygon": "Polygon"}
_Z_FLAG = 0x80000000
_SRID_FLAG = 0x20000000


class _UnusualItemError(Exception):
    """An item the fast path leaves to pypgstac."""


def format_row(
    item: dict[str, Any], collection: tuple[Any, ...], fallback: Formatter
) -> dict[str, Any]:
    """pypgstac's row of ``item``, an item of ``collection`` (pypgstac's ``collection_json``:
    base item, partition key, partition truncation, base item id); ``fallback`` (pypgstac's
    ``format_item``) makes the rows of items outside the fast path, and raises what it raises."""
    try:
        return _format(item, collection)
    except (_UnusualItemError, struct.error, OverflowError):
        return fallback(item)


def _format(item: dict[str, Any], collection: tuple[Any, ...]) -> dict[str, Any]:
    base_item, key, partition_trunc, base_item_id = collection
    properties = item.get("properties", {})
    if not isinstance(properties, dict):
        raise _UnusualItemError
    if properties.get("end_datetime") is not None and properties.get("start_datetime") is not None:
        raise _UnusualItemError
    moment = properties.get("datetime")
    if not isinstance(moment, str):
        raise _UnusualItemError
    if partition_trunc == "year":
        partition = f"_items_{key}_{moment.replace('-', '')[:4]}"
    elif partition_trunc == "month":
        partition = f"_items_{key}_{moment.replace('-', '')[:6]}"
    else:
        partition = f"_items_{key}"
    if not isinstance(base_item, dict):
        raise _UnusualItemError
    geojson = item.get("geometry")
    content = _strip(base_item, item)
    content.pop("id", None)
    content.pop("collection", None)
    content.pop("geometry", None)
    content.pop("pgstac:base_item", None)
    if base_item_id is not None:
        content["pgstac:base_item"] = base_item_id
    private = content.pop("private", None)
    return {
        "id": item.get("id"),
        "collection": item.get("collection"),
        "datetime": moment,
        "end_datetime": moment,
        "partition": partition,
        "geometry": None if geojson is None else ewkb_hex(geojson),
        "private": None if private is None else orjson.dumps(private).decode(),
        "content": orjson.dumps(content).decode(),
    }


def _strip(base: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """pypgstac's ``dehydrate(base, item)`` where ``base`` is a dict."""
    out: dict[str, Any] = {}
    for key, value in item.items():
        if key not in base:
            out[key] = value
            continue
        base_value = base[key]
        if base_value == value:
            continue
        if isinstance(base_value, list) and isinstance(value, list):
            if len(base_value) == len(value):
                out[key] = [
                    _strip(b, v) if isinstance(b, dict) and isinstance(v, dict) else v
                    for b, v in zip(base_value, value, strict=True)
                ]
            else:
                out[key] = value
            continue
        if value is None or value == []:
            continue
        if isinstance(value, dict):
            if not isinstance(base_value, dict):
                raise _UnusualItemError
            out[key] = _strip(base_value, value)
            continue
        out[key] = value
    for key in base:
        if key not in item:
            out[key] = DO_NOT_MERGE_MARKER
    return out


def ewkb_hex(geojson: Any) -> str:
    """The hex EWKB (SRID 4326, little-endian) of a simple GeoJSON geometry, as plpygis writes
    it; raises :class:`_UnusualItemError` for anything else."""
    if not isinstance(geojson, dict):
        raise _UnusualItemError
    kind = geojson.get("type")
    if not isinstance(kind, str) or kind not in _WKB_TYPES:
        raise _UnusualItemError
    coordinates: list[Any] = geojson.get("coordinates")  # type: ignore[assignment]
    dims = _dims(coordinates, _DEPTH[kind])
    flags = _Z_FLAG if dims == 3 else 0
    out = bytearray(struct.pack("<BII", 1, _WKB_TYPES[kind] | flags | _SRID_FLAG, SRID))
    part = _PART.get(kind)
    if part is None:
        _write(out, coordinates, _DEPTH[kind])
    else:
        out += struct.pack("<I", len(coordinates))
        part_header = struct.pack("<BI", 1, _WKB_TYPES[part] | flags)
        for geometry in coordinates:
            out += part_header
            _write(out, geometry, _DEPTH[part])
    return out.hex()


def _write(out: bytearray, coordinates: list[Any], depth: int) -> None:
    """Append the WKB body of a simple geometry's ``coordinates`` nested ``depth`` deep."""
    if depth == 0:
        out += struct.pack(f"<{len(coordinates)}d", *coordinates)
    elif depth == 1:
        out += struct.pack("<I", len(coordinates))
        for position in coordinates:
            out += struct.pack(f"<{len(position)}d", *position)
    else:
        out += struct.pack("<I", len(coordinates))
        for part in coordinates:
            _write(out, part, depth - 1)


def _dims(coordinates: Any, depth: int) -> int:
    """The number of values of every position (2 or 3) of ``coordinates`` nested ``depth`` deep;
    raises :class:`_UnusualItemError` when empty, mixed, or not all plain numbers."""
    if depth == 0:
        if not isinstance(coordinates, list) or len(coordinates) not in (2, 3):
            raise _UnusualItemError
        for value in coordinates:
            if type(value) is not float and type(value) is not int:
                raise _UnusualItemError
        return len(coordinates)
    if not isinstance(coordinates, list) or not coordinates:
        raise _UnusualItemError
    found = {_dims(part, depth - 1) for part in coordinates}
    if len(found) != 1:
        raise _UnusualItemError
    return found.pop()
