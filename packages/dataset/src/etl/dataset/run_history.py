"""A collection's recent runs, read from its chunk storage: the last success and the failed assets
still outstanding (for ``etl dataset status``).

Every run leaves ``{run_id}/chunks/manifest.json`` (when it is created) and ``errors/`` (each
chunk's failed assets as of its last try, so a retried workflow's fixed assets are gone). An asset
that failed in a run is *outstanding* unless a later run processed it again (its chunk has a result
record): then that later run's errors say whether it still fails. An asset a later run did not
list (``--since``) stays outstanding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from etl.core.storage import Storage
from etl.dataset.chunking.chunk_files import read_chunk_uris
from etl.dataset.chunking.manifest import ChunkManifest, read_manifest
from etl.dataset.last_success import LastSuccess, read_last_success_marker
from etl.dataset.layout import RunLayout
from etl.dataset.run_results import read_chunk_result, read_run_failures

__all__ = ["RECENT_RUNS", "CollectionHistory", "OutstandingFailure", "collection_history"]

RECENT_RUNS = 10
"""Runs (newest first) whose failures are looked at."""


@dataclass(frozen=True)
class OutstandingFailure:
    """An asset that failed in ``run_id`` and that no later run made."""

    asset: str
    error: str
    run_id: str


@dataclass(frozen=True)
class CollectionHistory:
    """What the chunk storage says about the collection's recent runs."""

    last_success: LastSuccess | None
    last_success_since: str | None
    """The ``--since`` the last successful run listed from (``None``: it listed everything)."""
    runs: tuple[ChunkManifest, ...]
    """The recent runs' chunk-set manifests, newest first."""
    outstanding: tuple[OutstandingFailure, ...]

    def to_json(self) -> dict[str, Any]:
        """The ``last_success``, ``runs`` and ``outstanding_failures`` of ``etl dataset status``."""
        success = self.last_success
        return {
            "last_success": None
            if success is None
            else {
                "run_id": success.run_id,
                "started_at": success.started_at.isoformat(),
                "since": self.last_success_since,
            },
            "recent_runs": [
                {"run_id": m.run_id, "created": m.created, "assets": m.asset_count}
                for m in self.runs
            ],
            "outstanding_failures": len(self.outstanding),
            "failed_assets": [
                {"asset": f.asset, "error": f.error, "run_id": f.run_id} for f in self.outstanding
            ],
        }


def collection_history(storage: Storage, *, recent: int = RECENT_RUNS) -> CollectionHistory:
    """The last success and the outstanding failures of the ``recent`` newest runs in the chunk
    storage ``storage``.

    Raises:
        StorageError: the chunk storage cannot be read.
    """
    manifests = [
        manifest
        for prefix in storage.list_prefixes("")
        if (layout := _layout(prefix)) is not None
        and (manifest := read_manifest(storage, layout)) is not None
    ]
    runs = sorted(manifests, key=lambda m: m.created, reverse=True)[:recent]
    failures = [list(read_run_failures(storage, RunLayout(m.run_id))) for m in runs]
    outstanding: list[OutstandingFailure] = []
    settled: set[str] = set()
    for position, manifest in enumerate(runs):
        for _, failure in failures[position]:
            if failure.asset not in settled:
                outstanding.append(
                    OutstandingFailure(failure.asset, failure.error, manifest.run_id)
                )
        if any(failures[position + 1 :]):
            settled |= _processed_assets(storage, manifest)
    success = read_last_success_marker(storage)
    since = None
    if success is not None and (layout := _layout(f"{success.run_id}/")) is not None:
        manifest = read_manifest(storage, layout)
        value = manifest.options.get("since") if manifest is not None else None
        since = value if isinstance(value, str) else None
    return CollectionHistory(success, since, tuple(runs), tuple(outstanding))


def _layout(prefix: str) -> RunLayout | None:
    from etl.core.errors import InputError

    try:
        return RunLayout(prefix.rstrip("/"))
    except InputError:
        return None


def _processed_assets(storage: Storage, manifest: ChunkManifest) -> set[str]:
    """The assets of the run's chunks that were processed (have a result record)."""
    layout = RunLayout(manifest.run_id)
    assets: set[str] = set()
    for index in range(manifest.chunk_count):
        if read_chunk_result(storage, layout, index) is not None:
            assets.update(read_chunk_uris(storage, manifest, index))
    return assets
