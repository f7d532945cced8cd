"""A collection's recent runs, read from its chunk storage: the last success and the failed assets
still outstanding (for ``etl dataset status``, and taken again by ``--since last-success`` runs).

Every run leaves ``{run_id}/chunks/manifest.json`` (when it is created) and ``errors/`` (each
chunk's failed assets as of its last try, so a retried workflow's fixed assets are gone). A chunk
of a run that processes its chunks (``processing.json``) with no result record once the run has
ended never finished (its pod died past its retries, or the run was stopped): each of its assets
failed too. An asset that failed in a run is *outstanding* unless a later run processed it again
(its chunk has a result record; then that later run's errors say whether it still fails) or a
user dropped it (:mod:`etl.dataset.dropped_failures`) after that run. An asset a later run did not
list (``--since``) stays outstanding.

Failures are looked for in every run back to the newest ended run that *settled* all earlier ones
(:func:`_settles_earlier_failures`): a listing of every asset, or a ``--since last-success`` run
that took every outstanding failure again. Before that run nothing is owed any more (it made each
asset again, and recorded its own failures), so however many partial runs came since, a failure
is never forgotten by age.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from etl.core.errors import ConfigError
from etl.core.storage.base import Storage
from etl.dataset.chunking.chunk_files import read_chunk_uris
from etl.dataset.chunking.manifest import ChunkManifest, read_manifest
from etl.dataset.dropped_failures import read_dropped_failures
from etl.dataset.last_success import LastSuccessMarker, read_last_success_marker
from etl.dataset.layout import RunLayout
from etl.dataset.run_results import chunks_with_results, read_run_failures

__all__ = [
    "RECENT_RUNS",
    "CollectionHistory",
    "OutstandingFailure",
    "collection_history",
]

RECENT_RUNS = 10
"""Runs (newest first) that ``etl dataset status`` lists."""


@dataclass(frozen=True)
class OutstandingFailure:
    """An asset that failed in ``run_id`` and that no later run made."""

    asset: str
    error: str
    run_id: str


@dataclass(frozen=True)
class CollectionHistory:
    """What the chunk storage says about the collection's recent runs."""

    last_success: LastSuccessMarker | None
    last_success_since: str | None
    """The ``--since`` the last successful run listed from (``None``: it listed everything)."""
    runs: tuple[ChunkManifest, ...]
    """The recent runs' chunk-set manifests, newest first."""
    outstanding: tuple[OutstandingFailure, ...]
    marker_error: str | None = None
    """Why the last-success marker cannot be used (unreadable, or later than now)."""

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
            "last_success_error": self.marker_error,
            "recent_runs": [
                {"run_id": m.run_id, "created": m.created, "assets": m.asset_count}
                for m in self.runs
            ],
            "outstanding_failures": len(self.outstanding),
            "failed_assets": [
                {"asset": f.asset, "error": f.error, "run_id": f.run_id} for f in self.outstanding
            ],
        }


def collection_history(
    storage: Storage, *, running: Collection[str] = (), recent: int = RECENT_RUNS
) -> CollectionHistory:
    """The last success, the ``recent`` newest runs and the outstanding failures (of every run
    back to the newest that settled earlier failures) in the chunk storage ``storage``; the runs named in ``running`` have not ended (their chunks without a
    result are not failures yet).

    An unreadable marker is reported in :attr:`CollectionHistory.marker_error`, not raised.

    Raises:
        StorageError: the chunk storage cannot be read.
        ConfigError: the record of dropped failures is unreadable.
    """
    manifests = [
        manifest
        for prefix in storage.list_prefixes("")
        if (layout := _layout(prefix)) is not None
        and (manifest := read_manifest(storage, layout)) is not None
    ]
    newest_first = sorted(manifests, key=lambda m: m.created, reverse=True)
    runs = _back_to_settled(newest_first, running)
    failures = [_run_failures(storage, m, ended=m.run_id not in running) for m in runs]
    dropped = read_dropped_failures(storage)
    outstanding: list[OutstandingFailure] = []
    settled: set[str] = set()
    for position, manifest in enumerate(runs):
        created = datetime.fromisoformat(manifest.created)
        for asset, error in failures[position]:
            if asset in settled:
                continue
            settled.add(asset)  # an older run's failure of it is this one's, or settled
            if asset not in dropped or dropped[asset] < created:
                outstanding.append(OutstandingFailure(asset, error, manifest.run_id))
        if any(failures[position + 1 :]):
            settled |= _processed_assets(storage, manifest)
    try:
        success, marker_error = read_last_success_marker(storage), None
    except ConfigError as exc:
        success, marker_error = None, str(exc)
    since = None
    if success is not None and (layout := _layout(f"{success.run_id}/")) is not None:
        manifest = read_manifest(storage, layout)
        value = manifest.options.get("since") if manifest is not None else None
        since = value if isinstance(value, str) else None
    return CollectionHistory(
        success, since, tuple(newest_first[:recent]), tuple(outstanding), marker_error
    )


def _settles_earlier_failures(manifest: ChunkManifest) -> bool:
    """Whether the run made again every asset an earlier run failed on: no ``--limit`` and no
    storage entry ``limit``, and either a listing of every asset (no ``since``, the run's or an
    entry's) or a ``--since last-success`` run that took the outstanding failures (``owed``)."""
    options = manifest.options
    sources = options.get("sources")
    entries = list(sources.values()) if isinstance(sources, dict) else []
    if options.get("limit") is not None or any("limit" in entry for entry in entries):
        return False
    if "owed" in options:
        return True
    return options.get("since") is None and not any("since" in entry for entry in entries)


def _back_to_settled(
    newest_first: list[ChunkManifest], running: Collection[str]
) -> list[ChunkManifest]:
    """The runs whose failures may still be owed: newest first, up to and including the newest
    ended run that settled every earlier failure."""
    for position, manifest in enumerate(newest_first):
        if manifest.run_id not in running and _settles_earlier_failures(manifest):
            return newest_first[: position + 1]
    return newest_first


def _layout(prefix: str) -> RunLayout | None:
    from etl.core.errors import InputError

    try:
        return RunLayout(prefix.rstrip("/"))
    except InputError:
        return None


def _run_failures(
    storage: Storage, manifest: ChunkManifest, *, ended: bool
) -> list[tuple[str, str]]:
    """The run's failed assets and why: its ``errors/``, then, once the run ``ended``, the assets
    of the chunks it was to process that have no result."""
    layout = RunLayout(manifest.run_id)
    failed = [(f.asset, f.error) for _, f in read_run_failures(storage, layout)]
    if not ended or not storage.exists(layout.processing_path):
        return failed
    finished = chunks_with_results(storage, layout)
    for index in range(manifest.chunk_count):
        if index not in finished:
            error = (
                f"chunk {index:05d} never finished: its pod failed past its retries or the "
                "run was stopped"
            )
            failed.extend((asset, error) for asset in read_chunk_uris(storage, manifest, index))
    return failed


def _processed_assets(storage: Storage, manifest: ChunkManifest) -> set[str]:
    """The assets of the run's chunks that were processed (have a result record)."""
    layout = RunLayout(manifest.run_id)
    assets: set[str] = set()
    for index in chunks_with_results(storage, layout):
        assets.update(read_chunk_uris(storage, manifest, index))
    return assets
