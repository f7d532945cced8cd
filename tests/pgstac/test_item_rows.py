"""etl.pgstac.item_rows: the rows a pod writes are pypgstac's, field for field, and load as the
items they were made from.

``format_row`` replaces pypgstac's ``format_item`` on the pods' item-making threads (a third of
its time); its contract is equality with pypgstac over every item, the unusual ones included
(those go to pypgstac's own function), and a round trip through PgSTAC.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from pgstac_samples import make_collection
from pypgstac.load import Loader

from etl.pgstac.item_rows import format_row
from etl.pgstac.writer import PgstacWriter

CASES = 3_000


class _Pypgstac(Loader):
    """pypgstac's own formatting, for a collection given without a database."""

    def __init__(self, collection: tuple[Any, ...]) -> None:
        super().__init__(db=None)  # type: ignore[arg-type]
        self.collection = collection

    def collection_json(self, collection_id: str) -> tuple[Any, ...]:
        return self.collection


def _number(rng: random.Random) -> Any:
    return rng.choice([rng.uniform(-180, 180), rng.randint(-90, 90), 0.1 + 0.2, -0.0, 1e-300])


def _position(rng: random.Random, dims: int) -> list[Any]:
    return [_number(rng) for _ in range(dims)]


def _geometry(rng: random.Random, dims: int) -> dict[str, Any] | None:
    def ring() -> list[Any]:
        return [_position(rng, dims) for _ in range(rng.randint(4, 9))]

    def line() -> list[Any]:
        return [_position(rng, dims) for _ in range(rng.randint(2, 6))]

    def polygon() -> list[Any]:
        return [ring() for _ in range(rng.randint(1, 3))]

    kind = rng.choice(
        ["Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"]
    )
    coordinates: Any = {
        "Point": lambda: _position(rng, dims),
        "LineString": line,
        "Polygon": polygon,
        "MultiPoint": lambda: [_position(rng, dims) for _ in range(rng.randint(1, 4))],
        "MultiLineString": lambda: [line() for _ in range(rng.randint(1, 3))],
        "MultiPolygon": lambda: [polygon() for _ in range(rng.randint(1, 3))],
    }[kind]()
    return {"type": kind, "coordinates": coordinates}


def _unusual_geometry(rng: random.Random) -> Any:
    """Geometries outside the fast path: pypgstac's function makes (or refuses) their rows."""
    return rng.choice(
        [
            None,
            {"type": "polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
            {"type": "Point", "coordinates": [1, 2, 3, 4]},
            {"type": "Point", "coordinates": (1.5, 2.5)},
            {"type": "LineString", "coordinates": [[0, 0], [1, 1, 1]]},
            {"type": "Polygon", "coordinates": []},
            {"type": "Point", "coordinates": [True, 2]},
            {
                "type": "GeometryCollection",
                "geometries": [{"type": "Point", "coordinates": [1, 2]}],
            },
        ]
    )


def _value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth > 2 or roll < 0.3:
        return rng.choice(["a", "b", 1, 2.5, None, True, [], ["data"], ["data", "x"]])
    if roll < 0.6:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice("klmnop"): _value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def _like(rng: random.Random, value: Any) -> Any:
    """A base item's value of the same shape as ``value``: equal in parts, different in others,
    with keys of its own."""
    if isinstance(value, dict):
        like = {k: _like(rng, v) for k, v in value.items() if rng.random() < 0.8}
        return like | {rng.choice("qrs"): _value(rng, 2) for _ in range(rng.randint(0, 2))}
    if isinstance(value, list) and rng.random() < 0.7:
        return [_like(rng, v) for v in value]
    return rng.choice([value, value, _value(rng, 3)])


def _item_and_base(rng: random.Random, usual: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    dims = rng.choice([2, 3])
    moment = f"20{rng.randint(10, 29)}-{rng.randint(1, 12):02d}-0{rng.randint(1, 9)}T00:00:00Z"
    properties: dict[str, Any] = {"datetime": moment, "title": rng.choice(["t", "u"])}
    assets = {
        name: {"href": f"https://x/{name}", "type": rng.choice(["image/tiff", "text/plain"])}
        for name in rng.sample(["data", "meta", "thumb"], rng.randint(1, 3))
    }
    item: dict[str, Any] = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": f"item-{rng.randint(0, 10**6)}",
        "collection": "c",
        "geometry": _geometry(rng, dims),
        "bbox": [0, 0, 1, 1],
        "properties": properties,
        "links": rng.choice([[], [{"rel": "self", "href": "x"}]]),
        "assets": assets,
    }
    base: dict[str, Any] = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "collection": "c",
        "assets": {
            name: {"type": rng.choice(["image/tiff", "text/plain"]), "roles": ["data"]}
            for name in rng.sample(["data", "meta", "thumb", "extra"], rng.randint(0, 4))
        },
    }
    for _ in range(rng.randint(0, 4)):  # shared keys, equal or not, nested or not
        key = rng.choice("klmnop")
        item[key] = _value(rng, 0)
        base[key] = _like(rng, item[key])
    if rng.random() < 0.2:
        item["private"] = {"note": rng.choice(["a", "b"])}
    if rng.random() < 0.1:
        item["pgstac:base_item"] = "stale"
    if not usual:
        roll = rng.randrange(5)
        if roll == 0:
            item["geometry"] = _unusual_geometry(rng)
        elif roll == 1:
            properties["start_datetime"] = moment
            properties["end_datetime"] = rng.choice([moment, "2000-01-01T00:00:00Z"])
        elif roll == 2:
            properties.pop("datetime")
        elif roll == 3:
            base["properties"] = "not a dictionary"
        else:
            item["assets"] = {"data": {"href": "https://x/data"}}
            base["assets"] = "not a dictionary"
    return item, base


