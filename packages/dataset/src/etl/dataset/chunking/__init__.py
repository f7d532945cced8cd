"""Chunking: list a collection's assets at storage speed and cut them into chunk files.

``create_chunks(collection, run_id=...)`` lists every ``asset_storage`` entry (filters, splits,
limits, ``since``), streams the URIs into ``{run_id}/chunks/00000.txt ...`` in the chunk storage
and writes ``manifest.json`` last; ``read_chunk_uris`` is how anything reads a chunk back. See
``docs/chunking.md``.
"""

from etl.dataset.chunking.chunk_files import read_chunk_uris
from etl.dataset.chunking.chunk_set import (
    DEFAULT_CHUNK_LENGTH,
    ChunkingProgress,
    ChunkSource,
    create_chunk_set,
)
from etl.dataset.chunking.concurrency import (
    DEFAULT_CONCURRENCY,
    listing_concurrency,
)
from etl.dataset.chunking.create import (
    asset_filter_of,
    chunk_length_of,
    chunk_storage_of,
    create_chunks,
    list_assets,
    partial_listing,
    split_specs_of,
)
from etl.dataset.chunking.filters import AssetFilter
from etl.dataset.chunking.manifest import (
    ChunkManifest,
    SourceListing,
    read_manifest,
    write_manifest,
)
from etl.dataset.chunking.splits import ListingPart, SplitSpec, plan_parts, splits_list
from etl.dataset.chunking.writer import ChunkSetStats, ChunkWriter

__all__ = [
    "DEFAULT_CHUNK_LENGTH",
    "DEFAULT_CONCURRENCY",
    "AssetFilter",
    "ChunkManifest",
    "ChunkSetStats",
    "ChunkSource",
    "ChunkWriter",
    "ChunkingProgress",
    "ListingPart",
    "SourceListing",
    "SplitSpec",
    "asset_filter_of",
    "chunk_length_of",
    "chunk_storage_of",
    "create_chunk_set",
    "create_chunks",
    "list_assets",
    "listing_concurrency",
    "partial_listing",
    "plan_parts",
    "read_chunk_uris",
    "read_manifest",
    "split_specs_of",
    "splits_list",
    "write_manifest",
]
