"""``etl-task process-chunks``: turn a batch of chunk files into items in PgSTAC.

For every chunk ``j`` of the batch (``j % batch_count == batch_index``) that is not done yet: read
its asset URIs, call the dataset's ``Collection.create_item`` for each (concurrently, on threads or,
CPU-bound in a pod with a CPU quota, in processes: ``item_making``),
make their ``blob://`` hrefs URLs (unless the dataset says ``blob_hrefs: blob``), check the items
and write them as ndjson beside the chunks; the pod loads them into PgSTAC in
large batches while it makes the next ones (``chunk_pipeline``), and writes a chunk's result
record once its items are committed. An asset whose ``create_item`` raises does not lose the chunk: the other
items are written and loaded, the failure is recorded, and the task fails at the end unless the
collection's ``max_failure_ratio`` allows it, so Argo's retry (or ``etl workflow retry``) re-runs
only the chunks that are not done. The failure is transient (the pod is retried) when an asset
failed on a transient error, e.g. a storage read that timed out.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from etl.core.counts import counted
from etl.core.errors import TaskError
from etl.core.pod_contract import PROCESS_CHUNKS, Flag, LoadMethod
from etl.core.progress import progress_line
from etl.core.run_options import PROCESS_CHUNKS_OPTIONS, add_pod_arguments
from etl.core.storage.base import Storage
from etl.dataset.chunking.chunk_files import read_chunk_uris
from etl.dataset.chunking.manifest import read_manifest
from etl.dataset.layout import RunLayout
from etl.dataset.run_results import ChunkResult, read_chunk_result, write_chunk_result
from etl.pgstac.item_events import ItemEventSpec
from etl.task.bundle_fetch import FetchedBundle, add_bundle_arguments, fetch_bundle
from etl.task.chunk_pipeline import ChunkInput, MadeChunk, load_chunks
from etl.task.environment import TaskEnvironment
from etl.task.item_maker import collection_item_maker
from etl.task.item_making import choose_making
from etl.task.item_provenance import LoadLedger, preparing
from etl.task.notify_delivery import PodNotifications
from etl.task.stac_validation import ItemValidation, item_validation

__all__ = ["LOAD_BATCH", "BatchTotals", "ProcessOptions", "process_batch", "register", "run"]


LOAD_BATCH = 5_000
"""Items per PgSTAC batch while items are being made: half the writer's default, because the pod's
last batch is loaded after its last item is made, with nothing left to overlap it (measured with
``benchmarks/ingest.py``)."""

_LOGGED_FAILURES = 10
"""Failed assets a chunk names in the pod's log; all of them are in the run's ``errors/``."""


@dataclass(frozen=True)
class ProcessOptions:
    """How a batch is processed."""

    method: str = LoadMethod.UPSERT.value
    workers: int = 8
    max_failure_ratio: float = 0.0
    validation: ItemValidation | None = None
    events: ItemEventSpec | None = None
    """Record the item events of every batch loaded (the collection's notifications)."""


@dataclass
class BatchTotals:
    """Counts over a whole batch."""

    chunks: int = 0
    skipped: int = 0
    assets: int = 0
    items: int = 0
    failed_assets: int = 0
    transient_failures: int = 0


def process_batch(
    bundle: FetchedBundle,
    environment: TaskEnvironment,
    *,
    collection_id: str,
    run_id: str,
    batch_index: int,
    batch_count: int,
    options: ProcessOptions,
    log: Callable[[str], None],
) -> BatchTotals:
    """Process every chunk of one batch; raise :class:`TaskError` if too many assets failed."""
    from etl.pgstac.item_sources import ensure_item_sources
    from etl.pgstac.session import connect_pgstac
    from etl.pgstac.writer import PgstacWriter

    collection = bundle.collection(collection_id)
    chunk_storage = environment.chunk_storage(collection)
    layout = RunLayout(run_id)
    manifest = read_manifest(chunk_storage, layout)
    if manifest is None:
        raise TaskError(
            f"no chunk set at {chunk_storage.uri_of(layout.chunks_prefix)}: run create-chunks first"
        )
    maker = collection_item_maker(bundle, environment, collection_id, options.validation)
    # from now on, a chunk of the run without a result once the run ended is a failure
    chunk_storage.write_text(layout.processing_path, json.dumps({"digest": manifest.digest}))
    totals = BatchTotals()
    todo = []
    for index in RunLayout.chunks_of_batch(batch_index, batch_count, manifest.chunk_count):
        previous = read_chunk_result(chunk_storage, layout, index)
        if previous is not None and previous.done:
            totals.skipped += 1
            log(f"chunk {index:05d}: done in an earlier run ({previous.items} items), skipped")
        else:
            todo.append(index)

    def done(chunk: MadeChunk) -> None:
        seconds = time.perf_counter() - chunk.started
        items, failed = len(chunk.items), len(chunk.failures)
        result = ChunkResult(
            chunk.index, chunk.assets, items, failed, round(seconds, 3), not failed
        )
        write_chunk_result(chunk_storage, layout, result, chunk.failures)
        totals.chunks += 1
        totals.assets += chunk.assets
        totals.items += items
        totals.failed_assets += failed
        totals.transient_failures += sum(failure.transient for failure in chunk.failures)
        log(
            f"chunk {chunk.index:05d}: {counted(chunk.assets, 'asset')}, {counted(items, 'item')}, "
            f"{failed} failed; "
            f"loaded ({options.method}) {seconds:.2f} s after it was started"
        )
        for failure in chunk.failures[:_LOGGED_FAILURES]:
            log(f"chunk {chunk.index:05d}: failed: {failure.asset}: {failure.error}")
        if failed > _LOGGED_FAILURES:
            log(f"chunk {chunk.index:05d}: {failed - _LOGGED_FAILURES} more failed assets")
        unit = f"chunk {chunk.index:05d}"
        counts = {"assets": chunk.assets, "chunks": 1, "items": items, "failed": failed}
        print(progress_line(unit, **counts), flush=True)

    ledger = LoadLedger(collection_id, run_id, bundle.digest)
    with connect_pgstac(environment.pgstac_dsn()) as conn:
        ensure_item_sources(conn)
    with PgstacWriter(environment.pgstac_dsn()) as writer:
        row_of = writer.row_formatter(collection_id)

        def load(items: Iterator[dict[str, Any]], committed: Callable[[int], None]) -> None:
            writer.load_items(
                items,
                collection_id,
                method=options.method,
                batch_size=LOAD_BATCH,
                on_batch=lambda b: committed(b.loaded),
                sources=ledger.sources,
                rows=ledger.rows,
                events=options.events,
            )

        prepare = preparing(maker.make, row_of)
        making = choose_making(
            prepare,
            lambda: (
                read_chunk_uris(
                    chunk_storage, manifest, todo[0], asset_storages=maker.asset_storages
                )
                if todo
                else []
            ),
            options.workers,
        )
        log(making.describe())
        source = ChunkInput(chunk_storage, manifest, maker.asset_storages, prepare, making)
        load_chunks(source, todo, load, done, backlog=2 * LOAD_BATCH, taken=ledger.take)
    _check_failures(totals, options, chunk_storage, layout)
    return totals


def _check_failures(
    totals: BatchTotals, options: ProcessOptions, storage: Storage, layout: RunLayout
) -> None:
    if not totals.failed_assets:
        return
    ratio = totals.failed_assets / max(1, totals.assets)
    where = storage.uri_of(layout.errors_prefix)
    if ratio > options.max_failure_ratio:
        transient = totals.transient_failures
        retry = (
            f", {transient} of them on an error a retry may cure (a timeout, a service not "
            "answering): the batch is retried"
            if transient
            else ""
        )
        raise TaskError(
            f"{totals.failed_assets} of {totals.assets} assets failed ({ratio:.1%}, allowed "
            f"{options.max_failure_ratio:.1%}){retry}; the failures are listed in {where}",
            transient=bool(transient),
        )
    print(
        f"warning: {totals.failed_assets} of {totals.assets} assets failed ({ratio:.1%}), within the "
        f"allowed {options.max_failure_ratio:.1%}; see {where}",
        file=sys.stderr,
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``process-chunks`` subcommand."""
    parser = subparsers.add_parser(
        PROCESS_CHUNKS.name,
        help="make items from a batch of chunk files and load them into PgSTAC",
        description="For each chunk j with j %% BATCH_COUNT == BATCH_INDEX that is not done yet: "
        "create items, write them as ndjson beside the chunks, load them into PgSTAC.",
    )
    add_bundle_arguments(parser)
    parser.add_argument(Flag.RUN_ID, required=True, help="the run (workflow) name")
    parser.add_argument(Flag.BATCH_INDEX, type=int, default=0, help="this pod's batch (default 0)")
    parser.add_argument(Flag.BATCH_COUNT, type=int, default=1, help="number of batches (default 1)")
    parser.add_argument(
        Flag.METHOD,
        choices=[method.value for method in LoadMethod],
        default=LoadMethod.UPSERT.value,
        help="PgSTAC load method",
    )
    parser.add_argument(
        Flag.WORKERS, type=int, default=8, help="create_item calls at once (threads)"
    )
    add_pod_arguments(parser, PROCESS_CHUNKS_OPTIONS)
    parser.set_defaults(subcommand=sys.modules[__name__])


def _log_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Process the batch and send its item events; exit 1 if more assets failed than the
    collection allows."""
    environment = TaskEnvironment()
    bundle = fetch_bundle(args.dataset, environment)
    collection = bundle.collection(args.collection)
    notifications = PodNotifications.of(environment, bundle.dataset, collection.id, args.run_id)
    options = ProcessOptions(
        method=args.method,
        workers=args.workers,
        max_failure_ratio=collection.max_failure_ratio,
        validation=item_validation(
            collection.stac_validation,
            args.stac_validation,
        ),
        events=notifications.spec,
    )
    log = _log_line
    with notifications.delivering(log):  # sent while loading, the rest even when the task fails
        totals = process_batch(
            bundle,
            environment,
            collection_id=args.collection,
            run_id=args.run_id,
            batch_index=args.batch_index,
            batch_count=args.batch_count,
            options=options,
            log=log,
        )
    print(
        f"batch {args.batch_index}/{args.batch_count}: {counted(totals.chunks, 'chunk')} "
        f"processed, {totals.skipped} already done, {counted(totals.items, 'item')}, "
        f"{counted(totals.failed_assets, 'failed asset')}"
    )
    return 0
