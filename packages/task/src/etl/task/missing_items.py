"""Items whose assets are gone: found from a run's full listing and ``etl.item_sources``.

An item of PgSTAC is *missing* when the asset that made it (its ``etl.item_sources`` row; rows
of items no longer in PgSTAC are not read, :mod:`etl.pgstac.item_sources`) is not in the run's
chunk files. Only a listing of every asset can say so
(:func:`etl.dataset.chunking.partial_listing`): a run with ``--since`` or ``--limit``, or of a
storage entry with a ``limit`` or ``since`` option, finds nothing missing. The guard refuses a
removal larger than ``max_removals``: a listing that failed half-way or came back short would
otherwise wipe a catalog.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from etl.core.errors import TaskError
from etl.core.run_options import MaxRemovals
from etl.core.storage.base import Storage
from etl.dataset.chunking.chunk_files import read_chunk_uris
from etl.dataset.chunking.manifest import ChunkManifest
from etl.pgstac.item_sources import ItemSource

__all__ = [
    "MissingItem",
    "RemovalRefusedError",
    "find_missing",
    "listed_assets",
]


class RemovalRefusedError(TaskError):
    """More items would be removed than ``max_removals`` allows: nothing was removed."""


@dataclass(frozen=True)
class MissingItem:
    """An item of the collection whose asset is no longer listed."""

    item_id: str
    asset: str


def listed_assets(storage: Storage, manifest: ChunkManifest) -> set[str]:
    """Every asset URI of the run's chunk files."""
    assets: set[str] = set()
    for index in range(manifest.chunk_count):
        assets.update(read_chunk_uris(storage, manifest, index))
    return assets


def find_missing(
    sources: Iterable[ItemSource], listed: set[str], max_removals: MaxRemovals
) -> tuple[list[MissingItem], int, str | None]:
    """The missing items, how many items are tracked, and why removing them is refused (or
    ``None``: within ``max_removals``)."""
    tracked = 0
    missing: list[MissingItem] = []
    for source in sources:
        tracked += 1
        if source.asset not in listed:
            missing.append(MissingItem(source.item_id, source.asset))
    allowed = max_removals.allowed(tracked)
    refusal = None
    if len(missing) > allowed:
        refusal = (
            f"{len(missing)} of {tracked} items would be removed, more than --max-removals "
            f"{max_removals.text} ({allowed}): the listing found {len(listed)} assets; if it is "
            "right, run again with a larger --max-removals"
        )
    return missing, tracked, refusal
