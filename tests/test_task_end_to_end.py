"""``etl dataset process-items --submit`` on the local profile: the compiled workflow, run here.

Real PostgreSQL + pgstac (one database per test), real files; the dataset's collection class
fails for assets marked broken, so partial failures, re-runs and retries are observable.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

from etl.core.profiles.model import LOCAL_MAX_PODS
from etl.pgstac import PgstacWriter

ROOT = Path(__file__).resolve().parents[1]

COLLECTION_CODE = """
import json
from datetime import datetime
from pathlib import Path

import pystac

from etl.dataset import Collection


class Sidecars(Collection):
    @classmethod
    def create_item(cls, asset_uri, storage):
        record = json.loads(storage.read_text(asset_uri))
        if record.get("broken") and not Path(record["broken"]).exists():
            raise ValueError(f"sidecar {record['id']} is broken")
        x, y = record["x"], record["y"]
        return pystac.Item(
            id=record["id"],
            geometry={"type": "Point", "coordinates": [x, y]},
            bbox=[x, y, x, y],
            datetime=datetime.fromisoformat(record["t"]),
            properties={"n": record["n"]},
            assets={"data": pystac.Asset(href=asset_uri)},
        )
"""

TEMPLATE = {
    "type": "Collection",
    "stac_version": "1.0.0",
    "id": "sidecars",
    "description": "{{ collection.description }}",
    "license": "CC0-1.0",
    "extent": {
        "spatial": {"bbox": [[-180, -90, 180, 90]]},
        "temporal": {"interval": [["2020-01-01T00:00:00Z", None]]},
    },
    "links": [],
}


@dataclass
class Dataset:
    folder: Path
    assets: Path
    chunks: Path
    fixed_marker: Path
    env: dict[str, str]

    def on_blob_storage(self) -> None:
        """Point the dataset's storage at ``blob://`` URIs, as an Argo profile requires (for
        tests that compile for a cluster and run nothing)."""
        yaml_path = self.folder / "dataset.yaml"
        text = yaml_path.read_text()
        for index, local in enumerate(sorted(set(re.findall(r"file://\S+", text)))):
            text = text.replace(local, f"blob://acct/data{index}")
        yaml_path.write_text(text)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["uv", "run", "--frozen", "etl", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def make_dataset(
    tmp_path: Path,
    dsn: str,
    *,
    assets: int,
    broken: set[int],
    chunk_length: int = 10,
    max_failure_ratio: float = 0.0,
) -> Dataset:
    folder = tmp_path / "dataset"
    (folder / "collection").mkdir(parents=True)
    (folder / "sidecars.py").write_text(COLLECTION_CODE)
    (folder / "collection" / "template.json").write_text(json.dumps(TEMPLATE))
    (folder / "collection" / "description.md").write_text("Synthetic sidecars for tests.")
    asset_dir = tmp_path / "assets"
    asset_dir.mkdir()
    fixed = tmp_path / "fixed"
    for n in range(assets):
        record = {
            "id": f"item-{n:05d}",
            "n": n,
            "x": n % 180,
            "y": n % 90,
            "t": "2021-05-01T00:00:00+00:00",
        }
        if n in broken:
            record["broken"] = str(fixed)
        (asset_dir / f"{n:05d}.json").write_text(json.dumps(record))
    chunks = tmp_path / "chunks"
    (folder / "dataset.yaml").write_text(
        textwrap.dedent(
            f"""\
            id: sidecars
            image: etl-task:test
            code:
              src: $<< local.path(./sidecars.py) >>
            task_config:
              sidecars:
                create-items: {{retries: 0}}
                create-chunks: {{retries: 0}}
                ingest-collection: {{retries: 0}}
            collections:
              - id: sidecars
                class: sidecars:Sidecars
                template: $<< local.path(./collection) >>
                max_failure_ratio: {max_failure_ratio}
                asset_storage:
                  - uri: {asset_dir.as_uri()}
                    chunks:
                      options:
                        chunk_length: {chunk_length}
                        extensions: [.json]
                chunk_storage:
                  uri: {chunks.as_uri()}
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETL_", "ARGO_"))}
    env |= {
        "ETL_PGSTAC_DSN": dsn,
        "ETL_STATE_DIR": str(tmp_path / "state"),
        "ETL_CONFIG_DIR": str(tmp_path / "config"),
        "CI": "true",
    }
    return Dataset(folder, asset_dir, chunks, fixed, env)


def item_ids(dsn: str) -> list[str]:
    with PgstacWriter(dsn) as writer:
        return sorted(writer.item_ids("sidecars"))


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
