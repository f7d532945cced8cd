"""``etl-task consume-events``: a collection's storage events made items, one micro-batch at a time.

The pod receives its collection's queue in batches (:mod:`etl.task.event_batches`) and for each:

1. reads every message (:func:`~etl.core.queues.parse_event`). A message that is no event goes to
   ``NAME-poison`` at once; an event of a type the collection does not act on (``events.types``),
   or about a blob that is not its asset (:class:`~etl.dataset.event_assets.CollectionAssets`),
   is skipped. Of several events about one blob, the last received counts.
2. makes the items of the created blobs with the dataset's ``Collection.create_item``, the item
   maker of ``process-chunks`` (same asset storages, checks and hrefs). An asset the code refuses
   with a permanent error goes to ``NAME-poison`` at once; one that failed on a transient error
   stays in the queue (it reappears after the visibility timeout), unless this was its
   ``max_deliveries``-th delivery: then it goes to ``NAME-poison``.
3. loads every item of the batch with ONE :meth:`~etl.pgstac.PgstacWriter.load_items` (upserts;
   ``etl.item_sources`` rows written as ``process-chunks`` writes them), removes the items the
   deleted blobs made (``etl.item_sources``) as the collection's ``missing_items`` says
   (``remove``; ``report`` and ``keep`` only log and count), updates the collection's extent once,
   and adds the batch's counts to ``etl.event_counts``.
4. deletes the batch's messages (several at once), only now that their items are committed:
   at-least-once delivery, a redelivered message upserts the same items again.

A batch that fails on a transient error (PgSTAC restarting, the queue service pausing) deletes
nothing: the pod pauses (growing to 30 s) and goes on; its messages reappear after the visibility
timeout. The pod exits 0 once the queue has been empty ``--idle-exit`` seconds (1 if its last batch
or receive had failed), printing what it did; each batch's counts are an ``etl-progress`` line.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from etl.core.errors import EtlError, InputError, TaskError
from etl.core.pod_contract import CONSUME_EVENTS, NODE_ID_ENV, Flag
from etl.core.progress import progress_line
from etl.core.queues.clients import queue_client
from etl.core.queues.deletes import MessageDeleter
from etl.core.queues.event_types import EventKind
from etl.core.queues.events import NotAnEventError, parse_event
from etl.core.queues.handling import dead_letter
from etl.core.queues.uris import QueueLocation, parse_queue_uri
from etl.dataset.event_assets import CollectionAssets
from etl.dataset.model import CollectionConfig, EventsConfig, ExtentSource, MissingItems
from etl.dataset.run_results import AssetFailure
from etl.task.bundle_fetch import FetchedBundle, add_bundle_arguments, fetch_bundle
from etl.task.environment import TaskEnvironment
from etl.task.event_batches import Backoff, EventReceiver
from etl.task.item_maker import collection_item_maker, make_all
from etl.task.item_provenance import LoadLedger, preparing
from etl.task.notify_delivery import PodNotifications
from etl.task.process_chunks import LOAD_BATCH
from etl.task.stac_validation import item_validation

if TYPE_CHECKING:
    from azure.storage.queue import QueueMessage

    from etl.pgstac.item_sources import Connection

__all__ = ["EventTotals", "register", "run"]

WORKERS = 8
"""``create_item`` calls at once (threads), as ``process-chunks``' default."""
RECEIVED_AGAIN = "PopReceiptMismatch"
"""The queue's error code for a delete whose receipt is stale: the message's visibility timeout
passed and another receive took it (Azure answers 400, not 404, once it was received again)."""


