"""Provenance follows the catalog (issue 22, finding 4): ``etl.item_sources`` rows whose items are
no longer in PgSTAC count for nothing.

A user starts over as the docs say (the items, and the collection, deleted by SQL; the assets
written afresh), loads fewer assets, and asks ``etl dataset plan``, ``etl dataset status`` and a
``--remove-missing`` run what changed. Everything goes through ``etl`` on the built-in ``local``
profile, with local files and a PgSTAC database of the test's own.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import psycopg
import pytest
from etl_cli import run_etl
from multi_scenes import MULTI, multi_dataset
from sidecar_files import generate_sidecars

from etl.pgstac.writer import PgstacWriter

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "sample-sidecars"
SIDECARS = "sample-sidecars"

pytestmark = pytest.mark.postgres


def generate(count: int, root: Path) -> list[Path]:
    generate_sidecars(count, root / "assets")
    return sorted((root / "assets").rglob("*.json"))


def on_sample(command: str, root: Path, env: dict[str, str], *flags: str) -> Any:
    return run_etl("dataset", command, "-d", str(SAMPLE), "-a", f"root={root}", *flags, env=env)


def collection_json(command: str, root: Path, env: dict[str, str]) -> dict[str, Any]:
    """The one collection of ``etl dataset plan|status -o json``."""
    result = on_sample(command, root, env, "-o", "json")
    assert result.returncode == 0, result.stderr
    [collection] = json.loads(result.stdout)["collections"]
    return dict(collection)


def counts(plan: dict[str, Any]) -> dict[str, Any]:
    keys = ("assets", "recorded", "added", "changed", "unchanged", "removed", "failed")
    return {key: plan[key] for key in keys}


def item_ids(dsn: str, collection: str) -> set[str]:
    with PgstacWriter(dsn) as writer:
        return set(writer.item_ids(collection))


def source_rows(dsn: str, collection: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM etl.item_sources WHERE collection = %s", (collection,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def run_ids(dsn: str, collection: str, items: set[str]) -> set[str]:
    """The runs named by the ``etl.item_sources`` rows of ``items``."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT run_id FROM etl.item_sources WHERE collection = %s AND item_id = ANY(%s)",
            (collection, sorted(items)),
        ).fetchall()
    return {row[0] for row in rows}


