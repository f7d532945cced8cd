"""The chunk set's manifest: the small JSON the fan-out reads, written after every chunk file.

Readers trust only chunk sets with a manifest: a run that failed or was interrupted has none, and a
re-run deletes the old manifest before it writes a single chunk.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from etl.core.errors import ConfigError, StorageError
from etl.core.input_limits import parse_bounded_json
from etl.core.storage.base import Storage
from etl.dataset.layout import RunLayout

__all__ = [
    "MANIFEST_VERSION",
    "PLAIN_LINES_VERSION",
    "ChunkManifest",
    "SourceListing",
    "read_manifest",
    "write_manifest",
]

MANIFEST_VERSION = 2
"""The version written: chunk files hold one JSON string a line, each chunk's digest is recorded."""

PLAIN_LINES_VERSION = 1
"""The version before: chunk files hold one plain URI a line, no digest per chunk. Still read."""

_READABLE_VERSIONS = (PLAIN_LINES_VERSION, MANIFEST_VERSION)


@dataclass(frozen=True)
class SourceListing:
    """What one ``asset_storage`` entry contributed.

    Attributes:
        uri: The asset storage URI that was listed.
        assets: How many assets it gave (after filters and limits).
        parts: How many independent parts its splits cut the listing into.
    """

    uri: str
    assets: int
    parts: int = 1


@dataclass(frozen=True)
class ChunkManifest:
    """A complete chunk set.

    Attributes:
        run_id: The run the chunks belong to.
        collection: The collection id.
        chunk_count: Number of chunk files, named by :meth:`RunLayout.chunk_path` ``0..n-1``.
        asset_count: Number of asset URIs over all chunks.
        chunk_length: Most URIs a chunk holds; every chunk but the last holds exactly this many.
        digest: SHA-256 of every chunk's content in order: equal digests mean equal chunk sets.
        digests_sha256: SHA-256 of the chunk set's ``digests.sha256`` (each chunk file's SHA-256, one
            a line), so a chunk is checked whenever it is read however many chunks there are
            (empty in a version 1 manifest).
        listing_seconds: Wall time of the listing and the chunk writing.
        options: The chunk options used, per asset storage URI, plus ``limit`` and ``since``.
        sources: What each asset storage contributed.
        created: When the manifest was written (UTC, ISO 8601).
        version: The manifest format version.
    """

    run_id: str
    collection: str
    chunk_count: int
    asset_count: int
    chunk_length: int
    digest: str
    listing_seconds: float
    options: dict[str, Any] = field(default_factory=dict)
    digests_sha256: str = ""
    sources: list[SourceListing] = field(default_factory=list)
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    version: int = MANIFEST_VERSION

    def to_json(self) -> str:
        """The manifest as indented JSON."""
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, *, where: str = "manifest") -> ChunkManifest:
        """Parse a manifest written by :meth:`to_json`.

        Raises:
            StorageError: when the text is not a manifest of a known version, or is past the input
                limits (:mod:`etl.core.input_limits`).
        """
        try:
            data = parse_bounded_json(text, where)
            if data.get("version") not in _READABLE_VERSIONS:
                raise StorageError(
                    f"{where}: unknown chunk manifest version {data.get('version')!r}"
                )
            sources = [SourceListing(**source) for source in data.pop("sources", [])]
            return cls(**data, sources=sources)
        except ConfigError as exc:  # past the input limits
            raise StorageError(f"{exc.location}: not a chunk manifest ({exc.message})") from None
        except (ValueError, TypeError, AttributeError) as exc:
            raise StorageError(f"{where}: not a chunk manifest ({exc})") from None


def read_manifest(storage: Storage, layout: RunLayout) -> ChunkManifest | None:
    """The manifest of ``layout``'s chunk set in ``storage``, or ``None`` if there is none."""
    if not storage.exists(layout.manifest_path):
        return None
    return ChunkManifest.from_json(
        storage.read_text(layout.manifest_path), where=storage.uri_of(layout.manifest_path)
    )


def write_manifest(storage: Storage, layout: RunLayout, manifest: ChunkManifest) -> None:
    """Write ``manifest``; call it only once every chunk file is written."""
    storage.write_text(layout.manifest_path, manifest.to_json())
