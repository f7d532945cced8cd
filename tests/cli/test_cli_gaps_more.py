"""The day-2 CLI gaps of issue 25 (part 3: gaps 7, 8, 9, 12, 13), each through ``etl`` as a user meets it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from etl_cli import ROOT, run_etl

SAMPLE = ROOT / "datasets" / "sample-sidecars"


def test_gap7_local_profiles_follow_the_service_ports(config_dir: Path) -> None:
    """ETL_PG_PORT/ETL_AZURITE_PORT (as scripts/services takes them) move the built-in ``local``
    profile and a new ``local``-runner profile to those ports."""
    ports = {"ETL_PG_PORT": "55999", "ETL_AZURITE_PORT": "10999"}
    shown = run_etl("profile", "show", "local", "-o", "json", env=ports)
    assert shown.returncode == 0, shown.stderr
    profile = json.loads(shown.stdout)
    assert "127.0.0.1:55999/pgstac" in profile["pgstac"]["dsn"]
    assert profile["storage"]["devstoreaccount1"]["account_url"] == (
        "http://127.0.0.1:10999/devstoreaccount1"
    )

    created = run_etl("profile", "create", "mine", "--runner", "local", env=ports)
    assert created.returncode == 0, created.stderr
    saved = (config_dir / "profiles" / "mine.yaml").read_text()
    assert "127.0.0.1:55999/pgstac" in saved and "127.0.0.1:10999/devstoreaccount1" in saved

    bad = run_etl("profile", "show", "local", env={"ETL_PG_PORT": "fivefive"})
    assert bad.returncode == 2
    assert "ETL_PG_PORT='fivefive' is not a port number" in bad.stderr
    assert "Traceback" not in bad.stderr


def _sample_copy(tmp_path: Path) -> Path:
    dataset = tmp_path / "dataset"
    shutil.copytree(SAMPLE, dataset, ignore=shutil.ignore_patterns("__pycache__"))
    return dataset


def test_gap8_validate_reads_the_collection_template(tmp_path: Path, config_dir: Path) -> None:
    """A template whose id is not the collection's, or with a placeholder the pod would publish
    literally, fails ``etl dataset validate`` at its line, exit 2."""
    dataset = _sample_copy(tmp_path)
    template = dataset / "collection" / "template.json"
    original = template.read_text()
    validate = ("dataset", "validate", "-d", str(dataset), "-a", f"root={tmp_path}")
    assert run_etl(*validate).returncode == 0

    template.write_text(original.replace('"id": "sample-sidecars"', '"id": "sample-sidecar"'))
    wrong_id = run_etl(*validate)
    assert wrong_id.returncode == 2, wrong_id.stderr
    assert f"{template}:4:" in wrong_id.stderr
    assert "id 'sample-sidecar' is not the collection's id 'sample-sidecars'" in wrong_id.stderr

    template.write_text(original.replace("collection.description", "collection.descripton"))
    typo = run_etl(*validate)
    assert typo.returncode == 2, typo.stderr
    assert f"{template}:6:" in typo.stderr
    assert "unknown placeholder {{ collection.descripton }}" in typo.stderr
    assert "did you mean {{ collection.description }}?" in typo.stderr
    assert "Traceback" not in typo.stderr


@pytest.mark.postgres
def test_gap9_the_end_of_a_run_says_what_happened(tmp_path: Path, env: dict[str, str]) -> None:
    """A run whose ingest-collection failed says so, not ``N failed``; ``create-chunks --submit``
    says how many chunks and where; counts of one are singular."""
    dataset = _sample_copy(tmp_path)
    text = (dataset / "dataset.yaml").read_text().replace("chunk_length: 500", "chunk_length: 5")
    (dataset / "dataset.yaml").write_text(text)
    template = dataset / "collection" / "template.json"
    right = template.read_text()
    # An operator who skipped validate: the id is wrong, so ingest-collection fails in the run.
    template.write_text(right.replace('"id": "sample-sidecars"', '"id": "wrong"'))
    subprocess.run(
        [sys.executable, str(SAMPLE / "generate.py"), "--count", "10", str(tmp_path / "assets")],
        check=True,
        capture_output=True,
    )
    args = ("-d", str(dataset), "-a", f"root={tmp_path}", "--submit")

    failed = run_etl("dataset", "process-items", *args, env=env, timeout=300)
    assert failed.returncode == 1, failed.stderr
    assert "sample-sidecars: 10 assets in 2 chunks, none processed: ingest-collection failed\n" in (
        failed.stderr
    )
    assert " failed;" not in failed.stderr and "0 failed" not in failed.stderr

    template.write_text(right)
    chunks = run_etl("dataset", "create-chunks", *args, "--limit", "5", env=env, timeout=300)
    assert chunks.returncode == 0, chunks.stderr
    run = chunks.stdout.strip()
    where = (tmp_path / "runs" / run / "chunks").as_uri()
    assert f"sample-sidecars: 5 assets in 1 chunk, written to {where}/\n" in chunks.stderr
    assert (tmp_path / "runs" / run / "chunks" / "00000.txt").is_file()
    assert "1 pods" not in chunks.stderr and "1 chunks" not in chunks.stderr
