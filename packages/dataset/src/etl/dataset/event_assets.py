"""Which blobs a collection's storage events are about: its assets, decided as a batch listing does.

A storage event names one blob. It is an asset of the collection when one ``blob://`` entry of
``asset_storage`` holds it and that entry's listing would list it: the chunk options' path filters
(:meth:`~etl.dataset.chunking.filters.AssetFilter.accepts`: ``name_starts_with``, ``extensions``,
``ends_with``, ``matches``, depths, ``folder_matches``) and the splits
(:func:`~etl.dataset.chunking.splits.splits_list`), the very predicates of ``create-chunks``.
``since`` and ``limit`` bound a listing, not an asset, so an event ignores them; a collection that
lists folders (``list_folders``) cannot take events (``etl.dataset.cross_checks`` says so).
"""

from __future__ import annotations

from dataclasses import dataclass

from etl.core.errors import InputError
from etl.core.storage.uris import BLOB_SCHEME, BlobLocation, parse_blob_uri
from etl.dataset.chunking.create import asset_filter_of, split_specs_of
from etl.dataset.chunking.filters import AssetFilter
from etl.dataset.chunking.splits import SplitSpec, splits_list
from etl.dataset.model import AssetStorageConfig, CollectionConfig, EventsConfig

__all__ = ["CollectionAssets", "collection_with_events"]


@dataclass(frozen=True)
class _Entry:
    storage: AssetStorageConfig
    root: BlobLocation
    asset_filter: AssetFilter
    splits: list[SplitSpec]


class CollectionAssets:
    """The asset test of one collection, its filters built once (for a stream of events)."""

    def __init__(self, collection: CollectionConfig) -> None:
        self._entries = [
            _Entry(
                storage=entry,
                root=parse_blob_uri(entry.uri),
                asset_filter=asset_filter_of(entry.chunks.options),
                splits=split_specs_of(entry.chunks),
            )
            for entry in collection.asset_storage
            if entry.uri.startswith(BLOB_SCHEME)
        ]

    def storage_of(self, blob_uri: str) -> AssetStorageConfig | None:
        """The ``asset_storage`` entry whose listing would list the blob ``blob_uri``, or ``None``.

        Raises:
            StorageError: ``blob_uri`` is not a ``blob://ACCOUNT/CONTAINER/PATH`` URI.
        """
        blob = parse_blob_uri(blob_uri)
        for entry in self._entries:
            root = entry.root
            if (blob.account, blob.container) != (root.account, root.container):
                continue
            folder = f"{root.prefix}/" if root.prefix else ""
            if not blob.prefix.startswith(folder):
                continue
            path = blob.prefix[len(folder) :]
            if path and entry.asset_filter.accepts(path) and splits_list(entry.splits, path):
                return entry.storage
        return None


def collection_with_events(
    dataset_id: str, collections: list[CollectionConfig]
) -> tuple[CollectionConfig, EventsConfig]:
    """The one collection of ``collections`` that declares ``events``, and its events.

    Raises:
        InputError: none declares events, or several do (choose one with ``-c``).
    """
    with_events = [(c, c.events) for c in collections if c.events is not None]
    if not with_events:
        ids = ", ".join(c.id for c in collections)
        raise InputError(
            f"dataset {dataset_id!r}: no collection declares events ({ids}); add "
            "collections[].events.queue: queue://ACCOUNT/NAME (docs/streaming.md)"
        )
    if len(with_events) > 1:
        ids = ", ".join(c.id for c, _ in with_events)
        raise InputError(
            f"dataset {dataset_id!r}: several collections declare events ({ids}); choose one "
            "with -c"
        )
    return with_events[0]
