"""Keeping a catalog current (issue 14): extents follow the items, items of vanished assets go.

Through ``etl dataset process-items --submit --wait`` on the local runner, with real PgSTAC and
local files: the sample-sidecars dataset (one item per asset) and a dataset written here whose
``create_item`` makes three items per asset, in three months of a monthly partitioned collection.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import psycopg
import pytest
from etl_cli import run_etl as etl
from multi_scenes import MULTI, multi_dataset

from etl.pgstac.writer import PgstacWriter

ROOT = Path(__file__).resolve().parents[2]
SIDECARS = "sample-sidecars"

pytestmark = pytest.mark.postgres


class Run(NamedTuple):
    """A followed ``process-items`` run."""

    code: int
    name: str
    log: str
    """The finish-collection pod's output."""
    stderr: str
    """What etl printed while following the run, and at its end."""


def process_items(dataset: str, root: Path, *flags: str, env: dict[str, str]) -> Run:
    """Run process-items and wait."""
    result = etl("dataset", "process-items", "-d", dataset, "-a", f"root={root}",
                 "--submit", "--wait", *flags, env=env)  # fmt: skip
    assert "Traceback" not in result.stderr
    assert result.stdout.strip(), result.stderr
    run_name = result.stdout.strip().splitlines()[0]
    shown = etl("workflow", "logs", run_name, env=env)
    assert shown.returncode == 0, shown.stderr
    finish = [line for line in shown.stdout.splitlines() if "finish-collection: " in line]
    return Run(result.returncode, run_name, "\n".join(finish), result.stderr)


def finish_of(run: Run, env: dict[str, str]) -> dict[str, Any]:
    """What ``etl workflow get -o json`` says finish-collection did (one collection)."""
    shown = etl("workflow", "get", run.name, "-o", "json", env=env)
    assert shown.returncode == 0, shown.stderr
    [collection] = json.loads(shown.stdout)["collections"]
    finish: dict[str, Any] = collection["finish"]
    return finish


def sidecars(root: Path, count: int) -> list[Path]:
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "datasets/sample-sidecars/generate.py",
         "--count", str(count), str(root / "assets")],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    return sorted((root / "assets").rglob("*.json"))


def item_ids(dsn: str, collection: str) -> list[str]:
    with PgstacWriter(dsn) as writer:
        return writer.item_ids(collection)


def stored_extent(dsn: str, collection: str) -> dict[str, Any]:
    with PgstacWriter(dsn) as writer:
        document = writer.get_collection(collection)
    assert document is not None
    return dict(document["extent"])


def items_extent(dsn: str, collection: str) -> tuple[list[float], datetime, datetime]:
    """The bbox and time span of the collection's items, computed here from the items."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT st_xmin(e), st_ymin(e), st_xmax(e), st_ymax(e), lo, hi FROM ("
            " SELECT st_extent(geometry) e, min(datetime) lo, max(end_datetime) hi"
            " FROM pgstac.items WHERE collection = %s) s",
            (collection,),
        ).fetchone()
    assert row is not None
    return [float(v) for v in row[:4]], row[4], row[5]


def assert_extent_is_items(dsn: str, collection: str) -> None:
    extent = stored_extent(dsn, collection)
    bbox, start, end = items_extent(dsn, collection)
    assert extent["spatial"]["bbox"] == [pytest.approx(bbox)]
    interval = [datetime.fromisoformat(t) for t in extent["temporal"]["interval"][0]]
    assert interval == [start, end]


def sources(dsn: str, collection: str) -> dict[str, str]:
    """item id -> asset, from etl.item_sources."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT item_id, asset FROM etl.item_sources WHERE collection = %s", (collection,)
        ).fetchall()
    return dict(rows)


