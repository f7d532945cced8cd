"""STAC validation with a compiled validator (issue 27, item 3).

``etl.task.stac_validation`` decides with ``jsonschema-rs`` (schemas from the local cache, never
fetched) and lets pure-Python ``jsonschema`` explain only the items it refuses. These tests check
that the compiled validator refuses what the schemas refuse, with the messages users saw before;
that a ``$ref`` to an uncached schema and a schema that does not compile are one-line errors; and,
through ``etl dataset process-items`` behind a dead proxy, that the compiled validator is the one
deciding: a value Python's ``re`` accepts but JSON Schema's regular expressions (ECMA 262) refuse
(``$`` before a final newline) fails its asset, where the pure-Python validator loaded it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from test_stac_validation import (
    ITEM_SCHEMA,
    dataset_copy,
    env,  # noqa: F401  (the fixture)
    errors,
    generate,
    item_count,
    process_items,
)

from etl.task.stac_schemas import StacSchemas
from etl.task.stac_validation import ItemValidation, StacValidationError

EXTENSION = "https://example.com/stac/etl-compiled/v1.0.0/schema.json"
REFERRING = "https://example.com/stac/etl-referring/v1.0.0/schema.json"
NOT_CACHED = "https://example.com/stac/etl-never-cached/v1.0.0/defs.json"
ITEM: dict[str, Any] = {
    "type": "Feature",
    "stac_version": "1.1.0",
    "stac_extensions": [],
    "id": "scene-1",
    "collection": "scenes",
    "geometry": {"type": "Point", "coordinates": [10.0, 50.0]},
    "bbox": [10.0, 50.0, 10.0, 50.0],
    "properties": {"datetime": "2024-01-01T00:00:00Z"},
    "assets": {"data": {"href": "https://example.com/1.tif", "roles": ["data"]}},
    "links": [{"rel": "collection", "href": "../collection.json", "type": "application/json"}],
}


def _extension(pattern: str, schema_id: str = EXTENSION) -> dict[str, Any]:
    """An extension schema requiring ``properties.test:code`` to match ``pattern``."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": schema_id,
        "type": "object",
        "required": ["properties"],
        "properties": {
            "properties": {
                "required": ["test:code"],
                "properties": {"test:code": {"type": "string", "pattern": pattern}},
            }
        },
    }


def _cache(folder: Path, *schemas: dict[str, Any]) -> Path:
    """``schemas`` written to a cache folder at ``HOST/PATH`` of their ``$id``."""
    for schema in schemas:
        path = folder / schema["$id"].split("://", 1)[1]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(schema))
    return folder


def _invalid(change: str) -> dict[str, Any]:
    item = copy.deepcopy(ITEM)
    if change == "datetime-offset":
        item["properties"]["datetime"] = "2024-01-01T02:00:00+02:00"
    elif change == "no-id":
        del item["id"]
    elif change == "geometry":
        item["geometry"] = {"type": "Point", "coordinates": "x"}
    elif change == "asset-href":
        del item["assets"]["data"]["href"]
    elif change == "bbox":
        item["bbox"] = [1]
    elif change == "link-rel":
        del item["links"][0]["rel"]
    return item


def test_the_validator_is_compiled_and_accepts_a_valid_item() -> None:
    assert isinstance(StacSchemas([]).validator(ITEM_SCHEMA), jsonschema_rs.Validator)
    ItemValidation(1.0, StacSchemas([])).check(ITEM, "scene-1")


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ("datetime-offset", "$.properties.datetime: '2024-01-01T02:00:00+02:00' does not match"),
        ("no-id", "$: 'id' is a required property"),
        ("geometry", "$.geometry: {'type': 'Point', 'coordinates': 'x'} is not valid under any"),
        ("asset-href", "$.assets.data: 'href' is a required property"),
        ("bbox", "$.bbox: [1] is too short"),
        ("link-rel", "$.links[0]: 'rel' is a required property"),
    ],
)
def test_an_invalid_item_is_refused_with_the_schema_path_and_message(
    change: str, where: str
) -> None:
    with pytest.raises(StacValidationError) as caught:
        ItemValidation(1.0, StacSchemas([])).check(_invalid(change), "scene-1")

    assert str(caught.value).startswith(f"item 'scene-1': {ITEM_SCHEMA}: {where}")
    assert "\n" not in str(caught.value)


def test_a_reference_to_an_uncached_schema_is_named_with_the_schema_needing_it(
    tmp_path: Path,
) -> None:
    referring = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": REFERRING,
        "$ref": f"{NOT_CACHED}#/definitions/code",
    }
    schemas = StacSchemas([_cache(tmp_path, referring)])
    item = dict(ITEM, stac_extensions=[REFERRING])

    with pytest.raises(StacValidationError) as caught:
        ItemValidation(1.0, schemas).check(item, "scene-1")

    assert str(caught.value) == (
        f"item 'scene-1': schema {NOT_CACHED} is not in etl's schema cache (schemas are never "
        f"fetched at run time); add it with `scripts/stac-schemas add {NOT_CACHED}` and rebuild "
        f"the image, or put it in a folder of $ETL_STAC_SCHEMAS (needed by {REFERRING})"
    )


def test_a_schema_that_does_not_compile_is_a_one_line_error(tmp_path: Path) -> None:
    schemas = StacSchemas([_cache(tmp_path, _extension("\\Z"))])  # Python's re only, not ECMA
    item = dict(ITEM, stac_extensions=[EXTENSION])

    with pytest.raises(StacValidationError) as caught:
        ItemValidation(1.0, schemas).check(item, "scene-1")

    assert str(caught.value) == (
        f'item \'scene-1\': schema {EXTENSION} cannot be used: "\\\\Z" is not a "regex"'
    )


EXTENDED_CLASS = f'''
from sample_sidecars.collection import SampleSidecarsCollection


class CodedCollection(SampleSidecarsCollection):
    """Names the test extension; scene 2's code ends in a newline."""

    @classmethod
    def create_item(cls, asset_uri, storage):
        item = super().create_item(asset_uri, storage)
        item.stac_extensions.append("{EXTENSION}")
        item.properties["test:code"] = "7\\n" if item.id.endswith("2") else "7"
        return item
'''


@pytest.mark.postgres
def test_the_compiled_validator_decides_what_loads(
    env: dict[str, str],  # noqa: F811
    pgstac_dsn: str,
    tmp_path: Path,
) -> None:
    schemas = _cache(tmp_path / "schemas", _extension("^[0-9]+$"))
    dataset = dataset_copy(
        tmp_path,
        "stac_validation: {mode: full}",
        klass="sample_sidecars.coded:CodedCollection",
    )
    (dataset / "sample_sidecars" / "coded.py").write_text(EXTENDED_CLASS)
    with (dataset / "dataset.yaml").open("a") as out:
        out.write(f"environment:\n  ETL_STAC_SCHEMAS: {schemas}\n")
    root = tmp_path / "root"
    generate(root, 4, shifted=set(), env=env)

    code, name = process_items(dataset, root, env).split()

    assert code == "1"
    # Python's re lets "$" match before a final newline; JSON Schema's patterns do not.
    assert errors(name, env) == {
        "sample-scene-0000002.json": (
            f"StacValidationError: item 'sample-scene-0000002': {EXTENSION}: "
            '$.properties.test:code: "7\\n" does not match "^[0-9]+$"'
        )
    }
    assert item_count(pgstac_dsn) == 3
