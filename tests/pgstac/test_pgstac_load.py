"""etl.pgstac.load: a dropped connection mid-load is retried per batch; nothing lost or doubled."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest
from pgstac_samples import item_id, make_collection, make_items

from etl.core.errors import RemoteError
from etl.core.pod_contract import LoadMethod
from etl.pgstac.load import BatchReport
from etl.pgstac.policy import LoadRetryPolicy
from etl.pgstac.writer import PgstacWriter

pytestmark = pytest.mark.postgres

FAST_RETRY = LoadRetryPolicy(attempts=6, first_delay=0.05, max_delay=0.4)


@pytest.fixture
def writer(pgstac_dsn: str) -> Iterator[PgstacWriter]:
    with PgstacWriter(pgstac_dsn, retry=FAST_RETRY) as writer:
        writer.upsert_collection(make_collection("c"), partition_trunc="month")
        yield writer


def _admin(dsn: str, sql: str, params: tuple[object, ...] = ()) -> None:
    """Run ``sql`` from the server's postgres database, as another pod's admin would."""
    admin = dsn.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql, params)  # type: ignore[arg-type]


def _terminate(dsn: str, pid: int) -> None:
    _admin(dsn, "SELECT pg_terminate_backend(%s)", (pid,))


@pytest.mark.parametrize("method", [LoadMethod.UPSERT, LoadMethod.INSERT, LoadMethod.IGNORE])
def test_killed_connections_between_batches_lose_and_double_nothing(
    writer: PgstacWriter, method: LoadMethod
) -> None:
    pids: list[int] = []

    def kill_after_batches_1_and_3(report: BatchReport) -> None:
        pids.append(report.backend_pid)
        if report.index in (1, 3):
            _terminate(writer.dsn, report.backend_pid)

    result = writer.load_items(
        make_items("c", 0, 1000, months=2),
        "c",
        method=method,
        batch_size=200,
        on_batch=kill_after_batches_1_and_3,
    )
    assert (result.items, result.batches) == (1000, 5)
    assert result.retries == 2
    assert len(set(pids)) == 3  # a new session after each kill
    assert writer.item_ids("c") == [item_id(n) for n in range(1000)]


def test_a_connection_killed_inside_a_batch_is_resent(writer: PgstacWriter) -> None:
    """Kill the loader while pypgstac is inside batch 2, between two of its partitions."""
    dsn = writer.dsn
    state: dict[str, int] = {}
    killed = threading.Event()

    def remember_pid(report: BatchReport) -> None:
        state["pid"] = report.backend_pid

    def kill_while_loading() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            while not killed.is_set():
                pid = state.get("pid")
                active = (
                    pid
                    and conn.execute(
                        "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND state = 'active'"
                        " AND query ILIKE '%%items%%'",
                        (pid,),
                    ).fetchone()
                )
                if active:
                    conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
                    killed.set()

    killer = threading.Thread(target=kill_while_loading, daemon=True)
    killer.start()
    try:
        result = writer.load_items(
            make_items("c", 0, 6000, months=3), "c", batch_size=2000, on_batch=remember_pid
        )
    finally:
        killed.set()
        killer.join(timeout=10)
    assert result.retries >= 1
    assert writer.item_ids("c") == [item_id(n) for n in range(6000)]


def test_an_outage_shorter_than_the_retries_is_ridden_out(writer: PgstacWriter) -> None:
    database = writer.dsn.rsplit("/", 1)[1]

    def go_down_for_a_while(report: BatchReport) -> None:
        if report.index == 0:
            _admin(writer.dsn, f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
            _terminate(writer.dsn, report.backend_pid)
            threading.Timer(
                0.5, _admin, (writer.dsn, f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
            ).start()

    result = writer.load_items(
        make_items("c", 0, 300), "c", batch_size=100, on_batch=go_down_for_a_while
    )
    assert result.retries >= 2
    assert writer.item_ids("c") == [item_id(n) for n in range(300)]


def test_an_outage_longer_than_the_retries_fails_and_keeps_earlier_batches(
    writer: PgstacWriter,
) -> None:
    database = writer.dsn.rsplit("/", 1)[1]
    writer.retry = LoadRetryPolicy(attempts=3, first_delay=0.01, max_delay=0.02)

    def go_down(report: BatchReport) -> None:
        if report.index == 1:
            _admin(writer.dsn, f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
            _terminate(writer.dsn, report.backend_pid)

    try:
        with pytest.raises(RemoteError) as caught:
            writer.load_items(make_items("c", 0, 500), "c", batch_size=100, on_batch=go_down)
    finally:
        _admin(writer.dsn, f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
    assert "for collection 'c' failed after 3 attempt(s)" in str(caught.value)
    assert caught.value.exit_code == 1
    assert writer.item_ids("c") == [item_id(n) for n in range(200)]
