"""Creating a chunk set: list every asset source, cut the stream into chunk files, write the manifest.

The order of work makes a chunk set trustworthy:

1. delete the run's old manifest, so nobody trusts the old chunk set while it is being replaced;
2. stream each source's listing into chunk files ``00000.txt, 00001.txt, ...`` (overwriting;
   their format: :mod:`etl.dataset.chunking.chunk_files`);
3. delete chunk files left over from an earlier, larger chunk set of the same run, and write
   ``digests.sha256``, each chunk's SHA-256;
4. write the manifest (which records the SHA-256 of ``digests.sha256``), last.

A listing that fails raises :class:`~etl.core.errors.StorageError` before step 4: no manifest.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any, Protocol

from etl.core.storage.base import Storage
from etl.dataset.chunking.chunk_files import write_chunk_digests
from etl.dataset.chunking.concurrency import account_slots, listing_concurrency
from etl.dataset.chunking.filters import AssetFilter
from etl.dataset.chunking.listing import ModifiedTimes
from etl.dataset.chunking.manifest import ChunkManifest, SourceListing, write_manifest
from etl.dataset.chunking.parallel import list_parts
from etl.dataset.chunking.splits import SplitSpec, plan_parts
from etl.dataset.chunking.writer import ChunkWriter
from etl.dataset.layout import RunLayout

__all__ = [
    "DEFAULT_CHUNK_LENGTH",
    "ChunkSource",
    "ChunkingProgress",
    "create_chunk_set",
    "stream_assets",
]

DEFAULT_CHUNK_LENGTH = 1000
"""URIs per chunk: at 0.1-0.5 s per item, one chunk is 2-8 minutes of a pod's work (docs/chunking.md)."""


class ChunkingProgress(Protocol):
    """Receives progress; methods may be called from listing threads."""

    def listed(self, count: int) -> None:
        """``count`` more assets were listed."""

    def chunk_written(self, index: int) -> None:
        """Chunk file ``index`` was written."""


@dataclass(frozen=True)
class ChunkSource:
    """One ``asset_storage`` entry, ready to list.

    Attributes:
        storage: The asset storage, opened at its URI.
        asset_filter: Its chunk options as a filter.
        splits: Its splits (none: one listing).
        limit: Most assets it contributes (its ``limit`` option).
        options: Its options as given, recorded in the manifest.
    """

    storage: Storage
    asset_filter: AssetFilter = field(default_factory=AssetFilter)
    splits: Sequence[SplitSpec] = ()
    limit: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


def create_chunk_set(
    sources: Sequence[ChunkSource],
    chunk_storage: Storage,
    layout: RunLayout,
    *,
    collection: str,
    chunk_length: int = DEFAULT_CHUNK_LENGTH,
    limit: int | None = None,
    concurrency: int | None = None,
    progress: ChunkingProgress | None = None,
    recorded_options: Mapping[str, Any] | None = None,
    owed: Sequence[str] | None = None,
) -> ChunkManifest:
    """List ``sources`` into ``layout``'s chunk set in ``chunk_storage``, manifest last.

    Args:
        sources: The asset storages, listed one after the other in this order.
        chunk_storage: Where the chunk files go.
        layout: The run's layout.
        collection: The collection id, recorded in the manifest.
        chunk_length: URIs per chunk file.
        limit: Most assets over all sources (``--limit``).
        concurrency: Most listings at once per storage account (default: ``$ETL_LISTING_CONCURRENCY``
            or 8).
        progress: Told about listed assets and written chunks.
        recorded_options: Extra options recorded in the manifest (e.g. ``since``).
        owed: Asset URIs to take besides the listing (earlier runs' outstanding failures), each
            once, after the listed ones (within ``limit``); the manifest records how many.

    Raises:
        StorageError: when listing or writing fails; no manifest is left behind.
    """
    workers = listing_concurrency(concurrency)
    started = time.monotonic()
    chunk_storage.delete(layout.manifest_path)
    on_listed = progress.listed if progress is not None else None
    on_chunk = progress.chunk_written if progress is not None else None
    listings: list[SourceListing] = []
    with (
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="listing") as executor,
        ChunkWriter(chunk_storage, layout, chunk_length, on_chunk=on_chunk) as writer,
    ):
        assets = stream_assets(
            sources,
            executor=executor,
            workers=workers,
            limit=limit,
            on_listed=on_listed,
            listings=listings,
        )
        pending = dict.fromkeys(owed or ())
        with closing(assets):  # on failure, stop the listings at once
            writer.extend(_taking_off(assets, pending))
        room = len(pending) if limit is None else max(0, limit - writer.asset_count)
        taken = list(pending)[:room]
        writer.extend(taken)
        stats = writer.finish()
    _delete_stale_chunks(chunk_storage, layout, stats.chunk_count)
    manifest = ChunkManifest(
        run_id=layout.run_id,
        collection=collection,
        chunk_count=stats.chunk_count,
        asset_count=stats.asset_count,
        chunk_length=chunk_length,
        digest=stats.digest,
        digests_sha256=write_chunk_digests(chunk_storage, layout, stats.chunk_digests),
        listing_seconds=round(time.monotonic() - started, 3),
        options={
            "limit": limit,
            **(recorded_options or {}),
            **({"owed": len(taken)} if owed is not None else {}),
            "sources": {source.storage.uri: dict(source.options) for source in sources},
        },
        sources=listings,
    )
    write_manifest(chunk_storage, layout, manifest)
    return manifest


