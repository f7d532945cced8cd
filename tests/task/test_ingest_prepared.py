"""Items prepared where they are made (issue 27, item 1) load and record as before.

A pod serialises each item once on its maker threads (the ndjson line and the content hash come
from the same bytes), formats it into pypgstac's row there and writes ``etl.item_sources`` by
COPY into a staging table. Through ``etl dataset process-items --submit`` on the local runner,
with real PgSTAC and local files: the rows hash the items as ``content_hash`` defines it (volatile
``created``/``updated`` left out), a second load of the same assets replaces the rows, and an item
that pypgstac refuses still fails its run with pypgstac's reason. Items made in worker processes
(a CPU-bound ``create_item`` in a pod with a CPU quota: :mod:`etl.task.item_making`) are those
made on threads. ``etl dataset plan``'s fast path makes again an asset one of whose items was
deleted outside etl (item 4).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from etl_cli import run_etl
from multi_scenes import MULTI, multi_dataset

from etl.dataset.run_results import AssetFailure
from etl.pgstac.item_sources import content_hash
from etl.task.item_making import ItemMaking
from etl.task.item_provenance import preparing

COLLECTION = "prepared-scenes"
CODE = f"""
import json
from datetime import datetime, timezone

import pystac

from etl.dataset import Collection


class PreparedScenes(Collection):
    @classmethod
    def create_item(cls, asset_uri, storage):
        record = json.loads(storage.read_text(asset_uri))
        x = record["x"]
        properties = {{"start_datetime": record["start"], "end_datetime": record["end"]}}
        if record.get("volatile"):  # set to "now" at every making
            now = datetime.now(timezone.utc).isoformat()
            properties |= {{"created": now, "updated": now}}
        item = pystac.Item(
            id=record["id"],
            geometry={{"type": "Point", "coordinates": [x, 1.0]}},
            bbox=[x, 1.0, x, 1.0],
            datetime=None,
            properties=properties,
            collection={COLLECTION!r},
        )
        item.add_asset("data", pystac.Asset(href=asset_uri, roles=["data"]))
        return item
"""


def dataset(tmp_path: Path, records: list[dict[str, object]]) -> tuple[Path, Path]:
    """A dataset whose assets are the JSON ``records``; returns its folder and run root."""
    folder, root = tmp_path / "dataset", tmp_path / "root"
    folder.mkdir()
    (folder / "prepared_scenes.py").write_text(CODE)
    template = {
        "type": "Collection", "stac_version": "1.1.0", "id": COLLECTION, "description": "d",
        "license": "CC0-1.0", "links": [],
        "extent": {"spatial": {"bbox": [[0, 0, 10, 2]]},
                   "temporal": {"interval": [["2024-01-01T00:00:00Z", None]]}},
    }  # fmt: skip
    (folder / "collection.json").write_text(json.dumps(template))
    (folder / "dataset.yaml").write_text(f"""
id: {COLLECTION}
args: [root]
code:
  src: $<< local.path(./prepared_scenes.py) >>
collections:
  - id: {COLLECTION}
    class: prepared_scenes:PreparedScenes
    template: $<< local.path(./collection.json) >>
    asset_storage:
      - uri: $<< args.root >>/assets
        chunks:
          options:
            extensions: [.json]
            chunk_length: 2
    chunk_storage:
      uri: $<< args.root >>/runs
""")
    (root / "assets").mkdir(parents=True)
    for record in records:
        (root / "assets" / f"{record['id']}.json").write_text(json.dumps(record))
    return folder, root


def scene(
    n: int, *, volatile: bool = False, end: str = "2024-01-02T00:00:00Z"
) -> dict[str, object]:
    return {"id": f"scene-{n}", "x": float(n), "start": "2024-01-01T00:00:00Z", "end": end,
            "volatile": volatile}  # fmt: skip


def on(folder: Path, root: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = run_etl("dataset", args[0], "-d", str(folder), "-a", f"root={root}", *args[1:],
                     env=env)  # fmt: skip
    return result.returncode, result.stdout, result.stderr


def recorded(dsn: str) -> dict[str, tuple[str, str, str]]:
    """Item id -> (asset, content hash, run) of the collection's ``etl.item_sources`` rows."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT item_id, asset, content_hash, run_id FROM etl.item_sources"
            " WHERE collection = %s",
            (COLLECTION,),
        ).fetchall()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def written_items(root: Path) -> dict[str, tuple[bytes, dict[str, object]]]:
    """Item id -> (ndjson line, item) of every item a run wrote beside its chunks."""
    lines = [
        line
        for path in sorted((root / "runs").glob("*/items/*.ndjson"))
        for line in path.read_bytes().splitlines()
    ]
    return {json.loads(line)["id"]: (line, json.loads(line)) for line in lines}


