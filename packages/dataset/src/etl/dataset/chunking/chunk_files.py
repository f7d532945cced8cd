"""Chunk files: their format, their digests, and the one reader every consumer of a chunk set uses.

A chunk file holds one asset URI a line, each written as a JSON string (``"file:///a/b.json"``).
JSON escapes newlines, carriage returns and every other control character, and with ASCII-only
output (``\\uXXXX`` for anything else) no Unicode line separator can appear either, so any asset
name, however odd, survives the file exactly: one line is one asset, whatever splits lines.

Each chunk's SHA-256 goes, one a line, into the chunk set's ``digests.sha256``, whose own SHA-256
the manifest records: the manifest stays small (it is parsed within :mod:`etl.core.input_limits`)
however many chunks a run has. :func:`read_chunk_uris` checks what it reads: the chunk against its
digest (a chunk edited after create-chunks wrote it is refused), and, given the collection's asset
storages, that every entry lies under one of them (a pod never reads a file outside the storage it
was given). Chunk sets of manifest version 1 (before this format, one plain URI a line, no
digests) are still read, line by line as they were written.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Sequence
from json.encoder import encode_basestring_ascii as _json_string

from etl.core.errors import StorageError
from etl.core.storage.base import Storage
from etl.dataset.chunking.manifest import PLAIN_LINES_VERSION, ChunkManifest
from etl.dataset.layout import RunLayout

__all__ = [
    "chunk_digest",
    "chunk_line",
    "chunk_text",
    "read_chunk_uris",
    "write_chunk_digests",
]

_DIGEST_SETS = 16
"""Chunk sets whose digests a process keeps (a pod reads one; ``etl dataset status`` a few)."""
_digest_sets: dict[tuple[str, str, str], tuple[str, ...]] = {}
_digest_sets_lock = threading.Lock()


def chunk_line(uri: str) -> str:
    """One line of a chunk file: ``uri`` as a JSON string (ASCII only), and a newline."""
    return _json_string(uri) + "\n"


def chunk_text(uris: Iterable[str]) -> str:
    """The content of a chunk file holding ``uris``, one :func:`chunk_line` each."""
    return "".join(map(chunk_line, uris))


def chunk_digest(data: bytes) -> str:
    """The digest of one chunk file's content, as the manifest records it (SHA-256, hex)."""
    return hashlib.sha256(data).hexdigest()


def write_chunk_digests(storage: Storage, layout: RunLayout, digests: Sequence[str]) -> str:
    """Write the chunk set's ``digests.sha256`` (one digest a line); return its own SHA-256."""
    data = "".join(digest + "\n" for digest in digests).encode()
    storage.write_bytes(layout.digests_path, data)
    return chunk_digest(data)


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
        StorageError: (permanent) naming the chunk file: its content does not match the digest
            recorded for it (or ``digests.sha256`` does not match the manifest), a line is not a
            JSON string, or (naming the line and the entry) an entry lies outside
            ``asset_storages``; or the chunk cannot be read.
    """
    path = RunLayout(manifest.run_id).chunk_path(index)
    where = storage.uri_of(path)
    data = storage.read_bytes(path)
    lines = _lines(data, where)
    if manifest.version == PLAIN_LINES_VERSION:
        numbered = [(number, line) for number, line in enumerate(lines, start=1) if line]
        numbers, uris = [number for number, _ in numbered], [line for _, line in numbered]
    else:
        _check_digest(storage, data, manifest, index, where)
        numbers, uris = list(range(1, len(lines) + 1)), _decoded(lines, where)
    if asset_storages is not None:
        for number, uri in zip(numbers, uris, strict=True):
            if not any(asset_storage.contains(uri) for asset_storage in asset_storages):
                roots = ", ".join(asset_storage.uri for asset_storage in asset_storages)
                raise StorageError(
                    f"{where}:{number}: {uri!r} is outside the collection's asset storage "
                    f"({roots}): refused"
                )
    return uris


def _lines(data: bytes, where: str) -> list[str]:
    """The file's lines split at ``\\n`` alone (the last newline ends a line)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StorageError(f"{where}: not UTF-8 text ({exc.reason})") from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _check_digest(
    storage: Storage, data: bytes, manifest: ChunkManifest, index: int, where: str
) -> None:
    digests = _chunk_digests(storage, manifest)
    if index >= len(digests):
        raise StorageError(f"{where}: the chunk set's digests.sha256 records no digest for it")
    expected, actual = digests[index], chunk_digest(data)
    if actual != expected:
        raise StorageError(
            f"{where}: the chunk file does not match the digest create-chunks recorded (sha256 "
            f"{actual[:16]}, recorded {expected[:16]}): it changed after create-chunks wrote it; "
            "start a new run instead of retrying this one"
        )


def _decoded(lines: list[str], where: str) -> list[str]:
    """The asset URI of each line (one JSON string a line, as :func:`chunk_line` writes it),
    decoded in one call and kept when every line is exactly what ``chunk_line`` writes of its
    URI; otherwise decoded (and a line that is no URI named) line by line."""
    try:
        values = json.loads("[" + ",".join(lines) + "]")
    except ValueError:
        values = None
    if (
        isinstance(values, list)
        and len(values) == len(lines)
        and all(
            isinstance(value, str) and value and _json_string(value) == line
            for value, line in zip(values, lines, strict=True)
        )
    ):
        return values
    return [_decode(line, where, number) for number, line in enumerate(lines, start=1)]


def _decode(line: str, where: str, number: int) -> str:
    try:
        value = json.loads(line)
    except ValueError:
        value = None
    if not isinstance(value, str) or not value:
        raise StorageError(f"{where}:{number}: not an asset URI as a JSON string: {line[:80]!r}")
    return value


def _chunk_digests(storage: Storage, manifest: ChunkManifest) -> tuple[str, ...]:
    """The digests of every chunk of ``manifest``'s set, read once per process and checked against
    the manifest."""
    key = (storage.uri, manifest.run_id, manifest.digests_sha256)
    with _digest_sets_lock:
        known = _digest_sets.get(key)
    if known is not None:
        return known
    path = RunLayout(manifest.run_id).digests_path
    data = storage.read_bytes(path)
    if chunk_digest(data) != manifest.digests_sha256:
        raise StorageError(
            f"{storage.uri_of(path)}: does not match its chunk manifest: it changed after "
            "create-chunks wrote it; start a new run instead of retrying this one"
        )
    digests = tuple(data.decode("ascii").split())
    with _digest_sets_lock:
        if len(_digest_sets) >= _DIGEST_SETS:
            _digest_sets.clear()
        _digest_sets[key] = digests
    return digests