def stream_assets(
    sources: Sequence[ChunkSource],
    *,
    executor: ThreadPoolExecutor,
    workers: int,
    limit: int | None = None,
    on_listed: Callable[[int], None] | None = None,
    listings: list[SourceListing] | None = None,
    modified: ModifiedTimes | None = None,
) -> Generator[str, None, None]:
    """Every asset URI of ``sources``, source after source, at most ``limit`` in all.

    This is the listing of a chunk set (splits listed on ``executor``, ``workers`` listings at
    once per account); each source's :class:`SourceListing` is appended to ``listings`` once it
    is listed; ``modified``, when given, notes the listed objects' modification times.
    """
    remaining = limit
    for source in sources:
        cap = _smaller(remaining, source.limit)
        if cap == 0:
            if listings is not None:
                listings.append(SourceListing(uri=source.storage.uri, assets=0, parts=0))
            continue
        parts = plan_parts(
            source.storage,
            source.splits,
            map_calls=_bounded_map(executor, account_slots(source.storage.uri, workers)),
        )
        count = 0
        listing = list_parts(
            source.storage,
            parts,
            source.asset_filter,
            executor=executor,
            concurrency=workers,
            cap=cap,
            on_listed=on_listed,
            modified=modified,
        )
        with closing(listing):  # on failure, stop the other parts' listings at once
            for uri in listing:
                count += 1
                yield uri
        if listings is not None:
            listings.append(SourceListing(uri=source.storage.uri, assets=count, parts=len(parts)))
        if remaining is not None:
            remaining -= count


def _taking_off(uris: Iterable[str], pending: dict[str, None]) -> Iterator[str]:
    """``uris``, each taken off ``pending`` as it passes."""
    for uri in uris:
        pending.pop(uri, None)
        yield uri


def _bounded_map(
    executor: ThreadPoolExecutor, slots: threading.BoundedSemaphore
) -> Callable[[Callable[[str], list[str]], Iterable[str]], Iterator[list[str]]]:
    """``executor.map`` whose calls each hold one of the account's listing slots."""

    def run(call: Callable[[str], list[str]], folders: Iterable[str]) -> Iterator[list[str]]:
        def bounded(folder: str) -> list[str]:
            with slots:
                return call(folder)

        return executor.map(bounded, folders)

    return run


def _smaller(first: int | None, second: int | None) -> int | None:
    values = [value for value in (first, second) if value is not None]
    return min(values) if values else None


def _delete_stale_chunks(storage: Storage, layout: RunLayout, chunk_count: int) -> None:
    """Delete chunk files numbered ``chunk_count`` or more (from an earlier run of ``layout``)."""
    stale = [
        info.path
        for info in storage.list_objects(layout.chunks_prefix)
        if (index := layout.chunk_index(info.path)) is not None and index >= chunk_count
    ]
    for path in stale:
        storage.delete(path)
