"""The chunk writer: cuts a stream of asset URIs into chunk files as it arrives.

Each file is written in the format of :mod:`etl.dataset.chunking.chunk_files` (one JSON string a
line), and its digest is kept for the chunk set's ``digests.sha256``.

Memory holds one chunk being filled plus at most ``max_pending`` chunks being uploaded, so it does
not grow with the number of assets. Uploads run on a background thread so the listing never waits
for storage unless uploads fall ``max_pending`` chunks behind.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType

from etl.core.storage.base import Storage
from etl.dataset.chunking.chunk_files import chunk_digest, chunk_text
from etl.dataset.layout import RunLayout

__all__ = ["ChunkSetStats", "ChunkWriter"]


@dataclass(frozen=True)
class ChunkSetStats:
    """What a :class:`ChunkWriter` wrote.

    Attributes:
        chunk_count: Number of chunk files.
        asset_count: Number of URIs over all chunks.
        digest: SHA-256 of every chunk's content, in chunk order.
        chunk_digests: SHA-256 of each chunk's content, in chunk order.
    """

    chunk_count: int
    asset_count: int
    digest: str
    chunk_digests: tuple[str, ...] = ()


class ChunkWriter:
    """Writes URIs into ``layout``'s chunk files, ``chunk_length`` lines each.

    Use as a context manager, :meth:`add` or :meth:`extend` URIs, then :meth:`finish`. Leaving the
    block without finishing (an error) waits for uploads in flight and writes nothing more.

    Args:
        storage: The chunk storage.
        layout: The run layout naming the chunk files.
        chunk_length: URIs per chunk (the last chunk may hold fewer).
        on_chunk: Called with the chunk index after each chunk file is written.
        max_pending: Chunks that may wait for upload before :meth:`add` blocks.
    """

    def __init__(
        self,
        storage: Storage,
        layout: RunLayout,
        chunk_length: int,
        *,
        on_chunk: Callable[[int], None] | None = None,
        max_pending: int = 2,
    ) -> None:
        if chunk_length < 1:
            raise ValueError(f"chunk_length must be at least 1, not {chunk_length}")
        self._storage = storage
        self._layout = layout
        self._chunk_length = chunk_length
        self._on_chunk = on_chunk
        self._max_pending = max_pending
        self._lines: list[str] = []
        self._chunk_count = 0
        self._asset_count = 0
        self._digest = hashlib.sha256()
        self._chunk_digests: list[str] = []
        self._pending: deque[Future[None]] = deque()
        self._uploader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chunk-upload")

    def __enter__(self) -> ChunkWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._uploader.shutdown(wait=True, cancel_futures=exc is not None)

    @property
    def asset_count(self) -> int:
        """URIs added so far."""
        return self._asset_count + len(self._lines)

    def add(self, uri: str) -> None:
        """Append one asset URI (any characters)."""
        self._lines.append(uri)
        if len(self._lines) >= self._chunk_length:
            self._flush()

    def extend(self, uris: Iterable[str]) -> None:
        """Append every URI of ``uris``, streaming."""
        for uri in uris:
            self.add(uri)

    def finish(self) -> ChunkSetStats:
        """Write the last, partial chunk and wait for every upload.

        Raises:
            StorageError: when an upload failed.
        """
        if self._lines:
            self._flush()
        while self._pending:
            self._pending.popleft().result()
        return ChunkSetStats(
            self._chunk_count,
            self._asset_count,
            self._digest.hexdigest(),
            tuple(self._chunk_digests),
        )

    def _flush(self) -> None:
        data = chunk_text(self._lines).encode()
        self._digest.update(data)
        self._chunk_digests.append(chunk_digest(data))
        self._asset_count += len(self._lines)
        self._lines = []
        index = self._chunk_count
        self._chunk_count += 1
        while self._pending and (
            self._pending[0].done() or len(self._pending) >= self._max_pending
        ):
            self._pending.popleft().result()
        self._pending.append(self._uploader.submit(self._upload, index, data))

    def _upload(self, index: int, data: bytes) -> None:
        self._storage.write_bytes(self._layout.chunk_path(index), data)
        if self._on_chunk is not None:
            self._on_chunk(index)
