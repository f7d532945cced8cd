"""``etl dataset process-items --submit`` on the local profile: the compiled workflow, run here.

Real PostgreSQL + pgstac (one database per test), real files; the dataset's collection class
fails for assets marked broken, so partial failures, re-runs and retries are observable.
"""

from __future__ import annotations

import json
from pathlib import Path

from sidecar_dataset import item_ids, make_dataset

from etl.core.profiles.model import LOCAL_MAX_PODS
from etl.pgstac.writer import PgstacWriter


def test_process_items_end_to_end_and_idempotent(tmp_path: Path, pgstac_dsn: str) -> None:
    dataset = make_dataset(tmp_path, pgstac_dsn, assets=95, broken=set())

    first = dataset.run(
        "dataset", "process-items", "-d", str(dataset.folder), "--submit", "-o", "json"
    )

    assert first.returncode == 0, first.stderr
    submitted = json.loads(first.stdout)
    assert submitted["runner"] == "local" and submitted["status"] == "Succeeded"
    assert item_ids(pgstac_dsn) == [f"item-{n:05d}" for n in range(95)]
    with PgstacWriter(pgstac_dsn) as writer:
        collection = writer.get_collection("sidecars")
    assert collection is not None and collection["description"] == "Synthetic sidecars for tests."
    run_folder = dataset.chunks / submitted["name"]
    assert len(list((run_folder / "chunks").glob("*.txt"))) == 10
    assert (
        sum(len(p.read_text().splitlines()) for p in (run_folder / "items").glob("*.ndjson")) == 95
    )

    second = dataset.run("dataset", "process-items", "-d", str(dataset.folder), "--submit")

    assert second.returncode == 0, second.stderr
    assert len(item_ids(pgstac_dsn)) == 95
    listed = dataset.run("workflow", "list", "-o", "json")
    assert [w["phase"] for w in json.loads(listed.stdout)] == ["Succeeded", "Succeeded"]


def test_failing_assets_keep_the_rest_and_retry_reprocesses_only_failed_chunks(
    tmp_path: Path, pgstac_dsn: str
) -> None:
    dataset = make_dataset(tmp_path, pgstac_dsn, assets=40, broken={13, 27})

    failed = dataset.run(
        "dataset", "process-items", "-d", str(dataset.folder), "--submit", "-o", "json"
    )

    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    name = json.loads(dataset.run("workflow", "list", "-o", "json").stdout)[0]["name"]
    got = json.loads(dataset.run("workflow", "get", name, "-o", "json").stdout)
    assert got["phase"] == "Failed"
    assert got["progress"] == "assets=40 chunks=4 failed=2 items=38"
    pods = min(4, LOCAL_MAX_PODS)  # 4 chunks of 10 assets; the broken ones are in chunks 1 and 2
    failed_pods = {node["node"]: node["message"] for node in got["failed_nodes"]}
    assert sorted(failed_pods) == sorted({f"batch({c % pods}:{c % pods})" for c in (1, 2)})
    assets_per_pod = 40 // pods
    assert all(f"of {assets_per_pod} assets failed" in m for m in failed_pods.values())
    assert len(item_ids(pgstac_dsn)) == 38
    errors = sorted(
        json.loads(line)["asset"].rsplit("/", 1)[1]
        for path in (dataset.chunks / name / "errors").glob("*.ndjson")
        for line in path.read_text().splitlines()
    )
    assert errors == ["00013.json", "00027.json"]
    results_before = {
        p.name: p.stat().st_mtime_ns for p in (dataset.chunks / name / "results").iterdir()
    }

    dataset.fixed_marker.write_text("the sidecars were repaired")
    retried = dataset.run("workflow", "retry", name)

    assert retried.returncode == 0, retried.stderr
    assert len(item_ids(pgstac_dsn)) == 40
    results_after = {
        p.name: p.stat().st_mtime_ns for p in (dataset.chunks / name / "results").iterdir()
    }
    rewritten = sorted(k for k in results_after if results_after[k] != results_before[k])
    assert rewritten == ["00001.json", "00002.json"]
    assert not list((dataset.chunks / name / "errors").glob("*.ndjson"))


def test_failure_ratio_lets_a_run_succeed_with_recorded_failures(
    tmp_path: Path, pgstac_dsn: str
) -> None:
    strict = make_dataset(
        tmp_path / "strict", pgstac_dsn, assets=40, broken={5}, max_failure_ratio=0.01
    )
    assert (
        strict.run("dataset", "process-items", "-d", str(strict.folder), "--submit").returncode == 1
    )

    tolerant = make_dataset(
        tmp_path / "tolerant", pgstac_dsn, assets=40, broken={5}, max_failure_ratio=0.1
    )
    result = tolerant.run("dataset", "process-items", "-d", str(tolerant.folder), "--submit")

    assert result.returncode == 0, result.stderr
    assert len(item_ids(pgstac_dsn)) == 39
    name = json.loads(tolerant.run("workflow", "list", "-o", "json").stdout)[0]["name"]
    logs = tolerant.run("workflow", "logs", name).stdout
    per_pod = 40 // min(4, LOCAL_MAX_PODS)
    assert f"1 of {per_pod} assets failed ({1 / per_pod:.1%}), within the allowed 10.0%" in logs
