"""Permanent errors fail at once, transient ones are retried: through ``etl``, on the local runner.

A typo in a container name or a collection id used to take almost two minutes to fail (three
retries with 15/30/60 s backoff); no retry can cure them, so the pod exits ``EXIT_PERMANENT`` and
the workflow's ``retryStrategy`` does not run it again. A PgSTAC that cannot be reached may come
back, so that pod is retried.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from etl_cli import run_etl

from etl.core.errors import RemoteError, StorageError
from etl.pgstac.errors import is_transient_database_error

ROOT = Path(__file__).resolve().parents[2]
PERMANENT_FAILS_WITHIN = 30.0
"""Seconds: the first retry alone would wait 15 s after a pod's start-up; three retries 105 s."""


def timed_etl(*args: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """``run_etl`` and the seconds it took."""
    started = time.monotonic()
    result = run_etl(*args, env=env)
    return result, time.monotonic() - started


def attempts(run_name: str, env: dict[str, str]) -> dict[str, int]:
    """Attempts of each pod of a local run, by template, from the run's record."""
    record = Path(env["ETL_STATE_DIR"]) / "runs" / run_name / "run.json"
    nodes = json.loads(record.read_text())["nodes"].values()
    return {node["template"]: node["attempts"] for node in nodes if node["type"] == "Pod"}


@pytest.mark.postgres
def test_a_missing_container_fails_in_seconds_without_retries(
    env: dict[str, str], azurite_connection_string: str
) -> None:
    root = "blob://devstoreaccount1/no-such-container-ux"
    result, took = timed_etl("dataset", "process-items", "-d", "datasets/sample-sidecars",
                           "-a", f"root={root}", "--submit", env=env)  # fmt: skip

    # The preflight finds it before anything runs (issue 25, gap 12; the pod's own exit without
    # retries: test_chunking_azurite.py::test_etl_task_listing_a_missing_container_exits_2_...).
    assert result.returncode == 2
    assert f"not found: container {root}" in result.stderr
    assert "Traceback" not in result.stderr
    assert took < PERMANENT_FAILS_WITHIN
    assert not (Path(env["ETL_STATE_DIR"]) / "runs").exists()


@pytest.mark.postgres
def test_a_missing_collection_fails_in_seconds_without_retries(
    env: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "items.ndjson"
    source.write_text(json.dumps({"type": "Feature", "id": "a", "collection": "nope"}) + "\n")

    result, took = timed_etl("ingest", "items", str(source), "-c", "nope", "--submit", env=env)

    assert result.returncode == 1
    assert "collection 'nope' does not exist in PgSTAC" in result.stderr
    assert took < PERMANENT_FAILS_WITHIN
    assert list(attempts(result.stdout.strip().splitlines()[0], env).values()) == [1]


@pytest.mark.postgres
def test_a_missing_database_fails_in_seconds_without_retries(
    config_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "items.ndjson"
    source.write_text(json.dumps({"type": "Feature", "id": "a", "collection": "c"}) + "\n")
    dsn = "postgresql://postgres@127.0.0.1:55432/no_such_database_ux"
    env = dict(os.environ, ETL_PGSTAC_DSN=dsn, CI="true")

    result, took = timed_etl("ingest", "items", str(source), "-c", "c", "--submit", env=env)

    assert result.returncode == 1
    assert 'database "no_such_database_ux" does not exist' in result.stderr
    assert took < PERMANENT_FAILS_WITHIN
    assert list(attempts(result.stdout.strip().splitlines()[0], env).values()) == [1]


@pytest.mark.postgres
def test_an_unreachable_pgstac_is_retried(config_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "items.ndjson"
    source.write_text(json.dumps({"type": "Feature", "id": "a", "collection": "c"}) + "\n")
    env = dict(os.environ, ETL_PGSTAC_DSN="postgresql://postgres@127.0.0.1:1/pgstac", CI="true")

    result, _ = timed_etl("ingest", "items", str(source), "-c", "c", "--retries", "1", "--submit",
                        env=env)  # fmt: skip

    assert result.returncode == 1
    assert "cannot connect to PgSTAC" in result.stderr or "failed after" in result.stderr
    assert list(attempts(result.stdout.strip().splitlines()[0], env).values()) == [2]


def test_database_errors_are_transient_only_when_a_retry_can_help() -> None:
    import psycopg

    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect("postgresql://postgres@127.0.0.1:1/pgstac", connect_timeout=2)
    assert is_transient_database_error(refused.value)
    with pytest.raises(psycopg.OperationalError) as missing:
        psycopg.connect("postgresql://postgres@127.0.0.1:55432/no_such_database_ux")
    assert not is_transient_database_error(missing.value)


def test_errors_are_permanent_unless_they_say_otherwise() -> None:
    assert not StorageError("not found: blob://a/b/c").transient
    assert StorageError("cannot reach storage", transient=True).transient
    assert not RemoteError("collection 'x' does not exist").transient