def _cases(seed: int, usual: bool) -> Iterator[tuple[dict[str, Any], tuple[Any, ...]]]:
    rng = random.Random(seed)
    for _ in range(CASES):
        item, base = _item_and_base(rng, usual)
        trunc = rng.choice([None, "year", "month"])
        yield item, (base, rng.randint(1, 9), trunc, rng.choice([None, "base-1"]))


def _outcome(make: Any) -> Any:
    try:
        return make()
    except Exception as exc:
        return ("raised", type(exc), str(exc))


@pytest.mark.parametrize("usual", [True, False], ids=["usual items", "unusual items"])
def test_rows_equal_pypgstacs_own(usual: bool) -> None:
    fallbacks = []
    for item, collection in _cases(seed=27 + usual, usual=usual):
        pypgstac = _Pypgstac(collection)

        def fallback(item: dict[str, Any], pypgstac: Loader = pypgstac) -> dict[str, Any]:
            fallbacks.append(item["id"])
            return pypgstac.format_item(item)

        ours = _outcome(lambda: format_row(item, collection, fallback))  # noqa: B023
        assert ours == _outcome(lambda: pypgstac.format_item(item)), item  # noqa: B023
    if usual:  # the usual items never need pypgstac's function
        assert fallbacks == []
    else:
        assert len(fallbacks) > CASES // 2


@pytest.mark.postgres
def test_items_load_and_read_back_as_they_were_made(pgstac_dsn: str) -> None:
    collection = make_collection("rows")
    collection["item_assets"] |= {"thumb": {"type": "image/png", "roles": ["thumbnail"]}}
    rng = random.Random(7)
    items = []
    for n in range(200):
        item, _ = _item_and_base(rng, usual=True)
        item |= {"id": f"item-{n}", "collection": "rows"}
        items.append(item)
    with PgstacWriter(pgstac_dsn) as writer:
        writer.upsert_collection(collection)
        row_of = writer.row_formatter("rows")
        result = writer.load_items(items, "rows", rows=lambda batch: [row_of(i) for i in batch])
        assert result.items == 200
        for item in items:
            stored = writer.get_item("rows", item["id"])
            assert stored is not None
            # PgSTAC serves a geometry's numbers as floats and adds its own fields
            assert stored["geometry"]["coordinates"] == _floats(item["geometry"]["coordinates"])
            assert stored["assets"] == item["assets"]  # no asset of the base item added
            assert stored["properties"] == item["properties"]


def _floats(value: Any) -> Any:
    if isinstance(value, list):
        return [_floats(v) for v in value]
    return float(value)
