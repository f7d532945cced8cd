"""Listing the parts of a split listing in parallel, and merging them back in a fixed order.

Each part streams into its own spool file on local disk while up to ``concurrency`` parts of one
storage account list at once; the merge then reads the spools in part order. Memory stays flat
(a spool costs disk, about 100 bytes an asset, deleted as soon as it is merged) and the merged
stream is the same whatever order the parts finish in, so chunk sets are deterministic. A spool
holds one JSON string a line, like a chunk file, so names with newlines survive it.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from etl.core.storage.base import Storage
from etl.dataset.chunking.chunk_files import chunk_line
from etl.dataset.chunking.concurrency import account_slots
from etl.dataset.chunking.filters import AssetFilter
from etl.dataset.chunking.listing import ModifiedTimes, list_part, shared_folder_uris
from etl.dataset.chunking.splits import ListingPart

__all__ = ["list_parts"]

_REPORT_EVERY = 1000


def list_parts(
    storage: Storage,
    parts: Sequence[ListingPart],
    asset_filter: AssetFilter,
    *,
    executor: ThreadPoolExecutor,
    concurrency: int,
    cap: int | None = None,
    on_listed: Callable[[int], None] | None = None,
    modified: ModifiedTimes | None = None,
) -> Generator[str, None, None]:
    """The assets of every part, part after part, at most ``cap`` of them.

    Args:
        storage: The asset storage.
        parts: Its parts, from :func:`~etl.dataset.chunking.splits.plan_parts`.
        asset_filter: The filters.
        executor: Runs the part listings.
        concurrency: Most listings running at once against this storage account.
        cap: Stop after this many assets.
        on_listed: Called with counts of newly listed assets, from listing threads.
        modified: Notes the objects' modification times.
    """
    slots = account_slots(storage.uri, concurrency)
    if len(parts) == 1:
        with slots:
            yield from _counted(
                list_part(storage, parts[0], asset_filter, modified), cap, on_listed
            )
        return
    stop = threading.Event()
    with tempfile.TemporaryDirectory(prefix="etl-chunks-") as spool_dir:

        def spool(index: int, part: ListingPart) -> Path:
            path = Path(spool_dir) / f"{index:06d}"
            with slots, path.open("w", encoding="ascii") as out:
                if stop.is_set():
                    return path
                for uri in _counted(
                    list_part(storage, part, asset_filter, modified), cap, on_listed
                ):
                    out.write(chunk_line(uri))
                    if stop.is_set():
                        break
            return path

        futures: list[Future[Path]] = [
            executor.submit(spool, index, part) for index, part in enumerate(parts)
        ]
        try:
            yield from _merge(storage, parts, futures, asset_filter.list_folders, cap)
        finally:
            stop.set()
            for future in futures:
                future.cancel()
            for future in futures:
                if not future.cancelled():
                    future.exception()  # wait, so the spool folder is not removed under a writer


def _merge(
    storage: Storage,
    parts: Sequence[ListingPart],
    futures: list[Future[Path]],
    list_folders: bool,
    cap: int | None,
) -> Iterator[str]:
    """The spooled URIs in part order; with folders, repeats of shared folders dropped."""
    count = 0
    seen_shared: set[str] = set()
    for part, future in zip(parts, futures, strict=True):
        path = future.result()
        shared = shared_folder_uris(storage, part) if list_folders else frozenset()
        with path.open(encoding="ascii") as spooled:
            for line in spooled:
                uri = json.loads(line)
                if uri in shared:
                    if uri in seen_shared:
                        continue
                    seen_shared.add(uri)
                yield uri
                count += 1
                if cap is not None and count >= cap:
                    return
        os.unlink(path)


def _counted(
    uris: Iterator[str], cap: int | None, on_listed: Callable[[int], None] | None
) -> Iterator[str]:
    """``uris`` up to ``cap``, reporting progress every thousand."""
    count = 0
    try:
        for uri in uris:
            yield uri
            count += 1
            if on_listed is not None and count % _REPORT_EVERY == 0:
                on_listed(_REPORT_EVERY)
            if cap is not None and count >= cap:
                return
    finally:
        if on_listed is not None and count % _REPORT_EVERY:
            on_listed(count % _REPORT_EVERY)
