"""Checks that span several fields of a validated dataset, each failing with a located error."""

from __future__ import annotations

from difflib import get_close_matches

from etl.core.located_yaml import FieldPath, LocatedDocument, format_field_path
from etl.core.storage.uris import BLOB_SCHEME
from etl.dataset.model import ChunksConfig, CollectionConfig, DatasetConfig, EventsConfig

__all__ = ["check_dataset"]


def check_dataset(config: DatasetConfig, doc: LocatedDocument) -> None:
    """Raise a located :class:`~etl.core.errors.ConfigError` for the first cross-field problem."""
    _unique(doc, ("args",), config.args or [], "argument")
    _unique(doc, ("collections",), [c.id for c in config.collections], "collection id", "id")
    known = [c.id for c in config.collections]
    for collection_id in config.task_config or {}:
        if collection_id not in known:
            close = get_close_matches(collection_id, known, n=1)
            hint = (
                f"; did you mean {close[0]!r}?"
                if close
                else f"; the dataset has: {', '.join(known)}"
            )
            raise doc.error(
                ("task_config", collection_id),
                f"unknown collection {collection_id!r}{hint}",
                key=True,
            )
    for c_index, collection in enumerate(config.collections):
        for s_index, storage in enumerate(collection.asset_storage):
            _check_chunks(
                storage.chunks, doc, ("collections", c_index, "asset_storage", s_index, "chunks")
            )
        if collection.events is not None:
            _check_events(collection, collection.events, doc, ("collections", c_index))


def _check_events(
    collection: CollectionConfig, events: EventsConfig, doc: LocatedDocument, at: FieldPath
) -> None:
    """Events name blobs: the collection needs a ``blob://`` asset storage listing files."""
    if not any(storage.uri.startswith(BLOB_SCHEME) for storage in collection.asset_storage):
        raise doc.error(
            (*at, "events"),
            "storage events name blobs, but no asset_storage of the collection is a blob:// URI",
        )
    _unique(doc, (*at, "events", "types"), [str(kind) for kind in events.types], "type")
    for s_index, storage in enumerate(collection.asset_storage):
        if storage.chunks.options.list_folders:
            raise doc.error(
                (*at, "asset_storage", s_index, "chunks", "options", "list_folders"),
                "a collection with events lists files: storage events name blobs, not folders",
            )


def _check_chunks(chunks: ChunksConfig, doc: LocatedDocument, at: FieldPath) -> None:
    options = chunks.options
    here = (*at, "options")
    low, high = options.min_depth, options.max_depth
    if low is not None and high is not None and low > high:
        raise doc.error(
            (*here, "min_depth"), f"min_depth ({low}) is greater than max_depth ({high})"
        )
    if options.folder_matches_at_depth is not None and options.folder_matches is None:
        raise doc.error(
            (*here, "folder_matches_at_depth"), "folder_matches_at_depth needs folder_matches"
        )
    prefixes = [split.prefix or "" for split in chunks.splits or []]
    _unique(doc, (*at, "splits"), prefixes, "split prefix", "prefix")


def _unique(
    doc: LocatedDocument, at: FieldPath, values: list[str], what: str, key: str | None = None
) -> None:
    """Fail at the second occurrence of a value in the list at ``at``."""
    seen: dict[str, int] = {}
    for index, value in enumerate(values):
        if value in seen:
            first = format_field_path((*at, seen[value]))
            path = (*at, index, key) if key else (*at, index)
            shown = repr(value) if value else "(none)"
            raise doc.error(path, f"duplicate {what} {shown}; first at {first}")
        seen[value] = index
