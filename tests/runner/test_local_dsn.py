"""The PgSTAC DSN on the local runner: given at run time, never written into the manifest.

A DSN with a password (``ETL_PGSTAC_DSN``) or libpq's ``PG*`` variables reach the local pods from
the runner's environment; an Argo profile still refuses a password-bearing ``pgstac.dsn``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import sidecar_dataset as e2e
from conftest import PG_ADMIN_DSN

PASSWORD = "secretpw"


@pytest.fixture
def password_role() -> Iterator[str]:
    role = f"etl_u_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN SUPERUSER PASSWORD '{PASSWORD}'")  # type: ignore[arg-type]
    yield role
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {role}")  # type: ignore[arg-type]


def _owned_by(dsn: str, role: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"REASSIGN OWNED BY {role} TO postgres")  # type: ignore[arg-type]
        conn.execute(f"DROP OWNED BY {role}")  # type: ignore[arg-type]


def _assert_nowhere(tmp_path: Path, *outputs: str) -> None:
    for output in outputs:
        assert PASSWORD not in output
    leaks = [p for p in tmp_path.rglob("*") if p.is_file() and PASSWORD.encode() in p.read_bytes()]
    assert leaks == []


def test_a_password_dsn_works_on_the_local_runner_and_is_written_nowhere(
    tmp_path: Path, pgstac_dsn: str, password_role: str
) -> None:
    database = urlsplit(pgstac_dsn).path.lstrip("/")
    dsn = f"postgresql://{password_role}:{PASSWORD}@127.0.0.1:55432/{database}"
    data = e2e.make_dataset(tmp_path, dsn, assets=15, broken=set())

    rendered = data.run("dataset", "render", "-d", str(data.folder))
    run = data.run("dataset", "process-items", "-d", str(data.folder), "--submit", "-o", "json")

    assert rendered.returncode == 0, rendered.stderr
    assert run.returncode == 0, run.stderr
    assert e2e.item_ids(pgstac_dsn) == [f"item-{n:05d}" for n in range(15)]
    name = json.loads(run.stdout)["name"]
    got = data.run("workflow", "get", name, "-o", "json")
    logs = data.run("workflow", "logs", name)
    _assert_nowhere(tmp_path, *(r.stdout + r.stderr for r in (rendered, run, got, logs)))
    _owned_by(pgstac_dsn, password_role)


def test_libpq_variables_name_the_database_when_no_dsn_is_given(
    tmp_path: Path, pgstac_dsn: str, password_role: str
) -> None:
    database = urlsplit(pgstac_dsn).path.lstrip("/")
    data = e2e.make_dataset(tmp_path, "unused", assets=5, broken=set())
    del data.env["ETL_PGSTAC_DSN"]
    data.env |= {
        "PGHOST": "127.0.0.1",
        "PGPORT": "55432",
        "PGUSER": password_role,
        "PGPASSWORD": PASSWORD,
        "PGDATABASE": database,
    }

    run = data.run("dataset", "process-items", "-d", str(data.folder), "--submit")

    assert run.returncode == 0, run.stderr
    assert e2e.item_ids(pgstac_dsn) == [f"item-{n:05d}" for n in range(5)]
    _assert_nowhere(tmp_path, run.stdout + run.stderr)
    _owned_by(pgstac_dsn, password_role)


def test_an_argo_profile_still_refuses_a_password_dsn(tmp_path: Path) -> None:
    data = e2e.make_dataset(tmp_path, "unused", assets=1, broken=set())
    data.on_blob_storage()
    data.env["ETL_PGSTAC_DSN"] = f"postgresql://u:{PASSWORD}@db.example.com/pgstac"
    made = data.run(
        "profile",
        "create",
        "prod",
        "--set",
        "runner=argo",
        "--set",
        "argo.server=https://argo.example.com:2746",
        "--set",
        "workflow.code_storage=blob://etlcode/code",
    )
    assert made.returncode == 0, made.stderr

    rendered = data.run("-p", "prod", "dataset", "render", "-d", str(data.folder))

    assert rendered.returncode == 2
    assert "pgstac.dsn holds a password" in rendered.stderr
    assert "pgstac.dsn_secret" in rendered.stderr
    assert PASSWORD not in rendered.stdout + rendered.stderr
