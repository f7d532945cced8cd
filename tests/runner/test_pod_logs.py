"""Each etl-task of a run keeps its log in the run's storage, and ``etl workflow logs`` reads it
once the pod's own log is gone (on Argo, ``podGC: OnPodSuccess`` deletes every pod that succeeded).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from etl_cli import run_etl
from sidecar_files import generate_sidecars

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "sample-sidecars"


@pytest.mark.postgres
def test_logs_of_gone_pods_are_read_from_the_runs_storage(
    env: dict[str, str], tmp_path: Path
) -> None:
    root = tmp_path / "root"
    generate_sidecars(3, root / "assets", env)
    run = run_etl("dataset", "process-items", "-d", str(SAMPLE), "-a", f"root={root}",
                  "--submit", env=env)  # fmt: skip
    assert run.returncode == 0, run.stderr
    name = run.stdout.strip()
    live = run_etl("workflow", "logs", name, env=env)
    assert live.returncode == 0, live.stderr

    kept = sorted(p.name for p in root.rglob(f"{name}/logs/*.log"))
    steps = ["create-chunks", "finish-collection", "mark-success", "process-chunks.batch(0)"]
    assert kept == [f"{name}.sample-sidecars.{step}.log" for step in steps]

    shutil.rmtree(Path(env["ETL_STATE_DIR"]) / "runs" / name / "logs")  # the pods are gone
    gone = run_etl("workflow", "logs", name, env=env)

    assert gone.returncode == 0, gone.stderr
    # ingest-collection has no run id, so it keeps no log; every other pod's lines are back
    kept_lines = [line for line in live.stdout.splitlines() if ".ingest-collection: " not in line]
    assert sorted(gone.stdout.splitlines()) == sorted(kept_lines)
    assert any("process-chunks.batch(0): batch 0/1: 1 chunk processed" in line
               for line in gone.stdout.splitlines())  # fmt: skip
