"""The pipeline inside one ``process-chunks`` pod: make items ahead, load them in big batches.

A producer thread works through the pod's chunks: it calls ``create_item`` for every asset (on a
thread pool), writes the chunk's items as ndjson beside the chunks, and queues them, at most a few
chunks ahead (memory stays bounded). The pod's thread feeds everything queued into one PgSTAC
load, so items are made while earlier ones load, over one connection, in large batches
(``process_chunks.LOAD_BATCH``). A chunk is done (its result record written) once the batch
holding its last item has committed.
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from etl.core.storage import Storage
from etl.dataset.layout import RunLayout
from etl.task.chunk_results import AssetFailure

__all__ = ["ChunkSource", "MadeChunk", "load_chunks"]

AHEAD = 3
"""Chunks the producer may make before the loader has taken them."""

SLICES_PER_WORKER = 4
"""A chunk's assets are cut into this many slices per worker thread (for load balance)."""

MakeItems = Callable[[str], "list[dict[str, Any]] | AssetFailure"]


@dataclass
class MadeChunk:
    """One chunk's items (already written as ndjson) and failures, waiting to be loaded."""

    index: int
    assets: int
    items: list[dict[str, Any]]
    failures: list[AssetFailure]
    started: float = field(default_factory=time.perf_counter)


@dataclass(frozen=True)
class ChunkSource:
    """Where the pod's chunks are and how their items are made."""

    storage: Storage
    layout: RunLayout
    make: MakeItems
    workers: int


def load_chunks(
    source: ChunkSource,
    chunks: list[int],
    load: Callable[[Iterator[dict[str, Any]], Callable[[int], None]], None],
    on_done: Callable[[MadeChunk], None],
) -> None:
    """Make and load ``chunks``; call ``on_done`` for each once its items are committed.

    Args:
        source: The chunks' storage and the item maker.
        chunks: The chunk indices to process, in order.
        load: Loads the items it is given; calls its second argument with the number of items
            committed so far after each committed batch.
        on_done: Told about each chunk whose items are all committed, in order.
    """
    made: queue.Queue[MadeChunk | BaseException | None] = queue.Queue(maxsize=AHEAD)
    stop = threading.Event()
    producer = threading.Thread(target=_produce, args=(source, chunks, made, stop), daemon=True)
    waiting: deque[tuple[MadeChunk, int]] = deque()

    def committed(count: int) -> None:
        while waiting and waiting[0][1] <= count:
            on_done(waiting.popleft()[0])

    def items() -> Iterator[dict[str, Any]]:
        position = 0
        while (chunk := made.get()) is not None:
            if isinstance(chunk, BaseException):
                raise chunk
            position += len(chunk.items)
            waiting.append((chunk, position))
            yield from chunk.items

    producer.start()
    try:
        load(items(), committed)
        while waiting:
            on_done(waiting.popleft()[0])
    finally:
        stop.set()
        while producer.is_alive():
            with contextlib.suppress(queue.Empty):
                made.get(timeout=0.1)


def _produce(
    source: ChunkSource,
    chunks: list[int],
    made: queue.Queue[MadeChunk | BaseException | None],
    stop: threading.Event,
) -> None:
    def put(value: MadeChunk | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                made.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    try:
        with ThreadPoolExecutor(source.workers, thread_name_prefix="create-item") as pool:
            for index in chunks:
                started = time.perf_counter()
                text = source.storage.read_text(source.layout.chunk_path(index))
                uris = [uri for uri in text.splitlines() if uri]
                items, failures = _collect(_make_all(pool, source.make, uris, source.workers))
                source.storage.write_bytes(source.layout.items_path(index), _ndjson(items))
                if not put(MadeChunk(index, len(uris), items, failures, started)):
                    return
        put(None)
    except BaseException as exc:
        put(exc)


def _make_all(
    pool: ThreadPoolExecutor, make: MakeItems, uris: list[str], workers: int
) -> Iterator[list[dict[str, Any]] | AssetFailure]:
    """``make`` for every URI, in order, on ``workers`` threads.

    The URIs go to the pool in slices (a few per worker), not one by one: a future per asset
    costs as much as a trivial ``create_item``, while slices keep ``workers`` calls in flight
    for the ``create_item``s that wait on storage.
    """
    size = max(1, math.ceil(len(uris) / (workers * SLICES_PER_WORKER)))
    slices = [uris[start : start + size] for start in range(0, len(uris), size)]
    for outcomes in pool.map(lambda part: [make(uri) for uri in part], slices):
        yield from outcomes


def _collect(
    outcomes: Iterator[list[dict[str, Any]] | AssetFailure],
) -> tuple[list[dict[str, Any]], list[AssetFailure]]:
    items: list[dict[str, Any]] = []
    failures: list[AssetFailure] = []
    for outcome in outcomes:
        if isinstance(outcome, AssetFailure):
            failures.append(outcome)
        else:
            items.extend(outcome)
    return items, failures


def _ndjson(items: list[dict[str, Any]]) -> bytes:
    import orjson

    return b"".join(orjson.dumps(item) + b"\n" for item in items)
