"""A run's per-chunk result records and per-asset failures (written by ``etl-task process-chunks``,
read by ``etl workflow errors`` and the end of every followed run).

``results/NNNNN.json`` says what a chunk gave (assets, items, failures, seconds) and whether it is
done: a chunk is done when every asset made its items and they were loaded into PgSTAC. A re-run
skips done chunks, so retrying a workflow re-processes only what failed. ``errors/NNNNN.ndjson``
holds one ``{"asset": uri, "error": message}`` line per failed asset; a chunk processed again
rewrites (or removes) its list, so the folder always holds the failures of each chunk's last try.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from etl.core.storage.base import Storage
from etl.dataset.layout import RunLayout

if TYPE_CHECKING:
    from etl.dataset.chunking.manifest import ChunkManifest

__all__ = [
    "AssetFailure",
    "ChunkResult",
    "chunks_with_results",
    "chunks_without_result",
    "read_chunk_result",
    "read_failures",
    "read_run_failures",
    "write_chunk_result",
]


@dataclass(frozen=True)
class AssetFailure:
    """An asset whose items could not be made or checked, and why; ``transient`` when a retry
    may cure it (a storage timeout, a service not answering)."""

    asset: str
    error: str
    transient: bool = False


@dataclass(frozen=True)
class ChunkResult:
    """What processing chunk ``chunk`` gave."""

    chunk: int
    assets: int
    items: int
    failed_assets: int
    seconds: float
    done: bool

    def to_json(self) -> str:
        """The record as written to storage."""
        return json.dumps(asdict(self), sort_keys=True)


def write_chunk_result(
    storage: Storage, layout: RunLayout, result: ChunkResult, failures: list[AssetFailure]
) -> None:
    """Write the failures (or remove a stale list), then the result record."""
    errors_path = layout.errors_path(result.chunk)
    if failures:
        lines = "".join(json.dumps(asdict(f)) + "\n" for f in failures)
        storage.write_text(errors_path, lines)
    elif storage.exists(errors_path):
        storage.delete(errors_path)
    storage.write_text(layout.result_path(result.chunk), result.to_json())


def read_chunk_result(storage: Storage, layout: RunLayout, chunk: int) -> ChunkResult | None:
    """The chunk's result record, or ``None`` when it was never processed."""
    path = layout.result_path(chunk)
    if not storage.exists(path):
        return None
    data: dict[str, Any] = json.loads(storage.read_text(path))
    return ChunkResult(**data)


def chunks_with_results(storage: Storage, layout: RunLayout) -> set[int]:
    """The chunks of the run that have a result record (were processed, with or without
    failures), from one listing."""
    return {
        index
        for info in storage.list_objects(layout.results_prefix)
        if (index := layout.result_index(info.path)) is not None
    }


def chunks_without_result(
    storage: Storage, layout: RunLayout, manifest: ChunkManifest | None
) -> list[tuple[int, int]]:
    """``(chunk, its asset count)`` of each chunk of the chunk set that has no result record
    (every chunk holds ``chunk_length`` assets but the last, which holds the rest): once the run
    has ended, these failed as a whole (their pod was killed, past its retries, or never ran)."""
    if manifest is None:
        return []
    recorded = chunks_with_results(storage, layout)
    last = manifest.chunk_count - 1
    rest = manifest.asset_count - manifest.chunk_length * last
    return [
        (index, rest if index == last else manifest.chunk_length)
        for index in range(manifest.chunk_count)
        if index not in recorded
    ]


def read_failures(storage: Storage, layout: RunLayout, chunk: int) -> list[AssetFailure]:
    """The failed assets of a chunk (empty when none failed)."""
    path = layout.errors_path(chunk)
    if not storage.exists(path):
        return []
    return [
        AssetFailure(**json.loads(line)) for line in storage.read_text(path).splitlines() if line
    ]


def read_run_failures(storage: Storage, layout: RunLayout) -> Iterator[tuple[int, AssetFailure]]:
    """Every failed asset of the run, with its chunk's index, in chunk order."""
    for info in storage.list_objects(layout.errors_prefix):
        index = layout.errors_index(info.path)
        if index is not None:
            for failure in read_failures(storage, layout, index):
                yield index, failure