def test_extent_follows_the_items_and_vanished_assets_are_reported_then_removed(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    assets = sidecars(tmp_path, 30)
    first = process_items(f"datasets/{SIDECARS}", tmp_path, env=env)
    assert first.code == 0
    assert f"{SIDECARS}: extent updated (items)" in first.stderr
    # the template says the whole world from 2024-01-01 on; the items are far narrower
    assert stored_extent(pgstac_dsn, SIDECARS)["spatial"]["bbox"] != [[-180, -90, 180, 90]]
    assert_extent_is_items(pgstac_dsn, SIDECARS)
    before = stored_extent(pgstac_dsn, SIDECARS)
    tracked = sources(pgstac_dsn, SIDECARS)
    assert len(tracked) == 30 and set(tracked) == set(item_ids(pgstac_dsn, SIDECARS))
    gone = {f"sample-scene-{n:07d}" for n in (0, 1)}  # the earliest: the extent must move
    for path in assets:
        if path.stem in gone:
            path.unlink()

    reported = process_items(f"datasets/{SIDECARS}", tmp_path, "--report-missing", env=env)

    assert reported.code == 0, reported.stderr
    for item_id in gone:
        assert f"missing: {item_id} (asset " in reported.log, reported.log
    assert "would be removed" in reported.log
    assert (
        f"{SIDECARS}: 2 items would be removed (report only): "
        "sample-scene-0000000, sample-scene-0000001" in reported.stderr
    )
    # no item changed: the extent PgSTAC holds is kept through the run, not reset to the template
    assert f"{SIDECARS}: extent unchanged (already the items' extent): bbox [" in reported.stderr
    assert finish_of(reported, env)["removal"] == {
        "action": "reported", "missing": 2, "tracked": 30,
        "examples": ["sample-scene-0000000", "sample-scene-0000001"], "reason": None,
    }  # fmt: skip
    assert len(item_ids(pgstac_dsn, SIDECARS)) == 30
    assert stored_extent(pgstac_dsn, SIDECARS) == before

    removed = process_items(f"datasets/{SIDECARS}", tmp_path, "--remove-missing", env=env)

    assert removed.code == 0
    assert "2 of 30 items of sample-sidecars have assets no longer listed; 2 removed" in removed.log
    assert (
        f"{SIDECARS}: 2 items removed (assets no longer listed): "
        "sample-scene-0000000, sample-scene-0000001" in removed.stderr
    )
    assert f"{SIDECARS}: extent updated (items)" in removed.stderr
    finish, after_removal = finish_of(removed, env), stored_extent(pgstac_dsn, SIDECARS)
    assert finish["removal"]["action"] == "removed" and finish["removal"]["missing"] == 2
    assert finish["extent"] == {"changed": True, "reason": "items", "extent": after_removal}
    assert set(item_ids(pgstac_dsn, SIDECARS)) == set(tracked) - gone
    assert set(sources(pgstac_dsn, SIDECARS)) == set(tracked) - gone
    after = stored_extent(pgstac_dsn, SIDECARS)
    assert after == after_removal and after["temporal"] != before["temporal"]
    assert_extent_is_items(pgstac_dsn, SIDECARS)
    records = (tmp_path / "runs").glob("*/missing.ndjson")
    removed_ids = [json.loads(line) for path in records for line in path.read_text().splitlines()]
    assert {r["item_id"] for r in removed_ids if r["action"] == "removed"} == gone


def test_a_short_listing_removes_nothing(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    assets = sidecars(tmp_path, 20)
    assert process_items(f"datasets/{SIDECARS}", tmp_path, env=env).code == 0
    for path in assets[:5]:  # a quarter of the assets "disappear", e.g. a half-failed mount
        path.unlink()

    refused = process_items(f"datasets/{SIDECARS}", tmp_path, "--remove-missing", env=env)

    assert refused.code == 1
    assert (
        "5 of 20 items of sample-sidecars have assets no longer listed; nothing removed"
        in refused.stderr
    )
    assert "more than --max-removals 10% (2)" in refused.stderr
    assert (
        f"{SIDECARS}: removal refused, nothing removed: 5 of 20 items would be removed, more "
        "than --max-removals 10% (2)" in refused.stderr
    )
    finish = finish_of(refused, env)
    assert finish["removal"]["action"] == "refused" and finish["extent"] is None
    assert len(item_ids(pgstac_dsn, SIDECARS)) == 20
    assert len(sources(pgstac_dsn, SIDECARS)) == 20

    allowed = process_items(f"datasets/{SIDECARS}", tmp_path, "--remove-missing",
                            "--max-removals", "5", env=env)  # fmt: skip

    assert allowed.code == 0
    assert f"{SIDECARS}: 5 items removed (assets no longer listed): " in allowed.stderr
    assert len(item_ids(pgstac_dsn, SIDECARS)) == 15


def test_removal_needs_a_listing_of_every_asset(env: dict[str, str], tmp_path: Path) -> None:
    result = etl("dataset", "process-items", "-d", f"datasets/{SIDECARS}", "-a",
                 f"root={tmp_path}", "--remove-missing", "--limit", "5", env=env)  # fmt: skip

    assert result.returncode == 2
    assert "needs a listing of every asset: drop --limit" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_several_items_per_asset_in_a_partitioned_collection(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    folder, root = multi_dataset(tmp_path)
    with PgstacWriter(pgstac_dsn) as writer:  # monthly partitions, kept by ingest-collection
        writer.upsert_collection(json.loads((folder / "collection.json").read_text()),
                                 partition_trunc="month")  # fmt: skip

    first = process_items(str(folder), root, env=env)

    assert first.code == 0, first.stderr
    assert "template does not cover the items: replaced" in first.log
    assert f"{MULTI}: extent updated (template does not cover the items: replaced)" in first.stderr
    assert_extent_is_items(pgstac_dsn, MULTI)
    assert stored_extent(pgstac_dsn, MULTI)["spatial"]["bbox"] == [[0, 1, 31, 4]]
    tracked = sources(pgstac_dsn, MULTI)
    assert len(tracked) == 12
    assert {tracked[f"b-{n}"] for n in range(3)} == {(root / "assets" / "b.json").as_uri()}
    with PgstacWriter(pgstac_dsn) as writer:
        assert writer.partition_trunc(MULTI) == "month"
    (root / "assets" / "d.json").unlink()  # its three items, one in each month, must go

    second = process_items(str(folder), root, env=env)  # missing_items: remove

    assert second.code == 0
    assert "3 of 12 items of multi-scenes have assets no longer listed; 3 removed" in second.log
    assert f"{MULTI}: 3 items removed (assets no longer listed): d-0, d-1, d-2" in second.stderr
    assert sorted(item_ids(pgstac_dsn, MULTI)) == sorted(
        f"{name}-{n}" for name in "abc" for n in range(3)
    )
    assert stored_extent(pgstac_dsn, MULTI)["spatial"]["bbox"] == [[0, 1, 21, 4]]
    assert_extent_is_items(pgstac_dsn, MULTI)


def test_a_storage_since_is_a_partial_listing_for_removals_and_plan(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    folder, root = multi_dataset(tmp_path, since="2000-01-01")
    assert process_items(str(folder), root, env=env).code == 0
    (root / "assets" / "d.json").unlink()

    run = process_items(str(folder), root, env=env)  # missing_items: remove, but a partial list

    assert run.code == 0, run.stderr
    partial = f"asset_storage {root / 'assets'} has since 2000-01-01T00:00:00+00:00"
    assert f"{MULTI}: missing items not looked for: the run listed part ({partial})" in run.stderr
    assert len(item_ids(pgstac_dsn, MULTI)) == 12
    plan = etl("dataset", "plan", "-d", str(folder), "-a", f"root={root}", "-o", "json", env=env)
    assert plan.returncode == 0, plan.stderr
    [planned] = json.loads(plan.stdout)["collections"]
    assert planned["removed"] is None and planned["unchanged"] == 9
