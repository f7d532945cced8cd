"""The last-success marker moves only when that is safe, and no failed asset is left behind
(issue 22, findings 1-3).

Everything goes through ``etl`` on the built-in ``local`` profile: the sample-sidecars dataset on
this machine's files (a copy of it where a test needs ``max_failure_ratio`` or a pod that dies),
loaded into a PgSTAC database of the test's own. Faults are injected as a user would: a hand-edited
or truncated marker file, a sidecar broken and later restored with its old timestamp (``cp -p``), a
pod killed with SIGKILL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from etl_cli import run_etl
from sidecar_files import generate_sidecars

from etl.dataset.run_history import RECENT_RUNS

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "sample-sidecars"
COLLECTION = "sample-sidecars"
OLD = 1_600_000_000  # 2020-09-13: a timestamp from before every run

pytestmark = pytest.mark.postgres


def etl(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``run_etl``, never ending in a traceback."""
    result = run_etl(*args, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def on_dataset(
    command: str, root: Path, env: dict[str, str], *extra: str, dataset: Path = SAMPLE
) -> subprocess.CompletedProcess[str]:
    return etl("dataset", command, "-d", str(dataset), "-a", f"root={root}", *extra, env=env)


def run(
    root: Path, env: dict[str, str], *flags: str, dataset: Path = SAMPLE
) -> tuple[int, str, str]:
    """``process-items --submit`` (followed to its end): exit code, run name, what it printed."""
    result = on_dataset("process-items", root, env, "--submit", *flags, dataset=dataset)
    return result.returncode, result.stdout.strip(), result.stderr


def status(root: Path, env: dict[str, str], dataset: Path = SAMPLE) -> dict[str, Any]:
    result = on_dataset("status", root, env, "-o", "json", dataset=dataset)
    assert result.returncode == 0, result.stderr
    [collection] = json.loads(result.stdout)["collections"]
    return dict(collection)


def marker_of(root: Path) -> dict[str, str]:
    data: dict[str, str] = json.loads((root / "runs" / "_last_success.json").read_text())
    return data


def sidecars(root: Path, count: int, env: dict[str, str]) -> dict[str, Path]:
    """Generate ``count`` sidecars, each older than every run (so that ``--since`` takes again only
    what a test changes or what is owed, however fast a run is); each file by its scene id."""
    generate_sidecars(count, root / "assets", env)
    files = {path.stem: path for path in (root / "assets").rglob("sample-scene-*.json")}
    for path in files.values():
        os.utime(path, (OLD, OLD))
    return files


def cloud_cover(dsn: str, item_id: str) -> float | None:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT content->'properties'->>'sample:cloud_cover' FROM pgstac.items"
            " WHERE collection = %s AND id = %s",
            (COLLECTION, item_id),
        ).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def item_ids(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT id FROM pgstac.items WHERE collection = %s", (COLLECTION,))
        return {row[0] for row in rows}


def edit(path: Path, **changes: Any) -> str:
    """Change fields of a sidecar; return its content before."""
    before = path.read_text()
    path.write_text(json.dumps({**json.loads(before), **changes}))
    return before


def restore(path: Path, content: str) -> None:
    """Put ``content`` back with an old modification time, as ``cp -p`` from a backup does."""
    path.write_text(content)
    os.utime(path, (OLD, OLD))


def tolerant_copy(tmp_path: Path, *, killer: Path | None = None) -> Path:
    """The sample dataset with ``max_failure_ratio: 0.5``, chunks of 2 and, with ``killer``, a
    class that SIGKILLs its own pod on the asset named in that file (as the OOM killer would)."""
    dataset = tmp_path / "dataset"
    shutil.copytree(SAMPLE, dataset, ignore=shutil.ignore_patterns("__pycache__"))
    text = (dataset / "dataset.yaml").read_text()
    text = text.replace("chunk_length: 500", "chunk_length: 2")
    text = text.replace("    chunk_storage:", "    max_failure_ratio: 0.5\n    chunk_storage:")
    if killer is not None:
        (dataset / "sample_sidecars" / "killing.py").write_text(
            "import os, signal\n"
            "from pathlib import Path\n"
            "from sample_sidecars.collection import SampleSidecarsCollection\n\n\n"
            "class KillingCollection(SampleSidecarsCollection):\n"
            "    @classmethod\n"
            "    def create_item(cls, asset_uri, storage):\n"
            f"        victim = Path({str(killer)!r})\n"
            "        if victim.exists() and asset_uri.endswith(victim.read_text()):\n"
            "            os.kill(os.getpid(), signal.SIGKILL)\n"
            "        return super().create_item(asset_uri, storage)\n"
        )
        text = text.replace("collection:SampleSidecarsCollection", "killing:KillingCollection")
    (dataset / "dataset.yaml").write_text(text)
    return dataset


def test_a_partial_run_keeps_the_marker_and_the_next_incremental_run_loads_the_change(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    files = sidecars(root, 6, env)
    code, first, _ = run(root, env)
    assert code == 0 and marker_of(root)["run_id"] == first
    edit(files["sample-scene-0000003"], cloud_cover=99.5)  # changed after the marker

    code, limited, said = run(root, env, "--limit", "1")

    assert code == 0, said
    assert marker_of(root)["run_id"] == first
    assert (
        f"{COLLECTION}: last-success marker kept at {first} " in said
        and "the run did not list every asset changed since" in said
        and "(--limit 1)" in said
    ), said
    got = etl("workflow", "get", limited, "-o", "json", env=env)
    [report] = json.loads(got.stdout)["collections"]
    assert report["marker"]["advanced"] is False and report["marker"]["marker"]["run_id"] == first
    assert "--limit 1" in report["marker"]["reason"]
    assert "last-success marker kept" in etl("workflow", "get", limited, env=env).stdout

    code, backfill, said = run(root, env, "--since", "2030-01-01")

    assert code == 0, said
    assert f"{COLLECTION}: 0 assets since 2030-01-01" in said
    assert "last-success marker kept" in said and "(--since 2030-01-01" in said
    assert marker_of(root)["run_id"] == first
    assert cloud_cover(pgstac_dsn, "sample-scene-0000003") != 99.5

    code, incremental, said = run(root, env, "--since", "last-success")

    assert code == 0, said
    assert f"{COLLECTION}: 1 asset in 1 chunk, 0 failed" in said
    assert cloud_cover(pgstac_dsn, "sample-scene-0000003") == 99.5
    assert marker_of(root)["run_id"] == incremental  # listed all since the marker: it moves
    assert "last-success marker kept" not in said
    got = etl("workflow", "get", incremental, "-o", "json", env=env)
    [report] = json.loads(got.stdout)["collections"]
    assert report["marker"]["advanced"] is True and report["marker"]["reason"] is None
    assert backfill != incremental


def test_failed_assets_are_taken_again_until_they_load_or_are_forgotten(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    dataset = tolerant_copy(tmp_path)
    files = sidecars(root, 6, env)
    fixed, dropped = files["sample-scene-0000001"], files["sample-scene-0000004"]
    originals = {path: path.read_text() for path in (fixed, dropped)}
    for path in (fixed, dropped):
        restore(path, "not json{")  # broken, still older than the first run

    code, first, said = run(root, env, dataset=dataset)

    assert code == 0, said  # 2 of 6 failed: within max_failure_ratio 0.5
    assert f"{COLLECTION}: 6 assets in 3 chunks, 2 failed" in said
    assert marker_of(root)["run_id"] == first
    assert status(root, env, dataset)["outstanding_failures"] == 2
    restore(fixed, originals[fixed])  # repaired, with its old timestamp

    code, second, said = run(root, env, "--since", "last-success", dataset=dataset)

    assert code == 0, said
    assert f"{COLLECTION}: 2 assets in 1 chunk, 1 failed" in said  # both taken again
    assert "sample-scene-0000001" in item_ids(pgstac_dsn)
    owed = status(root, env, dataset)
    assert [(f["asset"], f["run_id"]) for f in owed["failed_assets"]] == [
        (dropped.as_uri(), second)
    ]

    unknown = on_dataset("forget-failures", root, env, "--asset", fixed.as_uri(), dataset=dataset)
    assert unknown.returncode == 2
    assert "not an outstanding failure of sample-sidecars" in unknown.stderr
    neither = on_dataset("forget-failures", root, env, dataset=dataset)
    assert neither.returncode == 2 and "--asset" in neither.stderr
    forgot = on_dataset("forget-failures", root, env, "--asset", dropped.as_uri(), dataset=dataset)
    assert forgot.returncode == 0, forgot.stderr
    assert forgot.stdout == f"{COLLECTION}: 1 failed asset forgotten\n  {dropped.as_uri()}\n"

    after = status(root, env, dataset)
    assert after["outstanding_failures"] == 0 and after["failed_assets"] == []
    code, _, said = run(root, env, "--since", "last-success", dataset=dataset)
    assert code == 0, said
    assert f"{COLLECTION}: 0 assets since" in said  # the forgotten asset is no longer taken


def test_chunks_whose_pod_died_are_outstanding_and_taken_again(
    env: dict[str, str], tmp_path: Path
) -> None:
    root = tmp_path / "root"
    killer = tmp_path / "kill-on"
    dataset = tolerant_copy(tmp_path, killer=killer)
    sidecars(root, 6, env)
    code, _, said = run(root, env, dataset=dataset)
    assert code == 0, said
    killer.write_text("sample-scene-0000002.json")  # chunk 1: scenes 2 and 3

    code, killed, said = run(root, env, dataset=dataset)

    assert code == 1, said
    owed = status(root, env, dataset)
    assert owed["outstanding_failures"] == 2
    assert sorted(Path(f["asset"]).name for f in owed["failed_assets"]) == [
        "sample-scene-0000002.json",
        "sample-scene-0000003.json",
    ]
    assert {f["run_id"] for f in owed["failed_assets"]} == {killed}
    assert all("chunk 00001 never finished" in f["error"] for f in owed["failed_assets"])
    killer.unlink()

    code, _, said = run(root, env, "--since", "last-success", dataset=dataset)

    assert code == 0, said
    assert f"{COLLECTION}: 2 assets in 1 chunk, 0 failed" in said
    assert status(root, env, dataset)["outstanding_failures"] == 0


UNUSABLE = {
    "future": ('{"run_id": "process-items-x", "started_at": "2099-01-01T00:00:00Z"}', "started_at"),
    "truncated": ('{"run_id": "process-items-x", "star', None),
    "random-bytes": ("\x00\xff garbage", None),
    "missing-key": ('{"started_at": "2024-01-01T00:00:00Z"}', "run_id"),
}


def write_marker(root: Path, case: str) -> str:
    """Write an unusable marker; return the start of the message that locates it."""
    content, field = UNUSABLE[case]
    marker = root / "runs" / "_last_success.json"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_bytes(content.encode("latin-1"))
    return f"{marker.as_uri()}: {field + ': ' if field else ''}"


@pytest.mark.parametrize("case", ["future", "truncated"])
def test_an_unusable_marker_fails_the_incremental_run_at_once_and_a_full_run_replaces_it(
    env: dict[str, str], tmp_path: Path, case: str
) -> None:
    root = tmp_path / "root"
    sidecars(root, 3, env)
    code, _, said = run(root, env)
    assert code == 0, said
    located = write_marker(root, case)

    code, name, said = run(root, env, "--since", "last-success")

    assert code == 1
    assert located in said and "delete the file" in said, said
    logs = etl("workflow", "logs", name, env=env).stdout
    assert logs.count(located) == 1  # permanent (exit 2): create-chunks ran once, not retried

    code, full, said = run(root, env)  # the documented way out: a run that lists every asset

    assert code == 0, said
    assert marker_of(root)["run_id"] == full
    got = etl("workflow", "get", full, "-o", "json", env=env)
    [report] = json.loads(got.stdout)["collections"]
    assert report["marker"]["advanced"] is True
    assert report["marker"]["replaced"].startswith(located)


@pytest.mark.parametrize("case", sorted(UNUSABLE))
def test_status_reports_an_unusable_marker_with_its_file(
    env: dict[str, str], tmp_path: Path, case: str
) -> None:
    root = tmp_path / "root"
    located = write_marker(root, case)

    shown = status(root, env)
    table = on_dataset("status", root, env)

    assert shown["last_success"] is None
    assert shown["last_success_error"].startswith(located)
    assert "delete the file" in shown["last_success_error"]
    assert table.returncode == 0 and located in table.stdout


def test_a_retry_of_an_older_run_does_not_move_the_marker_back(
    env: dict[str, str], tmp_path: Path
) -> None:
    root = tmp_path / "root"
    files = sidecars(root, 3, env)
    broken = files["sample-scene-0000001"]
    original = broken.read_text()
    broken.write_text("not json{")
    code, old, _ = run(root, env)
    assert code == 1
    broken.write_text(original)
    code, newer, _ = run(root, env)
    assert code == 0 and marker_of(root)["run_id"] == newer

    retried = etl("workflow", "retry", old, env=env)

    assert retried.returncode == 0, retried.stderr
    assert marker_of(root)["run_id"] == newer
    assert f"last-success marker kept at {newer}" in retried.stderr
    assert f"{newer}, started later" in retried.stderr


def test_a_failure_stays_owed_however_many_partial_runs_follow(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    dataset = tolerant_copy(tmp_path)
    files = sidecars(root, 4, env)
    broken = files["sample-scene-0000002"]
    original = broken.read_text()
    broken.write_text("not json{")
    code, _, said = run(root, env, dataset=dataset)
    assert code == 0, said
    partial_runs = RECENT_RUNS + 1  # more runs than status lists, none of them taking it again
    for _ in range(partial_runs):
        code, _, said = run(root, env, "--since", "2030-01-01", dataset=dataset)
        assert code == 0, said

    owed = status(root, env, dataset)

    assert len(owed["recent_runs"]) == RECENT_RUNS
    assert [f["asset"] for f in owed["failed_assets"]] == [broken.as_uri()]
    restore(broken, original)
    code, _, said = run(root, env, "--since", "last-success", dataset=dataset)
    assert code == 0, said
    assert "sample-scene-0000002" in item_ids(pgstac_dsn)
    assert status(root, env, dataset)["outstanding_failures"] == 0
