"""The pipeline inside one ``process-chunks`` pod: make items ahead, load them in big batches.

A producer thread works through the pod's chunks: it calls ``create_item`` for every asset (on a
thread pool), writes the chunk's items as ndjson beside the chunks, and queues them, a bounded
number of items ahead (memory stays bounded). The pod's thread feeds everything queued into one
PgSTAC load, so items are made while earlier ones load, over one connection, in large batches
(``process_chunks.LOAD_BATCH``). A chunk is done (its result record written) once the batch
holding its last item has committed.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from etl.core.storage.base import Storage
from etl.dataset.chunking.chunk_files import read_chunk_uris
from etl.dataset.chunking.manifest import ChunkManifest
from etl.dataset.layout import RunLayout
from etl.dataset.run_results import AssetFailure
from etl.task.item_maker import MakeItems, make_all

__all__ = ["ChunkInput", "MadeChunk", "load_chunks"]


@dataclass
class MadeChunk:
    """One chunk's items (already written as ndjson) and failures, waiting to be loaded."""

    index: int
    assets: int
    items: list[dict[str, Any]]
    failures: list[AssetFailure]
    started: float = field(default_factory=time.perf_counter)


@dataclass(frozen=True)
class ChunkInput:
    """Where the pod's chunks are, the asset storages their entries must lie in, and how their
    items are made."""

    storage: Storage
    manifest: ChunkManifest
    asset_storages: Sequence[Storage]
    make: MakeItems
    workers: int

    @property
    def layout(self) -> RunLayout:
        """The run's layout."""
        return RunLayout(self.manifest.run_id)


def load_chunks(
    source: ChunkInput,
    chunks: list[int],
    load: Callable[[Iterator[dict[str, Any]], Callable[[int], None]], None],
    on_done: Callable[[MadeChunk], None],
    *,
    backlog: int,
) -> None:
    """Make and load ``chunks``; call ``on_done`` for each once its items are committed.

    Args:
        source: The chunks' storage and the item maker.
        chunks: The chunk indices to process, in order.
        load: Loads the items it is given; calls its second argument with the number of items
            committed so far after each committed batch.
        on_done: Told about each chunk whose items are all committed, in order.
        backlog: How many made items may wait for the loader (a bound on memory); enough to
            keep making items while a batch loads.
    """
    made = _Backlog(backlog)
    producer = threading.Thread(target=_produce, args=(source, chunks, made), daemon=True)
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
        made.close()
        producer.join()


class _Backlog:
    """Made chunks on their way to the loader, holding at most ``max_items`` items (a chunk is
    let in whenever fewer are waiting, so a chunk larger than the bound still passes)."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self._chunks: deque[MadeChunk | BaseException | None] = deque()
        self._items = 0
        self._closed = False
        self._changed = threading.Condition()

    def put(self, value: MadeChunk | BaseException | None) -> bool:
        """Queue ``value`` once there is room; ``False`` if the backlog was closed first."""
        with self._changed:
            while self._items >= self.max_items and not self._closed:
                self._changed.wait()
            if self._closed:
                return False
            self._chunks.append(value)
            self._items += len(value.items) if isinstance(value, MadeChunk) else 0
            self._changed.notify_all()
            return True

    def get(self) -> MadeChunk | BaseException | None:
        """The oldest queued value, waiting for one."""
        with self._changed:
            while not self._chunks:
                self._changed.wait()
            value = self._chunks.popleft()
            self._items -= len(value.items) if isinstance(value, MadeChunk) else 0
            self._changed.notify_all()
            return value

    def close(self) -> None:
        """Take no more: a producer waiting for room gives up."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()


def _produce(source: ChunkInput, chunks: list[int], made: _Backlog) -> None:
    try:
        with ThreadPoolExecutor(source.workers, thread_name_prefix="create-item") as pool:
            for index in chunks:
                started = time.perf_counter()
                uris = read_chunk_uris(
                    source.storage, source.manifest, index, asset_storages=source.asset_storages
                )
                items, failures = _collect(make_all(pool, source.make, uris, source.workers))
                source.storage.write_bytes(source.layout.items_path(index), _ndjson(items))
                if not made.put(MadeChunk(index, len(uris), items, failures, started)):
                    return
        made.put(None)
    except BaseException as exc:
        made.put(exc)


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
