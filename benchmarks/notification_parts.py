"""Benchmark: each part of what item events add to a load, timed on its own (issue 26, item 6).

In this one process, over N items (``tests/support/pgstac_samples``' items) in a fresh migrated
database, 5,000 a batch as ``process-chunks`` loads them:

- the events' JSON (what a notified load makes a batch, before its outbox row);
- the version reads (``item_versions``, two a batch): of ids the collection does not have yet
  (before a first load) and of ids it has (after); and the read after a batch copied in as new
  items (``copied_versions``, two probes a partition), which is all a fresh load reads;
- the events' JSON, made before a load takes its load slot (``prepare_load_events``), and what
  the load does with them in the slot: each id joined to its text, and the outbox row (one a
  batch; ``record_load_events``);
- delivery of the N events from the outbox to an Azurite queue, to a webhook receiver (a thread
  of this process that checks each request's HMAC signature), and to both at once, as a pod does;
  then to the queue again with ``compress: true`` (base64 of each message's gzip).

Each part: wall seconds, CPU seconds of this process (the receiver's thread included), and of
PostgreSQL's and the Azurite queue's processes (other work on them counts too), and the CPU per
item. ``benchmarks/notifications.py`` times whole runs.

    uv run python benchmarks/notification_parts.py --items 20000
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ingest import Databases, make_collection
from notifications import ACCOUNT, SECRET, queued_events, receiver, service_cpu
from pgstac_samples import make_items

from etl.core.notifications.targets import NotificationTarget
from etl.core.profiles.model import Profile
from etl.core.queues.clients import queue_client
from etl.core.queues.uris import parse_queue_uri
from etl.core.templating.secret_refs import SecretLookup
from etl.pgstac.item_events import (
    EventTarget,
    ItemEventSpec,
    copied_versions,
    item_versions,
    prepare_load_events,
    record_load_events,
)
from etl.pgstac.outbox import Connection, ensure_outbox
from etl.pgstac.session import connect_pgstac
from etl.pgstac.writer import PgstacWriter
from etl.task.notify_delivery import deliver_pending

COLLECTION = "bench-parts"
BATCH = 5_000


class _Secrets(SecretLookup):
    """The webhook's secret, as a pod's environment gives it."""

    def get(self, name: str) -> str:
        return SECRET


@contextmanager
def part(name: str, items: int) -> Iterator[None]:
    """Time the block: wall, this process's CPU, PostgreSQL's and the queue service's."""
    wall, cpu = time.perf_counter(), time.process_time()
    postgres, queue = service_cpu("postgres"), service_cpu("node", "azurite-queue")
    yield
    cpu = time.process_time() - cpu
    postgres = service_cpu("postgres") - postgres
    queue = service_cpu("node", "azurite-queue") - queue
    print(
        f"{name:44s} {time.perf_counter() - wall:6.2f} s wall, CPU {cpu:5.2f} s here "
        f"({cpu / items * 1e6:4.0f} us an item), PostgreSQL {postgres:5.2f} s, "
        f"Azurite queue {queue:5.2f} s",
        flush=True,
    )


def batches(items: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def record_all(conn: Connection, spec: ItemEventSpec, items: list[dict[str, Any]]) -> None:
    """Every item's ``created`` event, one outbox row a batch, committed."""
    created = {item["id"]: "1" for item in items}
    with conn.transaction():
        for batch in batches(items):
            made = prepare_load_events(spec, COLLECTION, batch)
            record_load_events(conn, made, before={}, after=created)


def recording_parts(
    conn: Connection, writer: PgstacWriter, spec: ItemEventSpec, items: list[dict[str, Any]]
) -> None:
    """The parts of recording the items' events: the version reads (before and after the items
    are loaded, and after a copy), the events' JSON made before the load slot, and what is done
    in it: each id joined to its text, the outbox rows (committed: the first deliveries send
    them)."""
    n, ids = len(items), [item["id"] for item in items]
    with part("version reads of ids not in PgSTAC yet", n):
        for start in range(0, n, BATCH):
            item_versions(conn, COLLECTION, ids[start : start + BATCH])
    writer.load_items(iter(items), COLLECTION, batch_size=BATCH)
    with part("version reads of ids in PgSTAC", n):
        for start in range(0, n, BATCH):
            item_versions(conn, COLLECTION, ids[start : start + BATCH])
    with part("versions after a copy (copied_versions)", n):
        for start in range(0, n, BATCH):
            copied_versions(conn, COLLECTION, {"partition": ids[start : start + BATCH]})
    with part("events' JSON, made before the slot", n):
        prepared = [prepare_load_events(spec, COLLECTION, b) for b in batches(items)]
    versions = item_versions(conn, COLLECTION, ids)
    with part("in the slot: ids joined, outbox rows", n), conn.transaction():
        for load_events in prepared:
            record_load_events(conn, load_events, before={}, after=versions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument(
        "--queue-prefix", default="bench", help="the start of the Azurite queue's name"
    )
    parser.add_argument("--admin-dsn", default="postgresql://postgres@127.0.0.1:55432/postgres")
    args = parser.parse_args()
    n = args.items
    profile = Profile.builtin_local()
    queue = f"queue://{ACCOUNT}/{args.queue_prefix}-{uuid.uuid4().hex[:12]}"
    client = queue_client(parse_queue_uri(queue), profile)
    client.create_queue()
    databases = Databases(args.admin_dsn)
    items = list(make_items(COLLECTION, 0, n))
    try:
        with receiver() as (hook, url):
            queue_target = NotificationTarget.model_validate({"queue": queue})
            compressed = NotificationTarget.model_validate({"queue": queue, "compress": True})
            hook_target = NotificationTarget.model_validate(
                {"webhook": url, "secret": "$<< secrets.BENCH_HOOK >>"}
            )
            spec = ItemEventSpec(
                "bench",
                "bench-process-items-x7k2p",
                (EventTarget(queue_target.key), EventTarget(hook_target.key)),
            )
            dsn = databases.fresh()
            with PgstacWriter(dsn) as writer, connect_pgstac(dsn) as conn:
                writer.upsert_collection(make_collection(COLLECTION))
                ensure_outbox(conn)
                recording_parts(conn, writer, spec, items)
                deliveries: list[tuple[str, list[NotificationTarget], Callable[[], None]]] = [
                    ("delivery to the queue", [queue_target], lambda: None),
                    ("delivery to the webhook", [hook_target], lambda: None),
                    ("delivery to both at once", [queue_target, hook_target],
                     lambda: record_all(conn, spec, items)),
                    ("delivery to the queue, compress: true", [compressed],
                     lambda: record_all(conn, spec, items)),
                ]  # fmt: skip
                for name, targets, before in deliveries:
                    before()
                    with part(name, n):
                        deliver_pending(dsn, targets, profile, _Secrets(), log=print)
            sent, _ = queued_events(queue)
            assert sent == 3 * n and hook.events == 2 * n, "not all delivered"
    finally:
        databases.drop_all()
        client.delete_queue()


if __name__ == "__main__":
    main()