@dataclass
class EventTotals:
    """What a consumer did: its summary line and its ``etl-progress`` counts."""

    events: int = 0
    loaded: int = 0
    removed: int = 0
    skipped: int = 0
    dead_lettered: int = 0

    def add(self, other: EventTotals) -> None:
        """Add ``other``'s counts to these."""
        for name in self.counts():
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def counts(self) -> dict[str, int]:
        """The counts by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def summary(self) -> str:
        """One line: events, items loaded, removed, skipped, dead-lettered."""
        return (
            f"{self.events} events: {self.loaded} items loaded, {self.removed} removed, "
            f"{self.skipped} skipped, {self.dead_lettered} dead-lettered"
        )


@dataclass
class _Blob:
    """The last event of one blob in a batch, and every message about it."""

    kind: EventKind
    messages: list[QueueMessage]


class Consumer:
    """Consumes one collection's queue."""

    def __init__(
        self,
        bundle: FetchedBundle,
        environment: TaskEnvironment,
        collection_id: str,
        log: Callable[[str], None],
    ) -> None:
        self.bundle = bundle
        self.environment = environment
        self.collection: CollectionConfig = bundle.collection(collection_id)
        if self.collection.events is None:
            raise InputError(
                f"collection {collection_id!r} declares no events (collections[].events.queue)"
            )
        self.events: EventsConfig = self.collection.events
        self.location: QueueLocation = parse_queue_uri(self.events.queue)
        profile = environment.profile
        self.queue = queue_client(self.location, profile)
        self.deleter = MessageDeleter(self.queue)
        self.poison = queue_client(self.location.poison, profile)
        self.assets = CollectionAssets(self.collection)
        validation = item_validation(self.collection.stac_validation)
        self.maker = collection_item_maker(bundle, environment, collection_id, validation)
        run_id = environment.env.get(NODE_ID_ENV, "stream")
        self.ledger = LoadLedger(collection_id, run_id, bundle.digest)
        self.notifications = PodNotifications.of(environment, bundle.dataset, collection_id, run_id)
        self.log = log
        self._collection_ready = False

    def consume(self, idle_exit: float) -> tuple[EventTotals, EtlError | None]:
        """Consume batches until the queue has been empty ``idle_exit`` seconds; the totals and
        the transient error of the last batch or receive, if it failed."""
        receiver = EventReceiver(
            self.queue,
            batch_size=self.events.batch_size,
            max_wait=self.events.max_wait,
            visibility_timeout=self.events.visibility_timeout,
            log=self.log,
        )
        totals = EventTotals()
        backoff = Backoff()
        failed: EtlError | None = None
        with ThreadPoolExecutor(WORKERS, thread_name_prefix="create-item") as pool:
            while (messages := receiver.next_batch(idle_exit)) is not None:
                try:
                    batch = self.handle(messages, pool)
                except EtlError as exc:
                    if not exc.transient:
                        raise
                    failed = exc
                    delay = backoff.pause()
                    self.log(
                        f"warning: a batch of {len(messages)} messages failed: {exc}; nothing "
                        f"deleted (they reappear after {self.events.visibility_timeout} s); "
                        f"trying again in {delay:.0f} s"
                    )
                    time.sleep(delay)
                    continue
                failed = None
                backoff.reset()
                totals.add(batch)
                print(progress_line(None, **batch.counts()), flush=True)
                self.log(f"batch: {batch.summary()}")
        return totals, failed or receiver.last_error

    def handle(self, messages: list[QueueMessage], pool: ThreadPoolExecutor) -> EventTotals:
        """One batch: items made, loaded, removed; its messages deleted once committed."""
        import psycopg

        from etl.pgstac.errors import database_error

        totals = EventTotals(events=len(messages))
        settled: list[QueueMessage] = []  # deleted once the batch has committed
        blobs: dict[str, _Blob] = {}
        for message in messages:
            try:
                event = parse_event(str(message.content), self.environment.profile)
            except NotAnEventError as exc:
                self._dead_letter(message, str(exc), totals)
                continue
            if (
                event.kind not in self.events.types
                or self.assets.storage_of(event.blob_uri) is None
            ):
                totals.skipped += 1
                settled.append(message)
                continue
            earlier = blobs.pop(event.blob_uri, None)  # re-inserted: the last event counts
            blobs[event.blob_uri] = _Blob(event.kind, [*(earlier.messages if earlier else [])])
            blobs[event.blob_uri].messages.append(message)
        created = [uri for uri, blob in blobs.items() if blob.kind is EventKind.CREATED]
        deleted = [uri for uri, blob in blobs.items() if blob.kind is EventKind.DELETED]
        items: list[dict[str, Any]] = []
        prepare = preparing(self.maker.make, None)  # rows formatted by the load
        for uri, outcome in zip(created, make_all(pool, prepare, created, WORKERS), strict=True):
            if isinstance(outcome, AssetFailure):
                self._failed(uri, blobs.pop(uri).messages, outcome, totals)
            else:
                made = [entry for entry, _line in outcome]
                self.ledger.take(made)
                items.extend(entry.item for entry in made)
        try:
            self._commit(items, deleted, totals)
        except psycopg.Error as exc:  # e.g. a dropped connection: PostgreSQL restarting
            raise database_error(exc, "writing the batch to PgSTAC") from exc
        for blob in blobs.values():
            settled.extend(blob.messages)
        self._delete(settled, pool)
        self.notifications.deliver(self.log)
        return totals

    def _commit(self, items: list[dict[str, Any]], deleted: list[str], totals: EventTotals) -> None:
        """Load ``items`` (one load), remove the items of the ``deleted`` blobs, update the
        extent and count the batch: every write of the batch, before any message is deleted."""
        from etl.pgstac.event_counts import ensure_event_counts, record_event_counts
        from etl.pgstac.extents import update_collection_extent
        from etl.pgstac.item_sources import ensure_item_sources
        from etl.pgstac.policy import LoadConcurrency
        from etl.pgstac.session import connect_pgstac
        from etl.pgstac.writer import PgstacWriter

        dsn = self.environment.pgstac_dsn()
        collection_id = self.collection.id
        with connect_pgstac(dsn) as conn:
            ensure_item_sources(conn)
            ensure_event_counts(conn)
            if items:
                self._ensure_collection()
                with PgstacWriter(dsn) as writer:
                    result = writer.load_items(
                        items,
                        collection_id,
                        batch_size=LOAD_BATCH,
                        sources=self.ledger.sources,
                        rows=self.ledger.rows,
                        events=self.notifications.spec,
                    )
                totals.loaded += result.items
            if deleted:
                totals.removed += self._remove(conn, deleted)
            if totals.loaded or totals.removed:
                update_collection_extent(
                    conn,
                    collection_id,
                    keep_template=self.collection.extent is ExtentSource.TEMPLATE,
                    concurrency=LoadConcurrency(),
                )
            record_event_counts(conn, collection_id, totals.counts())

    def _remove(self, conn: Connection, deleted: list[str]) -> int:
        """The items made from the ``deleted`` blobs, removed as ``missing_items`` says; how
        many were removed."""
        from etl.pgstac.item_sources import item_sources_of_assets
        from etl.pgstac.policy import LoadConcurrency
        from etl.pgstac.removals import remove_items

        rows = item_sources_of_assets(conn, self.collection.id, deleted)
        mode = self.collection.missing_items
        if mode is not MissingItems.REMOVE:
            for row in rows:
                self.log(
                    f"deleted: {row.asset}: its item {row.item_id} is kept (missing_items: "
                    f"{mode.value}; remove removes it)"
                )
            return 0
        ids = [row.item_id for row in rows]
        for row in rows:
            self.log(f"deleted: {row.asset}: its item {row.item_id} is removed")
        return remove_items(
            conn,
            self.collection.id,
            ids,
            concurrency=LoadConcurrency(),
            events=self.notifications.spec,
        )

    def _ensure_collection(self) -> None:
        """Create or update the collection in PgSTAC from its template, once per pod."""
        from etl.task.ingest import ingest_collection

        if not self._collection_ready:
            ingest_collection(self.bundle, self.collection.id, self.environment)
            self._collection_ready = True

    def _failed(
        self,
        uri: str,
        messages: list[QueueMessage],
        failure: AssetFailure,
        totals: EventTotals,
    ) -> None:
        """An asset whose ``create_item`` failed: its messages to ``NAME-poison`` when the error
        is permanent or this was their last delivery; otherwise left to reappear."""
        deliveries = max(int(m.dequeue_count or 0) for m in messages)
        if failure.transient and deliveries < self.events.max_deliveries:
            self.log(
                f"failed (delivery {deliveries} of {self.events.max_deliveries}, tried again "
                f"after {self.events.visibility_timeout} s): {uri}: {failure.error}"
            )
            return
        why = "" if not failure.transient else f" (delivery {deliveries}, the last)"
        for message in messages:
            self._dead_letter(message, f"{uri}: {failure.error}{why}", totals)

    def _dead_letter(self, message: QueueMessage, error: str, totals: EventTotals) -> None:
        dead_letter(self.poison, self.queue, message, error)
        totals.dead_lettered += 1
        self.log(f"dead-lettered to {self.location.poison.uri}: message {message.id}: {error}")

    def _delete(self, messages: list[QueueMessage], pool: ThreadPoolExecutor) -> None:
        """Delete the settled messages, :data:`WORKERS` at once (the queue service has no batch
        delete: one request each, and one after another they took longer than the batch's load);
        one whose receipt expired (it was received again) is left: its redelivery upserts the
        same items."""
        for _ in pool.map(self._delete_one, messages):
            pass

    def _delete_one(self, message: QueueMessage) -> None:
        from azure.core.exceptions import AzureError, ResourceNotFoundError

        from etl.core.queues.clients import queue_error

        try:
            self.deleter.delete_message(message)
        except AzureError as exc:
            gone = isinstance(exc, ResourceNotFoundError)
            if not gone and getattr(exc, "error_code", None) != RECEIVED_AGAIN:
                raise queue_error(exc, f"cannot delete message {message.id}") from None
            self.log(f"warning: message {message.id} was received again before it was deleted")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``consume-events`` subcommand."""
    parser = subparsers.add_parser(
        CONSUME_EVENTS.name,
        help="make items from a collection's storage events, in micro-batches, until idle",
        description="Receive the collection's queue (events.queue) in batches of "
        "events.batch_size, load each batch's items into PgSTAC at once, remove the items of "
        "deleted assets, delete the messages once committed; exit once the queue has been "
        "empty IDLE_EXIT seconds.",
    )
    add_bundle_arguments(parser)
    parser.add_argument(
        Flag.IDLE_EXIT,
        type=float,
        default=60.0,
        help="exit once the queue has been empty this many seconds (default 60)",
    )
    parser.set_defaults(subcommand=sys.modules[__name__])


def run(args: argparse.Namespace) -> int:
    """Consume until idle; print the totals. Exit 1 when the last batch failed transiently."""
    if args.idle_exit <= 0:
        raise InputError(f"{Flag.IDLE_EXIT} {args.idle_exit}: give a number of seconds above 0")
    environment = TaskEnvironment()
    bundle = fetch_bundle(args.dataset, environment)
    consumer = Consumer(
        bundle,
        environment,
        args.collection,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    totals, failed = consumer.consume(args.idle_exit)
    print(f"consume-events {args.collection}: {totals.summary()}", flush=True)
    if failed is not None:
        raise TaskError(f"the queue went idle after a failure: {failed}", transient=True)
    return 0
