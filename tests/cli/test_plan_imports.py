"""What ``etl dataset plan`` imports: on an unchanged source it makes no item, so the code that
makes items (the pod's item maker, its bundle fetch, item checks and STAC validation) is never
imported (docs/performance.md, "Planning"). Measured through the ``etl`` command
with Python's import timing, on the built-in ``local`` profile and a PgSTAC database of the
test's own.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from etl_cli import run_etl_imports
from sidecar_dataset import make_dataset

ITEM_MAKING = (
    "etl.task.item_maker",
    "etl.task.item_checks",
    "etl.task.item_hrefs",
    "etl.task.bundle_fetch",
    "etl.task.stac_validation",
)
"""The modules that make an asset's items as a ``process-chunks`` pod does."""


@pytest.mark.postgres
def test_a_plan_of_an_unchanged_source_imports_none_of_the_item_making_code(
    tmp_path: Path, pgstac_dsn: str
) -> None:
    data = make_dataset(tmp_path, pgstac_dsn, assets=3, broken=set())
    loaded_long_after = time.time() - 60  # the sidecars last changed well before their load
    for sidecar in data.assets.iterdir():
        os.utime(sidecar, (loaded_long_after, loaded_long_after))
    loaded = data.run("dataset", "process-items", "-d", str(data.folder), "--submit")
    assert loaded.returncode == 0, loaded.stderr

    result, imported = run_etl_imports(
        "dataset", "plan", "-d", str(data.folder), "-o", "json", env=data.env
    )

    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)["collections"][0]
    assert (plan["made"], plan["unchanged"], plan["added"]) == (0, 3, 0)
    assert "etl.task.plan" in imported and "psycopg" in imported  # it did read the records
    assert [name for name in imported if name in ITEM_MAKING] == []


@pytest.mark.postgres
def test_a_plan_that_makes_an_asset_imports_the_item_making_code(
    tmp_path: Path, pgstac_dsn: str
) -> None:
    data = make_dataset(tmp_path, pgstac_dsn, assets=2, broken=set())
    loaded = data.run("dataset", "process-items", "-d", str(data.folder), "--submit")
    assert loaded.returncode == 0, loaded.stderr
    (data.assets / "00002.json").write_text(
        json.dumps({"id": "item-00002", "n": 2, "x": 2, "y": 2, "t": "2021-05-01T00:00:00+00:00"})
    )

    result, imported = run_etl_imports(
        "dataset", "plan", "-d", str(data.folder), "-o", "json", env=data.env
    )

    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)["collections"][0]
    assert plan["added"] == 1 and plan["assets"] == 3
    assert "etl.task.item_maker" in imported
