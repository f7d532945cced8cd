"""create-chunks for one collection of a dataset: its asset storages into its chunk storage.

This is what ``etl-task create-chunks`` (in a pod) and the local runner call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from etl.core.errors import InputError
from etl.core.profiles.model import Profile
from etl.core.storage.base import Storage
from etl.core.storage.opening import open_storage
from etl.core.templating.secret_refs import SecretLookup, find_secret_refs, resolve_secret_refs
from etl.dataset.chunking.chunk_set import (
    DEFAULT_CHUNK_LENGTH,
    ChunkingProgress,
    ChunkSource,
    create_chunk_set,
    stream_assets,
)
from etl.dataset.chunking.concurrency import listing_concurrency
from etl.dataset.chunking.filters import AssetFilter
from etl.dataset.chunking.listing import ModifiedTimes
from etl.dataset.chunking.manifest import ChunkManifest
from etl.dataset.chunking.splits import SplitSpec
from etl.dataset.layout import RunLayout
from etl.dataset.model import AssetStorageConfig, ChunkOptions, ChunksConfig, CollectionConfig

__all__ = [
    "asset_filter_of",
    "chunk_length_of",
    "chunk_storage_of",
    "create_chunks",
    "list_assets",
    "partial_listing",
    "split_specs_of",
]


def create_chunks(
    collection: CollectionConfig,
    *,
    run_id: str,
    profile: Profile | None = None,
    secrets: SecretLookup | None = None,
    limit: int | None = None,
    since: datetime | None = None,
    concurrency: int | None = None,
    progress: ChunkingProgress | None = None,
    owed: Sequence[str] | None = None,
) -> ChunkManifest:
    """List the assets of every ``asset_storage`` entry of ``collection`` into its chunk set.

    Args:
        collection: The collection (templated; secrets may still be references).
        run_id: The run (workflow name) the chunks belong to.
        profile: Storage credentials per account, and the default chunk storage.
        secrets: Resolves ``$<< secrets.NAME >>`` in storage tokens.
        limit: At most this many assets over the collection (``--limit``).
        since: Only assets modified since (``--since``); wins over each entry's ``since``.
        concurrency: Most listings at once per storage account.
        progress: Told about listed assets and written chunks.
        owed: Assets to take besides the listing, each once (earlier runs' outstanding
            failures, for ``--since last-success``); ``None`` when the run takes none (the
            manifest records ``owed`` only for a run that took them all it could).

    Returns:
        The manifest, as written after the last chunk.

    Raises:
        InputError: when the collection has no chunk storage and the profile none either.
        StorageError: when listing or writing fails; no manifest is left behind.
    """
    chunk_storage = chunk_storage_of(collection, profile=profile, secrets=secrets)
    sources = [
        _source(entry, profile=profile, secrets=secrets, since=since)
        for entry in collection.asset_storage
    ]
    return create_chunk_set(
        sources,
        chunk_storage,
        RunLayout(run_id),
        collection=collection.id,
        chunk_length=chunk_length_of(collection),
        limit=limit,
        concurrency=concurrency,
        progress=progress,
        recorded_options={"since": since.astimezone(UTC).isoformat() if since else None},
        owed=owed,
    )


def list_assets(
    collection: CollectionConfig,
    *,
    profile: Profile | None = None,
    secrets: SecretLookup | None = None,
    concurrency: int | None = None,
    on_listed: Callable[[int], None] | None = None,
    modified: ModifiedTimes | None = None,
) -> Iterator[str]:
    """The asset URIs ``create_chunks`` would write for ``collection`` (no ``--limit`` or
    ``--since``), in the same order, listed the same way, without writing anything; with
    ``modified``, listed with properties and their modification times noted there.

    Raises:
        StorageError: when listing fails.
    """
    sources = [
        _source(entry, profile=profile, secrets=secrets, since=None)
        for entry in collection.asset_storage
    ]
    workers = listing_concurrency(concurrency)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="listing") as executor:
        yield from stream_assets(
            sources, executor=executor, workers=workers, on_listed=on_listed, modified=modified
        )


def partial_listing(
    collection: CollectionConfig | None = None,
    *,
    limit: int | None = None,
    since: datetime | str | None = None,
    complete_after: datetime | None = None,
) -> str | None:
    """Why a listing is not of every asset, or ``None`` when it is complete.

    A run's ``--limit`` or ``--since`` (given as ``limit``/``since``) or a ``limit`` or ``since``
    option of one of ``collection``'s ``asset_storage`` entries lists part of the assets. Only a
    complete listing can tell which assets are gone: removals and ``etl dataset plan``'s
    ``removed`` both ask this one function. The last-success marker asks it with
    ``complete_after`` (the marker's time): a ``since`` at or before it still lists every asset
    modified after it (a run's ``since`` overrides the entries' own).
    """
    if limit is not None:
        return f"--limit {limit}"
    if since is not None and _after(since, complete_after):
        return f"--since {since.isoformat() if isinstance(since, datetime) else since}"
    for entry in collection.asset_storage if collection is not None else ():
        options = entry.chunks.options
        if options.limit is not None:
            return f"asset_storage {entry.uri} has limit {options.limit}"
        if since is None and options.since is not None and _after(options.since, complete_after):
            return f"asset_storage {entry.uri} has since {options.since.isoformat()}"
    return None


def _after(since: datetime | str, complete_after: datetime | None) -> bool:
    """Whether a listing since ``since`` can miss assets modified after ``complete_after``
    (``None``: any asset at all)."""
    if complete_after is None:
        return True
    try:
        value = since if isinstance(since, datetime) else datetime.fromisoformat(since)
    except ValueError:  # a word such as last-success: not a time known here
        return True
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware > complete_after


def chunk_storage_of(
    collection: CollectionConfig,
    *,
    profile: Profile | None = None,
    secrets: SecretLookup | None = None,
) -> Storage:
    """The collection's chunk storage, else the profile's ``workflow.state_storage``.

    Raises:
        InputError: when neither is set.
    """
    if collection.chunk_storage is not None:
        return open_storage(
            collection.chunk_storage.uri,
            profile=profile,
            sas_token=_token(collection.chunk_storage.token, secrets),
        )
    if profile is not None and profile.workflow.state_storage:
        return open_storage(
            f"{profile.workflow.state_storage.rstrip('/')}/{collection.id}", profile=profile
        )
    raise InputError(
        f"collection {collection.id!r} has no chunk_storage and the profile sets no "
        "workflow.state_storage"
    )


def chunk_length_of(collection: CollectionConfig) -> int:
    """The chunk length of the collection: its first storage entry's, else the default."""
    for entry in collection.asset_storage:
        if "chunk_length" in entry.chunks.options.model_fields_set:
            return entry.chunks.options.chunk_length
    return DEFAULT_CHUNK_LENGTH


def asset_filter_of(options: ChunkOptions, *, since: datetime | None = None) -> AssetFilter:
    """The filter of one storage entry's chunk options; ``since`` overrides the option's."""
    return AssetFilter(
        name_starts_with=options.name_starts_with,
        extensions=options.extensions,
        ends_with=options.ends_with,
        matches=options.matches,
        match_full_path=options.match_full_path,
        min_depth=options.min_depth,
        max_depth=options.max_depth,
        folder_matches=options.folder_matches,
        folder_matches_at_depth=options.folder_matches_at_depth,
        since=since if since is not None else options.since,
        list_folders=options.list_folders,
    )


def split_specs_of(chunks: ChunksConfig) -> list[SplitSpec]:
    """The splits of one storage entry's chunks config."""
    return [
        SplitSpec(prefix=split.prefix, depth=split.depth, folder_matches=split.folder_matches)
        for split in chunks.splits or ()
    ]


def _source(
    entry: AssetStorageConfig,
    *,
    profile: Profile | None,
    secrets: SecretLookup | None,
    since: datetime | None,
) -> ChunkSource:
    options = entry.chunks.options
    recorded: dict[str, Any] = options.model_dump(mode="json", exclude_defaults=True)
    return ChunkSource(
        storage=open_storage(entry.uri, profile=profile, sas_token=_token(entry.token, secrets)),
        asset_filter=asset_filter_of(options, since=since),
        splits=split_specs_of(entry.chunks),
        limit=options.limit,
        options=recorded,
    )


def _token(token: str | None, secrets: SecretLookup | None) -> str | None:
    if token is None or not find_secret_refs(token):
        return token
    if secrets is None:
        raise InputError(
            f"a storage token refers to secrets ({', '.join(find_secret_refs(token))})"
            " but no secret backend was given"
        )
    return resolve_secret_refs(token, secrets)
