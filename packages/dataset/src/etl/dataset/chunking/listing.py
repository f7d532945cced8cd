"""Listing one part of an asset storage: a stream of asset URIs that pass the filters.

This is the per-object hot path of create-chunks. It asks the storage for properties only when
``since`` needs them (names-only listings cost the SDK ~7x less CPU per blob) and runs only the
predicates of options that are set.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime

from etl.core.storage.base import ObjectInfo, Storage
from etl.dataset.chunking.filters import AssetFilter, folders_of
from etl.dataset.chunking.splits import ListingPart

__all__ = ["ModifiedTimes", "list_part", "shared_folder_uris"]


class ModifiedTimes:
    """Asset URI -> when it last changed (a folder: its newest object), filled by a listing.

    Only the listed assets' times are kept: a file asset's own, a folder asset's newest object's
    (folders are noted only when the listing lists folders).
    """

    def __init__(self) -> None:
        self.times: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def noting_files(self, files: Iterator[ObjectInfo]) -> Iterator[str]:
        """The URIs of the file assets ``files``, each one's time noted (a part's files are its
        own, so no other listing thread writes their URIs)."""
        times = self.times
        for info in files:
            if info.last_modified is not None:
                times[info.uri] = info.last_modified
            yield info.uri

    def noting_folders(
        self, storage: Storage, objects: Iterator[ObjectInfo]
    ) -> Iterator[ObjectInfo]:
        """``objects``, each one's time noted for every folder above it (folders shared with
        other parts keep the newest time any part saw)."""
        newest: dict[str, datetime] = {}
        for info in objects:
            at = info.last_modified
            if at is not None:
                for folder in folders_of(info.path):
                    known = newest.get(folder)
                    if known is None or known < at:
                        newest[folder] = at
            yield info
        with self._lock:
            for folder, at in newest.items():
                uri = storage.uri_of(folder)
                known = self.times.get(uri)
                if known is None or known < at:
                    self.times[uri] = at


def list_part(
    storage: Storage,
    part: ListingPart,
    asset_filter: AssetFilter,
    modified: ModifiedTimes | None = None,
) -> Iterator[str]:
    """The URIs of the assets of ``part`` in listing order (files, or folders with ``list_folders``),
    noting their modification times in ``modified`` when given.

    Folders at or above the part's own folder (see :func:`shared_folder_uris`) may also be yielded
    by other parts; the caller removes those repeats.
    """
    prefix = _listing_prefix(part, asset_filter.folder_prefix)
    if prefix is None:
        return
    path_filter = (
        None if asset_filter.list_folders or asset_filter.is_empty else asset_filter.accepts
    )
    objects = storage.list_objects(
        prefix,
        with_properties=asset_filter.needs_properties or modified is not None,
        recursive=part.recursive,
        accept=path_filter,  # a file's path options: no properties read for the others
    )
    if part.exclude:
        excluded = part.exclude
        objects = (info for info in objects if not info.path.startswith(excluded))
    if asset_filter.list_folders:
        if modified is not None:
            objects = modified.noting_folders(storage, objects)
        yield from _folders(storage, objects, asset_filter)
    elif modified is not None:
        yield from modified.noting_files(_files(objects, asset_filter))
    else:
        for info in _files(objects, asset_filter):
            yield info.uri


def _listing_prefix(part: ListingPart, folder_prefix: str) -> str | None:
    """The narrowest prefix covering both the part and ``name_starts_with``; ``None`` if disjoint."""
    if part.prefix.startswith(folder_prefix):
        return part.prefix
    if folder_prefix.startswith(part.prefix) and part.recursive:
        return folder_prefix
    return None


def _files(objects: Iterator[ObjectInfo], asset_filter: AssetFilter) -> Iterator[ObjectInfo]:
    """The files of ``objects`` that pass ``since`` (the listing kept those passing the path
    options)."""
    if asset_filter.needs_properties:
        is_recent = asset_filter.is_recent
        for info in objects:
            if not info.path.endswith("/") and is_recent(info.last_modified):
                yield info
    else:
        for info in objects:
            if not info.path.endswith("/"):
                yield info


def _folders(
    storage: Storage, objects: Iterator[ObjectInfo], asset_filter: AssetFilter
) -> Iterator[str]:
    """Every folder above a listed object, once: a folder's contents are contiguous in the listing.

    Keeps only the previous object's folder chain, so memory does not grow with the listing.
    """
    previous: list[str] = []
    pending: dict[str, bool] = {}
    for info in objects:
        chain = folders_of(info.path)
        recent = asset_filter.is_recent(info.last_modified)
        common = 0
        while common < min(len(chain), len(previous)) and chain[common] == previous[common]:
            common += 1
        # Folders left behind are complete: emit those that saw a recent object.
        yield from _close(storage, previous[common:], pending, asset_filter)
        for folder in chain[common:]:
            pending[folder] = False
        if recent:
            for folder in chain:
                pending[folder] = True
        previous = chain
    yield from _close(storage, previous, pending, asset_filter)


def _close(
    storage: Storage, folders: list[str], pending: dict[str, bool], asset_filter: AssetFilter
) -> Iterator[str]:
    for folder in folders:
        if pending.pop(folder, False) and asset_filter.accepts(folder):
            yield storage.uri_of(folder)


def shared_folder_uris(storage: Storage, part: ListingPart) -> frozenset[str]:
    """URIs of the folders that ``part`` may yield with ``list_folders`` and other parts may too."""
    return frozenset(storage.uri_of(folder) for folder in folders_of(part.prefix))
