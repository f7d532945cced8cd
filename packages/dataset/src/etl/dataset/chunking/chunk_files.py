"""Chunk files: their format, and the one reader every consumer of a chunk set goes through.

A chunk file holds one asset URI a line, each written as a JSON string (``"file:///a/b.json"``).
JSON escapes newlines, carriage returns and every other control character, and with ASCII-only
output (``\\uXXXX`` for anything else) no Unicode line separator can appear either, so any asset
name, however odd, survives the file exactly: one line is one asset, whatever splits lines.

:func:`read_chunk_uris` checks what it reads: the chunk's SHA-256 against the digest the manifest
recorded for it (a chunk edited after create-chunks wrote it is refused), and, given the
collection's asset storages, that every entry lies under one of them (a pod never reads a file
outside the storage it was given). Chunk sets of manifest version 1 (before this format, one plain
URI a line, no digest per chunk) are still read, line by line as they were written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence

from etl.core.errors import StorageError
from etl.core.storage import Storage
from etl.dataset.chunking.manifest import PLAIN_LINES_VERSION, ChunkManifest
from etl.dataset.layout import RunLayout

__all__ = ["chunk_digest", "chunk_line", "chunk_text", "read_chunk_uris"]


def chunk_line(uri: str) -> str:
    """One line of a chunk file: ``uri`` as a JSON string (ASCII only), and a newline."""
    return json.dumps(uri) + "\n"


def chunk_text(uris: Iterable[str]) -> str:
    """The content of a chunk file holding ``uris``, one :func:`chunk_line` each."""
    return "".join(map(chunk_line, uris))


def chunk_digest(data: bytes) -> str:
    """The digest of one chunk file's content, as the manifest records it (SHA-256, hex)."""
    return hashlib.sha256(data).hexdigest()


def read_chunk_uris(
    storage: Storage,
    manifest: ChunkManifest,
    index: int,
    *,
    asset_storages: Sequence[Storage] | None = None,
) -> list[str]:
    """The asset URIs of chunk ``index`` of ``manifest``'s chunk set in ``storage``, in order.

    Args:
        storage: The chunk storage.
        manifest: The chunk set's manifest (:func:`~etl.dataset.chunking.read_manifest`).
        index: The chunk, ``0 <= index < manifest.chunk_count``.
        asset_storages: When given, every URI must lie under one of these storages' roots.

    Raises:
        StorageError: (permanent) naming the chunk file: its content does not match the digest its
            manifest recorded, a line is not a JSON string, or (naming the line and the entry) an
            entry lies outside ``asset_storages``; or the chunk cannot be read.
    """
    path = RunLayout(manifest.run_id).chunk_path(index)
    where = storage.uri_of(path)
    data = storage.read_bytes(path)
    if manifest.version == PLAIN_LINES_VERSION:
        uris = [(number, line) for number, line in _lines(data, where) if line]
    else:
        _check_digest(data, manifest, index, where)
        uris = [(number, _decode(line, where, number)) for number, line in _lines(data, where)]
    if asset_storages is not None:
        for number, uri in uris:
            if not any(asset_storage.contains(uri) for asset_storage in asset_storages):
                roots = ", ".join(asset_storage.uri for asset_storage in asset_storages)
                raise StorageError(
                    f"{where}:{number}: {uri!r} is outside the collection's asset storage "
                    f"({roots}): refused"
                )
    return [uri for _, uri in uris]


def _lines(data: bytes, where: str) -> list[tuple[int, str]]:
    """The file's lines split at ``\\n`` alone, numbered from 1 (the last newline ends a line)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StorageError(f"{where}: not UTF-8 text ({exc.reason})") from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return list(enumerate(lines, start=1))


def _check_digest(data: bytes, manifest: ChunkManifest, index: int, where: str) -> None:
    if index >= len(manifest.chunk_digests):
        raise StorageError(f"{where}: the chunk manifest records no digest for chunk {index}")
    expected, actual = manifest.chunk_digests[index], chunk_digest(data)
    if actual != expected:
        raise StorageError(
            f"{where}: the chunk file does not match its manifest (sha256 {actual[:16]}, the "
            f"manifest says {expected[:16]}): it changed after create-chunks wrote it; start a "
            "new run instead of retrying this one"
        )


def _decode(line: str, where: str, number: int) -> str:
    try:
        value = json.loads(line)
    except ValueError:
        value = None
    if not isinstance(value, str) or not value:
        raise StorageError(f"{where}:{number}: not an asset URI as a JSON string: {line[:80]!r}")
    return value
