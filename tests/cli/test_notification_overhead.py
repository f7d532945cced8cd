"""What a notified load adds to a load (issue 26, item 6: a notified run's cost).

A load batch with notification targets is one transaction of its items and its events (the
outbox row), holding the collection's load slot; its provenance (``etl.item_sources``) is written
after that commit, as a load without targets writes it: bookkeeping held up (here: an operator's
lock on the table) holds back neither the items nor their events, which reach the targets while
the provenance waits. What consumers receive is unchanged: the contract's fields, each event's id
stable per change.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest
from notified_dataset import Notified, changes

pytestmark = pytest.mark.postgres

CREATED = [("created", f"item-{n:05d}") for n in range(3)]
EVENT_FIELDS = ["specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data"]


def _count(dsn: str, query: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(query).fetchone()  # type: ignore[arg-type]
    return int(row[0]) if row else 0


def test_items_and_their_events_reach_the_targets_while_provenance_writes_wait(
    notified: Notified, pgstac_dsn: str
) -> None:
    first = notified.run()
    assert first.returncode == 0, first.stderr
    assert changes(notified.hook.events) == CREATED
    with psycopg.connect(pgstac_dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM pgstac.items")  # the docs' way of starting over
    first_ids = set(notified.hook.unique())

    finished: list[Any] = []
    with psycopg.connect(pgstac_dsn) as operator:
        operator.execute("LOCK TABLE etl.item_sources IN EXCLUSIVE MODE")  # writes wait
        running = threading.Thread(target=lambda: finished.append(notified.run()))
        running.start()
        try:
            deadline = time.monotonic() + 120
            while len(notified.hook.unique()) < 6 and time.monotonic() < deadline:
                time.sleep(0.2)
            again = [e for i, e in notified.hook.unique().items() if i not in first_ids]
            assert changes(again) == CREATED  # sent while the provenance rows could not be written
            assert _count(pgstac_dsn, "SELECT count(*) FROM pgstac.items") == 3
            assert not finished  # the run still waits on the lock
        finally:
            operator.rollback()  # the operator lets go
            running.join(600)

    assert finished[0].returncode == 0, finished[0].stderr
    assert _count(pgstac_dsn, "SELECT count(*) FROM etl.item_sources") == 3
    assert changes(notified.queued()) == sorted(CREATED * 2)  # each run's, its own ids
    assert _count(pgstac_dsn, "SELECT count(*) FROM etl.outbox") == 0


def test_consumers_get_the_contracts_events_each_id_stable_per_change(
    notified: Notified, pgstac_dsn: str
) -> None:
    run = notified.run()
    assert run.returncode == 0, run.stderr
    again = notified.run()  # the same items: no change, no event
    assert again.returncode == 0, again.stderr

    hooked = [e for e in notified.hook.events if e["type"].startswith("dev.etl.item.")]
    queued = [e for e in notified.queued() if e["type"].startswith("dev.etl.item.")]
    assert changes(hooked) == changes(queued) == CREATED
    assert len(hooked) == len(queued) == 3
    assert {e["id"] for e in hooked} == {e["id"] for e in queued}
    for event in hooked:
        assert list(event) == EVENT_FIELDS
        assert event["subject"] == event["data"]["item_id"]
        assert list(event["data"]) == ["collection", "item_id", "href", "run_id"]
