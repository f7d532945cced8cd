"""Failed assets are shown where users look, counts are true, and waiting commands exit 1 on failure.

Everything goes through the ``etl`` command on the built-in ``local`` profile: the sample-sidecars
dataset with two broken sidecars (one not JSON, one without its footprint), on this machine's
files and on Azurite, loaded into a PgSTAC database of the test's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from argo_server import TOKEN, ArgoServerStandIn
from etl_cli import one_pod_workflow, run_etl
from sidecar_files import generate_sidecars

from etl.core.profiles.resolve import resolve_profile
from etl.core.storage.opening import open_storage

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "sample-sidecars"
NOT_JSON = "sample-scene-0000002.json"
NO_FOOTPRINT = "sample-scene-0000004.json"


def generate(count: int, target: str, env: dict[str, str]) -> None:
    generate_sidecars(count, target, env)


def break_two_sidecars(assets: str) -> None:
    """Sidecar 2 becomes not JSON, sidecar 4 loses its footprint."""
    storage = open_storage(assets, profile=resolve_profile(None))
    paths = {info.path.rsplit("/", 1)[-1]: info.path for info in storage.list_objects()}
    storage.write_text(paths[NOT_JSON], "not json{")
    record = json.loads(storage.read_text(paths[NO_FOOTPRINT]))
    del record["footprint"]
    storage.write_text(paths[NO_FOOTPRINT], json.dumps(record))


def process_items(root: str, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return run_etl("dataset", "process-items", "-d", str(SAMPLE), "-a", f"root={root}",
                   "--submit", *extra, env=env)  # fmt: skip


def get_json(name: str, env: dict[str, str]) -> dict[str, object]:
    got = run_etl("workflow", "get", name, "-o", "json", env=env)
    assert got.returncode == 0, got.stderr
    data: dict[str, object] = json.loads(got.stdout)
    return data


@pytest.mark.postgres
def test_a_failed_run_names_its_failed_assets_and_retry_exits_1(
    env: dict[str, str], tmp_path: Path
) -> None:
    root = tmp_path / "root"
    generate(7, str(root / "assets"), env)
    break_two_sidecars(str(root / "assets"))

    result = process_items(str(root), env)

    assert result.returncode == 1
    name = result.stdout.strip()
    assert "sample-sidecars: 7 assets in 1 chunk, 2 failed\n2 assets failed:\n" in result.stderr
    assert f"{NOT_JSON}: not JSON" in result.stderr
    assert f"{NO_FOOTPRINT}: missing footprint" in result.stderr
    assert result.stderr.endswith(f"error: workflow '{name}' ended Failed\n")

    table = run_etl("workflow", "get", name, env=env).stdout
    assert "failed_assets  2" in table
    assert "not JSON" in table and "missing footprint" in table
    got = get_json(name, env)
    assert got["progress"] == "assets=7 chunks=1 failed=2 items=5"
    assert got["failed"] == 2
    assert [e["asset"].rsplit("/", 1)[1] for e in got["asset_errors"]] == [NOT_JSON, NO_FOOTPRINT]
    logs = run_etl("workflow", "logs", name, env=env).stdout
    assert f"{NO_FOOTPRINT}: SidecarError: " in logs and "missing footprint" in logs

    listed = run_etl("workflow", "errors", name, "-o", "json", env=env)
    assert listed.returncode == 0, listed.stderr
    report = json.loads(listed.stdout)
    assert report["workflow"] == name and report["failed"] == 2
    assert [
        (c["collection"], c["assets"], c["chunks"], c["failed"]) for c in report["collections"]
    ] == [("sample-sidecars", 7, 1, 2)]
    first = report["errors"][0]
    assert set(first) == {"collection", "chunk", "asset", "error"}
    assert first["chunk"] == 0 and first["error"].startswith("SidecarError: ")

    retried = run_etl("workflow", "retry", name, env=env)

    assert retried.returncode == 1
    assert "missing footprint" in retried.stderr
    assert get_json(name, env)["progress"] == "assets=7 chunks=1 failed=2 items=5"

    generate(7, str(root / "assets"), env)  # the sidecars repaired
    repaired = run_etl("workflow", "retry", name, env=env)

    assert repaired.returncode == 0, repaired.stderr
    assert "sample-sidecars: 7 assets in 1 chunk, 0 failed" in repaired.stderr
    assert get_json(name, env)["progress"] == "assets=7 chunks=1 failed=0 items=7"
    assert (
        json.loads(run_etl("workflow", "errors", name, "-o", "json", env=env).stdout)["errors"]
        == []
    )


@pytest.mark.postgres
def test_failed_assets_are_read_from_blob_storage_for_either_runner(
    env: dict[str, str], azurite_container: str, argo_server: ArgoServerStandIn
) -> None:
    root = f"blob://devstoreaccount1/{azurite_container}/sidecars"
    generate(7, f"{root}/assets", env)
    break_two_sidecars(f"{root}/assets")

    result = process_items(root, env)

    assert result.returncode == 1
    name = result.stdout.strip()
    listed = run_etl("workflow", "errors", name, env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split() == ["COLLECTION", "CHUNK", "ASSET", "ERROR"]
    assert "not JSON" in listed.stdout and "missing footprint" in listed.stdout
    report = json.loads(run_etl("workflow", "errors", name, "-o", "json", env=env).stdout)
    assert report["collections"][0]["errors_uri"] == f"{root}/runs/{name}/errors/"

    manifest = json.loads(
        (Path(env["ETL_STATE_DIR"]) / "runs" / name / "manifest.json").read_text()
    )
    del manifest["metadata"]["generateName"]
    manifest["metadata"]["name"] = name  # the run id the pods of an Argo run would have written
    manifest_file = Path(env["ETL_STATE_DIR"]) / "argo-workflow.json"
    manifest_file.write_text(json.dumps(manifest))
    on_argo = dict(env, ETL_ARGO_SERVER=argo_server.url, ETL_ARGO_TOKEN=TOKEN)
    assert run_etl("workflow", "submit", str(manifest_file), env=on_argo).stdout.strip() == name

    from_argo = run_etl("workflow", "errors", name, "-o", "json", env=on_argo)

    assert from_argo.returncode == 0, from_argo.stderr
    assert json.loads(from_argo.stdout) == report


@pytest.mark.postgres
def test_runs_that_found_nothing_say_so(env: dict[str, str], tmp_path: Path) -> None:
    root = tmp_path / "root"
    generate(3, str(root / "assets"), env)
    for path in (root / "assets").rglob("*.json"):  # older than the first run's start (whole
        os.utime(path, (1_600_000_000, 1_600_000_000))  # seconds), however fast it is
    assert process_items(str(root), env, "--since", "last-success").returncode == 0

    again = process_items(str(root), env, "--since", "last-success")
    empty = process_items(str(tmp_path / "empty"), env)

    assert again.returncode == 0, again.stderr
    assert "sample-sidecars: 0 assets since 20" in again.stderr
    last = again.stderr.rstrip().splitlines()[-2:]  # then what finish-collection did
    assert last[0].endswith("nothing to do") and last[1].startswith("sample-sidecars: extent ")
    assert empty.returncode == 0, empty.stderr
    assert "sample-sidecars: 0 assets listed: nothing to do" in empty.stderr


def test_a_pod_tried_twice_is_counted_once(config_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "tried"
    task = tmp_path / "task.py"
    task.write_text(
        textwrap.dedent(
            f"""
            import pathlib, sys
            print('etl-progress {{"unit": "chunk 00000", "chunks": 1, "items": 5}}')
            print('etl-progress {{"items": 3}}')
            marker = pathlib.Path({str(marker)!r})
            if not marker.exists():
                marker.write_text("once")
                sys.exit(1)
            """
        )
    )
    manifest = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "twice-"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "retryStrategy": {"limit": "1", "backoff": {"duration": "0.05s"}},
                    "container": {"image": "x:1", "command": [sys.executable], "args": [str(task)]},
                }
            ],
        },
    }
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(manifest))
    env = dict(os.environ, CI="true")

    result = run_etl("workflow", "submit", str(path), "--wait", env=env)

    assert result.returncode == 0, result.stderr
    assert get_json(result.stdout.strip(), env)["progress"] == "chunks=1 items=8"


def test_waiting_commands_exit_1_when_the_workflow_fails(config_dir: Path, tmp_path: Path) -> None:
    manifest = one_pod_workflow("fails-", "print('error: it broke'); raise SystemExit(2)")
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(manifest))
    env = dict(os.environ, CI="true")

    submitted = run_etl("workflow", "submit", str(path), "--wait", env=env)
    name = submitted.stdout.strip()
    watched = run_etl("workflow", "watch", name, env=env)
    retried = run_etl("workflow", "retry", name, "--wait", env=env)

    for result in (submitted, watched, retried):
        assert result.returncode == 1
        assert f"  failed: {name}: exit code 2: error: it broke\n" in result.stderr
        assert result.stderr.endswith(f"error: workflow '{name}' ended Failed\n")