@pytest.mark.postgres
def test_rows_hash_each_item_as_content_hash_defines_it_across_loads(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    records = [scene(n, volatile=n % 2 == 1) for n in range(5)]
    folder, root = dataset(tmp_path, records)

    code, _, stderr = on(folder, root, env, "process-items", "--submit")

    assert code == 0, stderr
    rows = recorded(pgstac_dsn)
    items = written_items(root)
    assert set(rows) == set(items) == {f"scene-{n}" for n in range(5)}
    for item_id, (line, item) in items.items():
        asset, digest, _ = rows[item_id]
        assert asset == (root / "assets" / f"{item_id}.json").as_uri()
        assert digest == content_hash(item)
        assert line == json.dumps(item, sort_keys=True, separators=(",", ":")).encode()
    first_run = {run for _, _, run in rows.values()}

    code, _, stderr = on(folder, root, env, "process-items", "--submit")

    # made again: new created/updated times, the same hashes, rows of the second run
    assert code == 0, stderr
    again = recorded(pgstac_dsn)
    assert {item_id: row[:2] for item_id, row in again.items()} == {
        item_id: row[:2] for item_id, row in rows.items()
    }
    assert {run for _, _, run in again.values()}.isdisjoint(first_run)
    code, out, stderr = on(folder, root, env, "plan", "--deep", "-o", "json")
    assert code == 0, stderr
    [planned] = json.loads(out)["collections"]
    assert (planned["unchanged"], planned["changed"], planned["added"]) == (5, 0, 0)


@pytest.mark.postgres
def test_an_item_pypgstac_refuses_fails_the_run_with_its_reason(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    backwards = scene(3, end="2023-12-31T00:00:00Z")  # ends before it starts
    folder, root = dataset(tmp_path, [scene(1), scene(2), backwards])

    code, _, stderr = on(folder, root, env, "process-items", "--submit")

    assert code == 1, stderr
    assert "start_datetime must be < end_datetime" in stderr
    assert "Traceback" not in stderr
    assert "scene-3" not in recorded(pgstac_dsn)


def _make_from_file(uri: str) -> list[dict[str, Any]] | AssetFailure:
    """A CPU-light ``create_item`` stand-in: the item in the file, with the making process."""
    path = Path(uri.removeprefix("file://"))
    if not path.exists():
        return AssetFailure(asset=uri, error="FileNotFoundError", transient=False)
    item = json.loads(path.read_text())
    item["properties"]["pid"] = os.getpid()
    return [item]


def test_items_made_in_worker_processes_are_those_made_on_threads(tmp_path: Path) -> None:
    uris = []
    for n in range(40):
        path = tmp_path / f"{n}.json"
        path.write_text(json.dumps({"id": f"i-{n}", "properties": {"n": n}}))
        uris.append(path.as_uri())
    uris.insert(7, (tmp_path / "missing.json").as_uri())
    prepare = preparing(_make_from_file, None)

    def made(making: ItemMaking) -> tuple[list[object], set[int]]:
        with making.executor(prepare) as pool:
            outcomes = list(making.make_all(pool, prepare, uris))
        kept: list[object] = []
        pids = set()
        for outcome in outcomes:
            if isinstance(outcome, AssetFailure):
                kept.append(outcome)
                continue
            for entry, line in outcome:
                assert entry.content_hash == content_hash(entry.item)
                assert (
                    line
                    == json.dumps(entry.item, sort_keys=True, separators=(",", ":")).encode()
                    + b"\n"
                )
                pids.add(entry.item["properties"].pop("pid"))
                kept.append((entry.item, entry.asset))
        return kept, pids

    on_threads, thread_pids = made(ItemMaking(4))
    in_processes, process_pids = made(ItemMaking(4, processes=2))

    assert thread_pids == {os.getpid()}
    assert os.getpid() not in process_pids and process_pids
    assert len(on_threads) == 41 and isinstance(on_threads[7], AssetFailure)
    assert in_processes == on_threads


@pytest.mark.postgres
def test_plan_makes_again_an_asset_that_lost_an_item_outside_etl(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    """Issue 27, item 4: the fast path trusts an asset only while PgSTAC has all its items."""
    folder, root = multi_dataset(tmp_path)  # three items an asset: a-0..a-2, b-0..b-2, ...
    an_hour_ago = time.time() - 3600
    for asset in (root / "assets").iterdir():  # written long before the load: trusted unmade
        os.utime(asset, (an_hour_ago, an_hour_ago))
    loaded = run_etl("dataset", "process-items", "-d", str(folder), "-a", f"root={root}",
                     "--submit", env=env)  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    with psycopg.connect(pgstac_dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM pgstac.items WHERE collection = %s AND id = 'b-1'", (MULTI,))

    code, out, stderr = on(folder, root, env, "plan", "-o", "json")

    assert code == 0, stderr
    [planned] = json.loads(out)["collections"]
    assert planned["made"] == 1  # asset b only; a, c and d are as loaded
    assert (planned["added"], planned["unchanged"], planned["changed"]) == (1, 11, 0)
    assert planned["examples"]["added"] == ["b-1"]
