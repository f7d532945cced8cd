"""etl.pgstac.slots: concurrent loaders are bounded per collection, across sessions."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from pgstac_samples import item_id, make_collection, make_items

from etl.core.pod_contract import LoadMethod
from etl.pgstac.errors import LoadSlotTimeoutError
from etl.pgstac.load import LoadResult
from etl.pgstac.policy import LoadConcurrency, LockScope
from etl.pgstac.session import connect_pgstac
from etl.pgstac.slots import acquire_load_slot, busy_load_slots, release_load_slot
from etl.pgstac.writer import PgstacWriter

pytestmark = pytest.mark.postgres


class _SlotWatcher:
    """Samples how many load slots are held, from its own connection, until stopped."""

    def __init__(self, dsn: str, collection_id: str, concurrency: LoadConcurrency) -> None:
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._args = (dsn, collection_id, concurrency)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        dsn, collection_id, concurrency = self._args
        with psycopg.connect(dsn, autocommit=True) as conn:
            while not self._stop.wait(0.005):
                self.samples.append(busy_load_slots(conn, collection_id, concurrency))

    def __enter__(self) -> _SlotWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def _load_concurrently(
    writer: PgstacWriter, loads: list[tuple[int, int, LoadMethod]], collection_id: str = "c"
) -> list[LoadResult]:
    with ThreadPoolExecutor(max_workers=len(loads)) as pool:
        futures = [
            pool.submit(
                writer.load_items,
                make_items(collection_id, start, stop, months=3),
                collection_id,
                method=method,
                batch_size=250,
            )
            for start, stop, method in loads
        ]
        return [future.result(timeout=120) for future in futures]


def _busy_now(dsn: str, concurrency: LoadConcurrency) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return busy_load_slots(conn, "c", concurrency)


# Loader 0 and 1 overlap on 1000-1999, 1 and 2 on 2000-2499; loader 3 is disjoint.
LOADS = [
    (0, 2000, LoadMethod.UPSERT),
    (1000, 2500, LoadMethod.IGNORE),
    (2000, 3500, LoadMethod.UPSERT),
    (5000, 6000, LoadMethod.UPSERT),
]
EXPECTED = sorted({item_id(n) for start, stop, _ in LOADS for n in range(start, stop)})


@pytest.mark.parametrize("slots", [1, 2])
def test_four_concurrent_loaders_finish_without_loss_or_duplicates(
    pgstac_dsn: str, slots: int
) -> None:
    concurrency = LoadConcurrency(slots=slots, poll_interval=0.02)
    with PgstacWriter(pgstac_dsn, concurrency=concurrency) as writer:
        writer.upsert_collection(make_collection("c"), partition_trunc="month")
        with _SlotWatcher(pgstac_dsn, "c", concurrency) as watcher:
            results = _load_concurrently(writer, LOADS)
        assert [r.items for r in results] == [2000, 1500, 1500, 1000]
        assert writer.item_ids("c") == EXPECTED
    assert max(watcher.samples) == slots
    assert _busy_now(pgstac_dsn, concurrency) == 0


def test_a_slot_held_by_another_session_makes_a_load_wait_then_time_out(pgstac_dsn: str) -> None:
    concurrency = LoadConcurrency(slots=1, wait_timeout=0.3, poll_interval=0.05)
    with PgstacWriter(pgstac_dsn, concurrency=concurrency) as writer:
        writer.upsert_collection(make_collection("c"))
        with connect_pgstac(pgstac_dsn) as other_pod:
            assert acquire_load_slot(other_pod, "c", concurrency) == 0
            with pytest.raises(LoadSlotTimeoutError) as caught:
                writer.load_items(make_items("c", 0, 10), "c")
            assert str(caught.value).startswith(
                "no PgSTAC load slot for 'etl.pgstac:c' became free within 0s (1 slot(s)"
            )
            assert writer.count_items("c") == 0
        result = writer.load_items(make_items("c", 0, 10), "c")
        assert result.items == 10


def test_a_waiting_loader_gets_the_slot_as_soon_as_it_is_let_go(pgstac_dsn: str) -> None:
    concurrency = LoadConcurrency(slots=1, wait_timeout=30.0, poll_interval=10.0)
    with connect_pgstac(pgstac_dsn) as holder, connect_pgstac(pgstac_dsn) as waiter:
        assert acquire_load_slot(holder, "c", concurrency) == 0
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(acquire_load_slot, waiter, "c", concurrency)
            time.sleep(0.3)
            assert not waiting.done()
            release_load_slot(holder, "c", concurrency, 0)
            released = time.monotonic()
            assert waiting.result(timeout=5) == 0
            assert time.monotonic() - released < 2.0  # not after the 10 s poll interval
        assert _busy_now(pgstac_dsn, concurrency) == 1
        assert holder.execute("SHOW lock_timeout").fetchone() == ("0",)
        assert waiter.execute("SHOW lock_timeout").fetchone() == ("0",)


def test_a_load_takes_the_next_free_slot(pgstac_dsn: str) -> None:
    concurrency = LoadConcurrency(slots=2, wait_timeout=1.0)
    with PgstacWriter(pgstac_dsn, concurrency=concurrency) as writer:
        writer.upsert_collection(make_collection("c"))
        with connect_pgstac(pgstac_dsn) as other_pod:
            assert acquire_load_slot(other_pod, "c", concurrency) == 0
            assert writer.load_items(make_items("c", 0, 10), "c").items == 10


def test_scope_decides_whether_other_collections_share_the_slots(pgstac_dsn: str) -> None:
    per_collection = LoadConcurrency(slots=1, wait_timeout=0.2, poll_interval=0.05)
    per_database = LoadConcurrency(
        slots=1, scope=LockScope.DATABASE, wait_timeout=0.2, poll_interval=0.05
    )
    with PgstacWriter(pgstac_dsn, concurrency=per_collection) as writer:
        writer.upsert_collection(make_collection("a"))
        writer.upsert_collection(make_collection("b"))
        with connect_pgstac(pgstac_dsn) as other_pod:
            acquire_load_slot(other_pod, "a", per_collection)
            acquire_load_slot(other_pod, "a", per_database)
            assert writer.load_items(make_items("b", 0, 5), "b").items == 5
            writer.concurrency = per_database
            with pytest.raises(LoadSlotTimeoutError, match=r"'etl\.pgstac:\*'"):
                writer.load_items(make_items("b", 5, 10), "b")
        assert writer.count_items("b") == 5
