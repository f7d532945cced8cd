"""The outbox (issue 26, item 3): an item event exists exactly when its change committed.

A load with ``events`` records one event per item it created or changed, per target, in the
batch's own transaction; an upsert of the same content records nothing; a batch PgSTAC refuses
records nothing; a removal records ``deleted`` events. Every recorded event passes the JSON schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from cloud_events import check_events
from pgstac_samples import make_collection, make_item, make_items

from etl.core.errors import EtlError
from etl.pgstac.item_events import EventTarget, ItemEventSpec
from etl.pgstac.item_sources import ensure_item_sources
from etl.pgstac.outbox import (
    claim_pending,
    ensure_outbox,
    mark_delivered,
    mark_failed,
    pending_summary,
)
from etl.pgstac.policy import LoadConcurrency
from etl.pgstac.removals import remove_items
from etl.pgstac.session import connect_pgstac
from etl.pgstac.writer import PgstacWriter

pytestmark = pytest.mark.postgres

COLLECTION = "outbox-test"
QUEUE = EventTarget("queue://devstoreaccount1/items")
HOOK = EventTarget("webhook:http://127.0.0.1:1/hook", include_item=True)
SPEC = ItemEventSpec("ds", "run-1", (QUEUE, HOOK))


@pytest.fixture
def writer(pgstac_dsn: str) -> Iterator[PgstacWriter]:
    with PgstacWriter(pgstac_dsn) as writer:
        writer.upsert_collection(make_collection(COLLECTION))
        with connect_pgstac(pgstac_dsn) as conn:
            ensure_outbox(conn)
        yield writer


def outbox(dsn: str, target: EventTarget) -> list[dict[str, Any]]:
    """The events waiting for ``target``, as it would get them."""
    with connect_pgstac(dsn) as conn, conn.transaction():
        rows = claim_pending(conn, [target.key], 100)
    return check_events([json.loads(e) for row in rows for e in row.events(target.include_item)])


def kinds(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(event["type"].rsplit(".", 1)[1], event["subject"]) for event in events]


def test_created_then_unchanged_then_updated_each_recorded_once(
    writer: PgstacWriter, pgstac_dsn: str
) -> None:
    writer.load_items(make_items(COLLECTION, 0, 3), COLLECTION, batch_size=2, events=SPEC)
    writer.load_items(make_items(COLLECTION, 0, 3), COLLECTION, events=SPEC)  # same content
    writer.load_items([make_item(COLLECTION, 1, title="new")], COLLECTION, events=SPEC)

    queued = outbox(pgstac_dsn, QUEUE)
    assert kinds(queued) == [
        ("created", "item-0000000"),
        ("created", "item-0000001"),
        ("created", "item-0000002"),
        ("updated", "item-0000001"),
    ]
    hooked = outbox(pgstac_dsn, HOOK)
    assert [e["id"] for e in hooked] == [e["id"] for e in queued]  # one id per change
    assert len({e["id"] for e in queued}) == 4
    assert "item" not in queued[0]["data"]
    assert hooked[3]["data"]["item"]["properties"]["title"] == "new 1"
    assert queued[0]["data"]["run_id"] == "run-1"
    assert queued[0]["source"] == f"/etl/datasets/ds/collections/{COLLECTION}"


def test_a_batch_pgstac_refuses_records_no_event(writer: PgstacWriter, pgstac_dsn: str) -> None:
    good = make_item(COLLECTION, 5)
    bad = make_item(COLLECTION, 6)
    bad["properties"] = {
        "start_datetime": "2024-02-01T00:00:00Z",
        "end_datetime": "2024-01-01T00:00:00Z",
    }
    with pytest.raises(EtlError):
        writer.load_items([good, bad], COLLECTION, events=SPEC)
    assert writer.count_items(COLLECTION) == 0
    assert outbox(pgstac_dsn, QUEUE) == []


def test_a_removal_records_deleted_events_for_items_it_deleted(
    writer: PgstacWriter, pgstac_dsn: str
) -> None:
    writer.load_items(make_items(COLLECTION, 0, 2), COLLECTION)  # no events asked
    with connect_pgstac(pgstac_dsn) as conn:
        ensure_item_sources(conn)
        removed = remove_items(
            conn, COLLECTION, ["item-0000000", "item-9"], concurrency=LoadConcurrency(), events=SPEC
        )
    assert removed == 1
    assert kinds(outbox(pgstac_dsn, HOOK)) == [("deleted", "item-0000000")]


def test_claimed_rows_are_skipped_by_another_deliverer_and_failures_summarised(
    writer: PgstacWriter, pgstac_dsn: str
) -> None:
    for start in range(3):  # three loads: three rows
        writer.load_items(make_items(COLLECTION, start, start + 1), COLLECTION, events=SPEC)
    with connect_pgstac(pgstac_dsn) as first, connect_pgstac(pgstac_dsn) as second:
        with first.transaction():
            claimed = claim_pending(first, [QUEUE.key], 2)
            with second.transaction():
                others = claim_pending(second, [QUEUE.key], 10)
                assert [row.seq for row in others] == [claimed[-1].seq + 1]
            mark_delivered(first, QUEUE.key, [row.seq for row in claimed])
        mark_failed(second, QUEUE.key, "http://x answered 503")
        mark_failed(second, QUEUE.key, "http://x answered 503")
        summary = {s.target: s for s in pending_summary(second)}
    assert (summary[QUEUE.key].events, summary[QUEUE.key].attempts) == (1, 2)
    assert summary[QUEUE.key].last_error == "http://x answered 503"
    assert (summary[HOOK.key].events, summary[HOOK.key].attempts) == (3, 0)
    assert kinds(outbox(pgstac_dsn, HOOK)) == [("created", f"item-000000{n}") for n in range(3)]
