"""etl.dataset.model: defaults, conversions, the JSON schema and the generated reference docs."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from etl.cli.field_reference_docs import REFERENCE, render_field_reference
from etl.dataset.model import ChunkOptions, DatasetConfig, TaskName, dataset_json_schema

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "dataset-yaml.md"


def _dataset(**collection: Any) -> dict[str, Any]:
    return {
        "id": "demo",
        "collections": [{"id": "demo", "class": "demo:Demo", "asset_storage": [], **collection}],
    }


def test_defaults_match_pctasks() -> None:
    options = ChunkOptions()
    # Not PCTasks' 30000: a chunk should be minutes of a pod's work (docs/chunking.md).
    assert options.chunk_length == 1000
    assert options.list_folders is False
    assert options.match_full_path is False
    config = DatasetConfig.model_validate(_dataset())
    assert config.image is None
    assert config.collections[0].chunk_storage is None
    assert config.collections[0].collection_class == "demo:Demo"


def test_since_is_always_an_aware_utc_time() -> None:
    assert ChunkOptions.model_validate({"since": date(2024, 1, 31)}).since == datetime(
        2024, 1, 31, tzinfo=UTC
    )
    assert ChunkOptions.model_validate({"since": "2024-01-31T06:00:00"}).since == datetime(
        2024, 1, 31, 6, tzinfo=UTC
    )
    since = ChunkOptions.model_validate({"since": "2024-01-31T06:00:00+02:00"}).since
    assert since is not None and since.utcoffset() is not None
    assert since == datetime(2024, 1, 31, 4, tzinfo=UTC)


def test_yaml_scalars_become_the_strings_pods_need() -> None:
    config = DatasetConfig.model_validate(
        {
            **_dataset(
                asset_storage=[
                    {
                        "uri": "blob://acct/data",
                        "chunks": {"splits": [{"prefix": 2024, "depth": 1}]},
                    }
                ]
            ),
            "environment": {"DEBUG": True, "WORKERS": 4, "RATIO": 0.5},
            "task_config": {
                "demo": {"create-items": {"resources": {"requests": {"cpu": 2, "memory": "4Gi"}}}}
            },
        }
    )
    assert config.environment == {"DEBUG": "true", "WORKERS": "4", "RATIO": "0.5"}
    splits = config.collections[0].asset_storage[0].chunks.splits
    assert splits is not None and splits[0].prefix == "2024"
    assert config.task_config is not None
    resources = config.task_config["demo"][TaskName.CREATE_ITEMS].resources
    assert resources is not None and resources.requests is not None
    assert resources.requests.cpu == "2"


@pytest.mark.parametrize("quantity", ["500m", "2", "0.5", "512Mi", "4Gi", "1G", 3])
def test_kubernetes_quantities_are_accepted(quantity: object) -> None:
    task = {"demo": {"create-chunks": {"resources": {"limits": {"memory": quantity}}}}}
    DatasetConfig.model_validate({**_dataset(), "task_config": task})


@pytest.mark.parametrize("quantity", ["4 GB", "lots", "-1", "1.5.2"])
def test_other_quantities_are_refused(quantity: str) -> None:
    task = {"demo": {"create-chunks": {"resources": {"limits": {"memory": quantity}}}}}
    with pytest.raises(ValidationError, match="is not a Kubernetes quantity"):
        DatasetConfig.model_validate({**_dataset(), "task_config": task})


def test_class_references_take_module_colon_class() -> None:
    for good in ("demo:Demo", "pkg.sub.mod:Outer.Inner", "_m:_C"):
        DatasetConfig.model_validate(
            {**_dataset(), "collections": [{**_dataset()["collections"][0], "class": good}]}
        )
    for bad in ("demo.Demo", "demo:", ":Demo", "de mo:Demo", "demo:Demo:x"):
        with pytest.raises(ValidationError, match="class must be written 'module:ClassName'"):
            DatasetConfig.model_validate(
                {**_dataset(), "collections": [{**_dataset()["collections"][0], "class": bad}]}
            )


def test_the_model_is_read_only() -> None:
    config = DatasetConfig.model_validate(_dataset())
    with pytest.raises(ValidationError):
        config.id = "other"  # type: ignore[misc]


def test_json_schema_is_valid_and_agrees_with_the_model() -> None:
    schema = dataset_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    good = DatasetConfig.model_validate(
        _dataset(
            asset_storage=[{"uri": "blob://acct/data", "chunks": {"options": {"chunk_length": 10}}}]
        )
    ).model_dump(mode="json", by_alias=True, exclude_none=True)
    assert list(validator.iter_errors(good)) == []
    typo = _dataset(
        asset_storage=[{"uri": "blob://acct/data", "chunks": {"options": {"chunk_lenght": 10}}}]
    )
    assert [e.message for e in validator.iter_errors(typo)] == [
        "Additional properties are not allowed ('chunk_lenght' was unexpected)"
    ]
    assert "collections" in schema["required"]


def test_every_field_is_described_in_the_schema() -> None:
    schema = dataset_json_schema()
    models = [schema, *schema["$defs"].values()]
    for model in models:
        for name, field in model.get("properties", {}).items():
            assert field.get("description"), f"{model.get('title')}.{name} has no description"


def test_the_committed_reference_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert REFERENCE.begin in text
    assert REFERENCE.splice(text) == text, "docs/dataset-yaml.md is stale: run scripts/gen_docs"


def test_the_reference_lists_every_chunk_option() -> None:
    reference = render_field_reference()
    section = reference.split("### `collections[].asset_storage[].chunks.options`")[1].split("###")[
        0
    ]
    fields = re.findall(r"^\| `(\w+)` \|", section, flags=re.M)
    assert fields == list(ChunkOptions.model_fields)


def test_importing_etl_dataset_loads_no_heavy_library() -> None:
    code = (
        "import sys, etl.dataset; "
        "heavy = [m for m in ('pystac', 'azure', 'hera', 'pypgstac', 'psycopg') if m in sys.modules]; "
        "print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
