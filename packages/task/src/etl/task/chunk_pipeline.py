"""The pipeline inside one ``process-chunks`` pod: make items ahead, load them in big batches.

A producer thread works through the pod's chunks (each read by
:func:`etl.dataset.chunking.chunk_files.read_chunk_uris`, which checks the chunk's digest and
confines its entries to the asset storages): it calls ``create_item`` for every asset (on
threads or in worker processes: :mod:`etl.task.item_making`; each item serialised, hashed and
formatted for pypgstac as it is made: :mod:`etl.task.item_provenance`), writes the chunk's items
as ndjson beside the chunks (the bytes already serialised), and queues them, a bounded number of
items ahead (memory stays bounded). The pod's thread feeds everything queued into one
PgSTAC load, so items are made while earlier ones load, over one connection, in large batches
(``process_chunks.LOAD_BATCH``). A chunk is done (its result record written) once the batch
holding its last item has committed.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from etl.core.storage.base import Storage
from etl.dataset.chunking.chunk_files import read_chunk_uris
from etl.dataset.chunking.manifest import ChunkManifest
from etl.dataset.layout import RunLayout
from etl.dataset.run_results import AssetFailure
from etl.task.item_making import ItemMaking
from etl.task.item_provenance import MadeItem, PrepareItems

__all__ = ["ChunkInput", "MadeChunk", "load_chunks"]


@dataclass
class MadeChunk:
    """One chunk's items (already written as ndjson) and failures, waiting to be loaded."""

    index: int
    assets: int
    made: list[MadeItem]
    failures: list[AssetFailure]
    started: float = field(default_factory=time.perf_counter)

    @property
    def items(self) -> list[dict[str, Any]]:
        """The chunk's items, in order."""
        return [entry.item for entry in self.made]


@dataclass(frozen=True)
class ChunkInput:
    """Where the pod's chunks are, the asset storages their entries must lie in, and how their
    items are made."""

    storage: Storage
    manifest: ChunkManifest
    asset_storages: Sequence[Storage]
    make: PrepareItems
    making: ItemMaking

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
    taken: Callable[[list[MadeItem]], None] | None = None,
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
        taken: Told about each chunk's items as they enter the load, on the loader's thread.
    """
    made = _Backlog(backlog)
    waiting: deque[tuple[MadeChunk, int]] = deque()

    def committed(count: int) -> None:
        while waiting and waiting[0][1] <= count:
            on_done(waiting.popleft()[0])

    def items() -> Iterator[dict[str, Any]]:
        position = 0
        while (chunk := made.get()) is not None:
            if isinstance(chunk, BaseException):
                raise chunk
            position += len(chunk.made)
            waiting.append((chunk, position))
            if taken is not None:
                taken(chunk.made)
            yield from chunk.items

    with source.making.executor(source.make) as pool:  # before any thread starts
        producer = threading.Thread(target=_produce, args=(source, pool, chunks, made), daemon=True)
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
            self._items += len(value.made) if isinstance(value, MadeChunk) else 0
            self._changed.notify_all()
            return True

    def get(self) -> MadeChunk | BaseException | None:
        """The oldest queued value, waiting for one."""
        with self._changed:
            while not self._chunks:
                self._changed.wait()
            value = self._chunks.popleft()
            self._items -= len(value.made) if isinstance(value, MadeChunk) else 0
            self._changed.notify_all()
            return value

    def close(self) -> None:
        """Take no more: a producer waiting for room gives up."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()


def _produce(source: ChunkInput, pool: Executor, chunks: list[int], made: _Backlog) -> None:
    try:
        for index in chunks:
            started = time.perf_counter()
            uris = read_chunk_uris(
                source.storage, source.manifest, index, asset_storages=source.asset_storages
            )
            items, lines, failures = _collect(source.making.make_all(pool, source.make, uris))
            source.storage.write_bytes(source.layout.items_path(index), b"".join(lines))
            del lines
            if not made.put(MadeChunk(index, len(uris), items, failures, started)):
                return
        made.put(None)
    except BaseException as exc:
        made.put(exc)


def _collect(
    outcomes: Iterator[list[tuple[MadeItem, bytes]] | AssetFailure],
) -> tuple[list[MadeItem], list[bytes], list[AssetFailure]]:
    made: list[MadeItem] = []
    lines: list[bytes] = []
    failures: list[AssetFailure] = []
    for outcome in outcomes:
        if isinstance(outcome, AssetFailure):
            failures.append(outcome)
        else:
            for entry, line in outcome:
                made.append(entry)
                lines.append(line)
    return made, lines, failures
