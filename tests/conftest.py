"""Shared fixtures: the real services started once per session by ``scripts/services start``.

Every test gets its own PgSTAC database (cloned from a migrated template), its own Azurite
container and its own config folder, so tests never see each other's data.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# The fixtures of tests/support (on pytest's pythonpath), usable from every test module:
# ``argo_server`` and ``argo_env`` (the stand-in Argo Server), ``task_image`` (the built task image),
# ``notified`` (a dataset with a queue and a webhook target).
pytest_plugins = [
    "argo_server",
    "kubernetes_api",
    "notified_dataset",
    "stream_dataset",
    "task_image",
]

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_DSN = os.environ.get(
    "ETL_TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:55432/postgres"
)
AZURITE_CONNECTION_STRING = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
)
TEMPLATE_DB = "etl_test_template"
NO_SKIPS = os.environ.get("ETL_NO_SKIPS") == "1"
_SKIPPED: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Under ``ETL_NO_SKIPS=1`` (``.ci/run``), remember every skipped test."""
    if NO_SKIPS and report.skipped:
        _SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under ``ETL_NO_SKIPS=1``, a skipped test fails the run: CI must run every test."""
    if _SKIPPED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(f"ETL_NO_SKIPS=1 and {len(_SKIPPED)} tests skipped:", red=True)
            for nodeid in _SKIPPED:
                reporter.write_line(f"  {nodeid}")


def _dsn(database: str) -> str:
    return PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + database


def _admin_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def pgstac_template() -> Iterator[str]:
    """A migrated pgstac database that per-test databases are cloned from (one per session)."""
    import psycopg

    name = f"{TEMPLATE_DB}_{uuid.uuid4().hex[:10]}"
    try:
        _admin_execute(f"CREATE DATABASE {name}")
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not running ({exc}); start it with scripts/services start")
    # Migrations running at once in one cluster clash on its shared roles ("tuple concurrently
    # updated"): one process at a time migrates.
    lock_path = ROOT / ".state" / "pgstac-migrate.lock"
    lock_path.parent.mkdir(exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run(
            [str(ROOT / ".venv/bin/pypgstac"), "migrate", "--dsn", _dsn(name)],
            check=True,
            capture_output=True,
        )
    yield name
    _admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pgstac_dsn(pgstac_template: str) -> Iterator[str]:
    """The DSN of a fresh, migrated, empty PgSTAC database for this test alone."""
    name = f"etl_test_{uuid.uuid4().hex[:12]}"
    _admin_execute(f"CREATE DATABASE {name} TEMPLATE {pgstac_template}")
    yield _dsn(name)
    _admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def azurite_connection_string() -> str:
    """Azurite's connection string; fails the session when Azurite is not running."""
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(AZURITE_CONNECTION_STRING)
    try:
        next(iter(service.list_containers(results_per_page=1)), None)
    except Exception as exc:
        pytest.fail(f"Azurite is not running ({exc}); start it with scripts/services start")
    return AZURITE_CONNECTION_STRING


@pytest.fixture
def azurite_container(azurite_connection_string: str) -> Iterator[str]:
    """The name of a new, empty Azurite container for this test alone (deleted afterwards)."""
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(azurite_connection_string)
    name = f"t{uuid.uuid4().hex[:20]}"
    service.create_container(name)
    yield name
    service.delete_container(name)


@pytest.fixture(scope="session")
def azurite_queue_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The port of Azurite's queue service: the one ``scripts/services start`` runs (on
    ``ETL_AZURITE_QUEUE_PORT``, default 10001), else one started here for this session on a free
    port (Azurite blob alone does not serve queues). Tests pass it to ``etl`` as
    ``ETL_AZURITE_QUEUE_PORT``, which the built-in ``local`` profile follows."""
    from azurite_queue import listens, private_queue_service

    from etl.core.profiles.local_services import azurite_queue_endpoint

    configured = urlsplit(azurite_queue_endpoint()).port or 0
    if listens(configured):
        yield configured
        return
    log = tmp_path_factory.mktemp("azurite-queue") / "azurite-queue.log"
    with private_queue_service(log) as service:  # RuntimeError: not installed, did not start
        yield service.port


@pytest.fixture
def azurite_queue(azurite_queue_port: int) -> Iterator[str]:
    """The name of a new, empty queue of Azurite's ``devstoreaccount1`` for this test alone (it and
    its ``-poison`` queue deleted afterwards); ``etl`` reaches it with
    ``ETL_AZURITE_QUEUE_PORT=azurite_queue_port``."""
    from azure.core.exceptions import ResourceNotFoundError
    from azurite_queue import queue_service_client

    service = queue_service_client(azurite_queue_port)
    name = f"t{uuid.uuid4().hex[:20]}"
    service.create_queue(name)
    yield name
    for queue in (name, f"{name}-poison"):
        with contextlib.suppress(ResourceNotFoundError):
            service.delete_queue(queue)


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ``ETL_CONFIG_DIR`` (and state dir) for this test; ETL_/ARGO_ variables cleared."""
    for key in list(os.environ):
        if key.startswith(("ETL_", "ARGO_")):
            monkeypatch.delenv(key)
    path = tmp_path / "config"
    path.mkdir()
    monkeypatch.setenv("ETL_CONFIG_DIR", str(path))
    monkeypatch.setenv("ETL_STATE_DIR", str(tmp_path / "state"))
    return path


@pytest.fixture
def env(config_dir: Path, pgstac_dsn: str) -> dict[str, str]:
    """The environment a user's ``etl`` runs with: this test's config folder and PgSTAC, CI mode."""
    return dict(os.environ, ETL_PGSTAC_DSN=pgstac_dsn, CI="true")
