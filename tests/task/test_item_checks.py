"""etl.task.item_checks: what process-chunks refuses to load, and the message that says why."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from etl.task.item_checks import ItemChecker, ItemCheckError
from etl.task.stac_validation import ItemValidation


def _item(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "Feature",
        "stac_version": "1.1.0",
        "id": "scene-1",
        "collection": "scenes",
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[10, 40], [11, 40], [11, 41], [10, 41], [10, 40]]],
        },
        "bbox": [10, 40, 11, 41],
        "properties": {"datetime": "2024-01-01T00:00:00Z"},
        "links": [],
        "assets": {"data": {"href": "https://example.com/scene-1.tif"}},
    }
    for key, value in changes.items():
        if value is _DROP:
            del item[key]
        else:
            item[key] = value
    return item


_DROP = object()


@pytest.mark.parametrize(
    "item",
    [
        _item(),
        _item(
            geometry={"type": "Point", "coordinates": [10.5, 40.5]}, bbox=[10.5, 40.5, 10.5, 40.5]
        ),
        _item(geometry=None, bbox=_DROP),
        _item(
            geometry={"type": "MultiPoint", "coordinates": [[179.5, 0], [-179.5, 1]]},
            bbox=[179.5, 0, -179.5, 1],  # crosses the antimeridian
        ),
        _item(
            geometry={"type": "Point", "coordinates": [10.5, 40.5, 12]},
            bbox=[10.5, 40.5, 12, 10.5, 40.5, 12],
        ),
        _item(
            geometry={
                "type": "GeometryCollection",
                "geometries": [
                    {"type": "Point", "coordinates": [10, 40]},
                    {"type": "LineString", "coordinates": [[10, 40], [11, 41]]},
                ],
            }
        ),
        _item(
            properties={
                "start_datetime": "2024-01-01T00:00:00Z",
                "end_datetime": "2024-02-01T00:00:00Z",
                "datetime": None,
            }
        ),
    ],
    ids=["polygon", "point", "no-geometry", "antimeridian", "3d-bbox", "collection", "range"],
)
def test_fit_items_pass(item: dict[str, Any]) -> None:
    before = copy.deepcopy(item)
    ItemChecker("scenes").check(item)
    assert item == before


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (_item(id=""), "item has no id"),
        (_item(collection="other"), "item 'scene-1': collection is 'other', expected 'scenes'"),
        (_item(geometry=None), "item 'scene-1': has a bbox but no geometry"),
        (_item(geometry=[1, 2]), "item 'scene-1': geometry is not a GeoJSON geometry"),
        (_item(bbox=_DROP), "item 'scene-1': has a geometry but no bbox of 4 or 6 numbers"),
        (
            _item(bbox=[10, 41, 11, 40]),
            "item 'scene-1': bbox [10, 41, 11, 40] has a minimum above its maximum",
        ),
        (
            _item(bbox=[10, 40, 10.5, 41]),
            "item 'scene-1': geometry point (11.0, 40.0) lies outside bbox [10, 40, 10.5, 41]",
        ),
        (
            _item(properties={"title": "x"}),
            "item 'scene-1': has no datetime, nor start_datetime and end_datetime",
        ),
        (_item(assets={}), "item 'scene-1': has no assets"),
        (_item(assets={"data": {"title": "no link"}}), "item 'scene-1': asset 'data' has no href"),
    ],
    ids=[
        "id",
        "collection",
        "bbox-without-geometry",
        "geometry",
        "bbox-missing",
        "bbox-inverted",
        "outside-bbox",
        "datetime",
        "assets",
        "href",
    ],
)
def test_unfit_items_are_refused_with_a_message_naming_the_item(
    item: dict[str, Any], message: str
) -> None:
    with pytest.raises(ItemCheckError) as caught:
        ItemChecker("scenes").check(item)
    assert str(caught.value) == message


def test_schema_validation_refuses_invalid_stac_when_asked() -> None:
    bad = _item(links=[{"href": "x"}])  # a link without rel
    ItemChecker("scenes").check(bad)  # structural checks only, by default
    with pytest.raises(ItemCheckError) as caught:
        ItemChecker("scenes", ItemValidation(1.0)).check(bad)
    assert str(caught.value) == (
        "item 'scene-1': https://schemas.stacspec.org/v1.1.0/item-spec/json-schema/item.json: "
        "$.links[0]: 'rel' is a required property"
    )