def sql(dsn: str, *statements: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def test_starting_over_by_sql_then_loading_fewer_assets(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    root = tmp_path / "demo"
    generate(12, root)
    first = on_sample("process-items", root, env, "--submit")
    assert first.returncode == 0, first.stderr
    assert len(item_ids(pgstac_dsn, SIDECARS)) == 12
    # starting over as scripts/demo and docs/quickstart.md say: the files, then the catalog
    shutil.rmtree(root)
    sql(pgstac_dsn, f"DELETE FROM pgstac.items WHERE collection = '{SIDECARS}'",
        f"DELETE FROM pgstac.collections WHERE id = '{SIDECARS}'")  # fmt: skip
    assets = generate(5, root)

    before_load = collection_json("plan", root, env)

    # nothing is in PgSTAC: every item would be added, none is "unchanged" or "removed"
    assert counts(before_load) == {
        "assets": 5, "recorded": 0, "added": 5, "changed": 0, "unchanged": 0, "removed": 0,
        "failed": 0,
    }  # fmt: skip

    again = on_sample("process-items", root, env, "--submit")

    assert again.returncode == 0, again.stderr
    loaded = {f"sample-scene-{n:07d}" for n in range(5)}
    assert item_ids(pgstac_dsn, SIDECARS) == loaded
    # the collection was created anew: the rows of its earlier life are gone with it
    assert source_rows(pgstac_dsn, SIDECARS) == 5
    assert counts(collection_json("plan", root, env)) == {
        "assets": 5, "recorded": 5, "added": 0, "changed": 0, "unchanged": 5, "removed": 0,
        "failed": 0,
    }  # fmt: skip
    status = collection_json("status", root, env)["pgstac"]
    assert (status["exists"], status["items"], status["recorded"]) == (True, 5, 5)

    assets[0].unlink()  # sample-scene-0000000's asset is gone, really
    planned = collection_json("plan", root, env)
    assert (planned["removed"], planned["unchanged"], planned["recorded"]) == (1, 4, 5)
    assert planned["examples"]["removed"] == ["sample-scene-0000000"]

    removed = on_sample("process-items", root, env, "--submit", "--remove-missing",
                        "--max-removals", "1")  # fmt: skip

    assert removed.returncode == 0, removed.stderr
    assert (
        f"{SIDECARS}: 1 item removed (assets no longer listed): sample-scene-0000000"
        in removed.stderr
    )
    assert item_ids(pgstac_dsn, SIDECARS) == loaded - {"sample-scene-0000000"}
    after = collection_json("plan", root, env)
    assert (after["recorded"], after["unchanged"], after["removed"]) == (4, 4, 0)


def test_items_deleted_by_sql_with_their_collection_kept(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    """The items alone deleted by hand (docs/quickstart.md's way); the collection stays."""
    root = tmp_path / "root"
    generate(6, root)
    assert on_sample("process-items", root, env, "--submit").returncode == 0
    sql(pgstac_dsn, f"DELETE FROM pgstac.items WHERE collection = '{SIDECARS}'"
                    " AND id IN ('sample-scene-0000001', 'sample-scene-0000002')")  # fmt: skip

    planned = collection_json("plan", root, env)
    status = collection_json("status", root, env)["pgstac"]

    assert counts(planned) == {
        "assets": 6, "recorded": 4, "added": 2, "changed": 0, "unchanged": 4, "removed": 0,
        "failed": 0,
    }  # fmt: skip
    assert planned["examples"]["added"] == ["sample-scene-0000001", "sample-scene-0000002"]
    assert (status["items"], status["recorded"]) == (4, 4)
    sql(pgstac_dsn, f"DELETE FROM pgstac.items WHERE collection = '{SIDECARS}'")
    for path in sorted((root / "assets").rglob("*.json"))[3:]:
        path.unlink()  # three assets gone, but their items were already deleted by hand

    nothing_left = on_sample("process-items", root, env, "--submit", "--remove-missing",
                             "--max-removals", "0")  # fmt: skip

    # the three reloaded items are tracked; the hand-deleted ones are not "missing" (nor refused)
    assert nothing_left.returncode == 0, nothing_left.stderr
    assert f"{SIDECARS}: no item lost its asset (3 tracked)" in nothing_left.stderr
    assert len(item_ids(pgstac_dsn, SIDECARS)) == 3
    # the rows the hand-deleted items left behind now name the run that loaded them again
    assert run_ids(pgstac_dsn, SIDECARS, item_ids(pgstac_dsn, SIDECARS)) == {
        nothing_left.stdout.strip()
    }
    status = collection_json("status", root, env)["pgstac"]
    assert (status["items"], status["recorded"]) == (3, 3)


def test_one_asset_of_several_items_some_deleted_by_sql(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    """An asset making three items: one of them deleted by hand is added again, the others kept;
    an asset gone takes its remaining items with it."""
    folder, root = multi_dataset(tmp_path)  # missing_items: remove, max_removals: 50%
    assert run_etl("dataset", "process-items", "-d", str(folder), "-a", f"root={root}",
                   "--submit", env=env).returncode == 0  # fmt: skip
    assert len(item_ids(pgstac_dsn, MULTI)) == 12
    sql(pgstac_dsn, f"DELETE FROM pgstac.items WHERE collection = '{MULTI}'"
                    " AND id IN ('b-1', 'd-0')")  # fmt: skip
    (root / "assets" / "d.json").unlink()

    plan = run_etl("dataset", "plan", "-d", str(folder), "-a", f"root={root}", "-o", "json",
                   env=env)  # fmt: skip

    assert plan.returncode == 0, plan.stderr
    [planned] = json.loads(plan.stdout)["collections"]
    assert counts(planned) == {
        "assets": 3, "recorded": 10, "added": 1, "changed": 0, "unchanged": 8, "removed": 2,
        "failed": 0,
    }  # fmt: skip
    assert planned["examples"]["added"] == ["b-1"]
    assert planned["examples"]["removed"] == ["d-1", "d-2"]

    run = run_etl("dataset", "process-items", "-d", str(folder), "-a", f"root={root}",
                  "--submit", env=env)  # fmt: skip

    assert run.returncode == 0, run.stderr
    assert f"{MULTI}: 2 items removed (assets no longer listed): d-1, d-2" in run.stderr
    assert item_ids(pgstac_dsn, MULTI) == {f"{name}-{n}" for name in "abc" for n in range(3)}
