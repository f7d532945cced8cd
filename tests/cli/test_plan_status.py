"""``etl dataset plan`` predicts what the next run does; ``etl dataset status`` shows where a
catalog stands after failed and retried runs.

Everything goes through the ``etl`` command on the built-in ``local`` profile: the sample-sidecars
dataset on Azurite and on this machine's files, loaded into a PgSTAC database of the test's own.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import psycopg
import pytest
from etl_cli import run_etl
from sidecar_files import generate_sidecars

from etl.core.profiles.resolve import resolve_profile
from etl.core.storage.base import Storage
from etl.core.storage.opening import open_storage

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "sample-sidecars"


OLD_ITEM_SOURCES = """
CREATE SCHEMA etl;
CREATE TABLE etl.item_sources (collection text NOT NULL, item_id text NOT NULL, asset text NOT NULL,
    content_hash text NOT NULL, run_id text NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collection, item_id));
"""


def on_sample(
    command: str, root: str, env: dict[str, str], *extra: str, dataset: Path = SAMPLE
) -> Any:
    return run_etl("dataset", command, "-d", str(dataset), "-a", f"root={root}", *extra, env=env)


def json_of(
    command: str, root: str, env: dict[str, str], *extra: str, dataset: Path = SAMPLE
) -> dict[str, Any]:
    result = on_sample(command, root, env, "-o", "json", *extra, dataset=dataset)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def generate(count: int, target: str, env: dict[str, str]) -> None:
    generate_sidecars(count, target, env)


def sidecars(assets: str) -> tuple[Storage, dict[str, str]]:
    storage = open_storage(assets, profile=resolve_profile(None))
    names = {i.path.rsplit("/", 1)[-1]: i.path for i in storage.list_objects() if ".json" in i.path}
    return storage, names


def item_ids(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT id FROM pgstac.items WHERE collection = 'sample-sidecars'")
        return {row[0] for row in rows}


@pytest.mark.postgres
def test_plan_on_a_changed_source_predicts_the_next_run(
    env: dict[str, str], pgstac_dsn: str, azurite_container: str
) -> None:
    root = f"blob://devstoreaccount1/{azurite_container}/sidecars"
    generate(10, f"{root}/assets", env)

    planned_first = json_of("plan", root, env)
    first = planned_first["collections"][0]

    # the shape documented in docs/keeping-current.md (Plan and status)
    assert set(planned_first) == {"dataset", "deep", "collections"}
    assert planned_first["deep"] is False
    assert set(first) == {"collection", "assets", "recorded", "made", "added", "changed",
                          "unchanged", "removed", "failed", "examples", "seconds"}  # fmt: skip
    assert set(first["examples"]) == {"added", "changed", "unchanged", "removed", "failed"}

    assert (first["assets"], first["added"], first["unchanged"], first["removed"]) == (10, 10, 0, 0)
    assert first["made"] == 10
    assert on_sample("process-items", root, env, "--submit").returncode == 0
    loaded = json_of("plan", root, env)["collections"][0]
    assert (loaded["made"], loaded["unchanged"], loaded["added"]) == (0, 10, 0)
    storage, names = sidecars(f"{root}/assets")
    changed = json.loads(storage.read_text(names["sample-scene-0000003.json"]))
    changed["cloud_cover"] = 99.5
    storage.write_text(names["sample-scene-0000003.json"], json.dumps(changed))
    storage.delete(names["sample-scene-0000005.json"])
    added = dict(changed, scene_id="sample-scene-new")
    storage.write_text(
        names["sample-scene-0000003.json"].replace("0000003", "new"), json.dumps(added)
    )
    touched = names["sample-scene-0000007.json"]  # rewritten as it was: newer, same item
    storage.write_text(touched, storage.read_text(touched))

    planned = json_of("plan", root, env)["collections"][0]

    assert {k: planned[k] for k in ("assets", "added", "changed", "unchanged", "removed")} == {
        "assets": 10, "added": 1, "changed": 1, "unchanged": 8, "removed": 1,
    }  # fmt: skip
    assert planned["examples"]["added"] == ["sample-scene-new"]
    assert planned["examples"]["changed"] == ["sample-scene-0000003"]
    assert planned["examples"]["removed"] == ["sample-scene-0000005"]
    assert planned["recorded"] == 10 and planned["failed"] == 0
    assert planned["made"] == 3  # the changed, the added and the rewritten sidecars only
    assert item_ids(pgstac_dsn) == {f"sample-scene-{n:07d}" for n in range(10)}  # wrote nothing
    table = on_sample("plan", root, env)
    assert table.returncode == 0, table.stderr
    assert "sample-sidecars: removed: sample-scene-0000005" in table.stdout

    run = on_sample("process-items", root, env, "--submit", "--remove-missing")

    assert run.returncode == 0, run.stderr
    assert "sample-sidecars: 10 assets in 1 chunk, 0 failed" in run.stderr
    expected = {f"sample-scene-{n:07d}" for n in range(10) if n != 5} | {"sample-scene-new"}
    assert item_ids(pgstac_dsn) == expected
    after = json_of("plan", root, env)["collections"][0]
    assert (after["added"], after["changed"], after["unchanged"], after["removed"]) == (0, 0, 10, 0)
    assert after["made"] == 0
    deep = json_of("plan", root, env, "--deep")
    assert deep["deep"] is True
    assert (deep["collections"][0]["made"], deep["collections"][0]["unchanged"]) == (10, 10)


@pytest.mark.postgres
def test_plan_makes_every_asset_again_once_the_dataset_code_changed(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    with psycopg.connect(pgstac_dsn, autocommit=True) as conn:  # a table from before `bundle`
        conn.execute(OLD_ITEM_SOURCES)
    root = str(tmp_path / "root")
    generate(4, f"{root}/assets", env)
    assert on_sample("process-items", root, env, "--submit").returncode == 0
    edited = tmp_path / "edited"
    shutil.copytree(SAMPLE, edited, ignore=shutil.ignore_patterns("__pycache__"))
    module = edited / "sample_sidecars" / "collection.py"
    module.write_text(module.read_text() + "\n# edited: the same items, other code\n")

    same_code = json_of("plan", root, env)["collections"][0]
    other_code = json_of("plan", root, env, dataset=edited)["collections"][0]

    assert (same_code["made"], same_code["unchanged"]) == (0, 4)
    assert (other_code["made"], other_code["unchanged"], other_code["changed"]) == (4, 4, 0)
    run = on_sample("process-items", root, env, "--submit", dataset=edited)
    assert run.returncode == 0, run.stderr
    rerun = json_of("plan", root, env, dataset=edited)["collections"][0]
    assert (rerun["made"], rerun["unchanged"]) == (0, 4)
    assert json_of("plan", root, env)["collections"][0]["made"] == 4  # the old code's again


@pytest.mark.postgres
def test_status_after_a_failed_run_a_later_run_and_a_retry(
    env: dict[str, str], tmp_path: Path
) -> None:
    root = str(tmp_path / "root")
    generate(7, f"{root}/assets", env)
    storage, names = sidecars(f"{root}/assets")
    originals = {name: storage.read_text(names[name]) for name in names}
    broken = ["sample-scene-0000002.json", "sample-scene-0000004.json"]
    for name in broken:
        storage.write_text(names[name], "not json{")

    status = json_of("status", root, env)
    none_yet = status["collections"][0]
    # the shape documented in docs/keeping-current.md (Plan and status)
    assert set(status) == {"dataset", "collections"}
    assert set(none_yet) == {"collection", "pgstac", "last_success", "last_success_error",
                             "recent_runs", "outstanding_failures", "failed_assets",
                             "runs_in_progress", "events", "notifications"}  # fmt: skip
    assert set(none_yet["pgstac"]) == {"exists", "items", "recorded", "extent"}
    assert none_yet["pgstac"]["exists"] is False and none_yet["last_success"] is None
    first = on_sample("process-items", root, env, "--submit")
    assert first.returncode == 1
    first_name = first.stdout.strip()

    failed = json_of("status", root, env)["collections"][0]

    assert failed["pgstac"]["items"] == 5 and failed["pgstac"]["recorded"] == 5
    assert failed["pgstac"]["extent"]["temporal"]["interval"][0][0].startswith("2024-01-01")
    assert failed["last_success"] is None
    assert failed["outstanding_failures"] == 2
    assert sorted(f["asset"].rsplit("/", 1)[1] for f in failed["failed_assets"]) == broken
    assert {f["run_id"] for f in failed["failed_assets"]} == {first_name}
    assert failed["runs_in_progress"] == []

    storage.write_text(names[broken[0]], originals[broken[0]])
    second = on_sample("process-items", root, env, "--submit")
    assert second.returncode == 1
    second_name = second.stdout.strip()

    later = json_of("status", root, env)["collections"][0]

    assert later["outstanding_failures"] == 1  # the first run's other failure was fixed
    assert [(f["asset"].rsplit("/", 1)[1], f["run_id"]) for f in later["failed_assets"]] == [
        (broken[1], second_name)
    ]
    assert later["pgstac"]["items"] == 6

    storage.write_text(names[broken[1]], originals[broken[1]])
    retried = run_etl("workflow", "retry", second_name, env=env)
    assert retried.returncode == 0, retried.stderr

    fixed = json_of("status", root, env)["collections"][0]

    assert fixed["outstanding_failures"] == 0 and fixed["failed_assets"] == []
    assert fixed["last_success"]["run_id"] == second_name
    assert fixed["last_success"]["since"] is None
    assert set(fixed["last_success"]) == {"run_id", "started_at", "since"}
    assert set(fixed["recent_runs"][0]) == {"run_id", "created", "assets"}
    assert set(failed["failed_assets"][0]) == {"asset", "error", "run_id"}
    assert fixed["pgstac"]["items"] == 7
    rows = [line.split()[:2] for line in on_sample("status", root, env).stdout.splitlines()]
    assert ["last_success", second_name] in rows and ["outstanding_failures", "0"] in rows
