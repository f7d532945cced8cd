"""The run layout: where a run's chunks, items, results and errors live in a chunk storage.

A run of a command has a ``run_id`` (the workflow name). Every name below is relative to the
collection's ``chunk_storage`` root; nothing else in etl builds these names by hand::

    {run_id}/chunks/manifest.json   written last; readers trust only chunk sets with a manifest
    {run_id}/chunks/00000.txt       one asset URI a line, as a JSON string
    {run_id}/chunks/digests.sha256  each chunk file's SHA-256, one a line
    {run_id}/items/00000.ndjson     items of chunk 00000
    {run_id}/results/00000.json     per-chunk result record
    {run_id}/errors/00000.ndjson    per-asset failures
    {run_id}/logs/POD.log           each pod's output, written by etl-task as it exits
    {run_id}/missing.ndjson         items whose assets are gone, removed or only reported
    {run_id}/finish-collection.json what finish-collection did: the extent, the removals
    {run_id}/processing.json        written by each process-chunks pod as it starts
    {run_id}/mark-success.json      what mark-success did to the last-success marker
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from etl.core.errors import InputError

__all__ = ["RunLayout"]

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_CHUNK_NAME = re.compile(r"^(\d{5,})\.txt$")
_ERRORS_NAME = re.compile(r"^(\d{5,})\.ndjson$")
_RESULT_NAME = re.compile(r"^(\d{5,})\.json$")


@dataclass(frozen=True)
class RunLayout:
    """The names of one run's files, relative to a chunk storage root.

    Attributes:
        run_id: The run's id (the workflow name): letters, digits, ``.``, ``_`` and ``-``.
    """

    run_id: str

    def __post_init__(self) -> None:
        if not _RUN_ID.match(self.run_id) or ".." in self.run_id:
            raise InputError(
                f"invalid run id {self.run_id!r}: use letters, digits, '.', '_' and '-'"
            )

    @property
    def prefix(self) -> str:
        """The folder holding everything of this run: ``{run_id}/``."""
        return f"{self.run_id}/"

    @property
    def chunks_prefix(self) -> str:
        """The folder of the chunk files and their manifest."""
        return f"{self.run_id}/chunks/"

    @property
    def manifest_path(self) -> str:
        """The chunk set's manifest, written after every chunk file."""
        return f"{self.chunks_prefix}manifest.json"

    @property
    def digests_path(self) -> str:
        """Each chunk file's SHA-256 (hex), one a line in chunk order (the manifest records this
        file's own)."""
        return f"{self.chunks_prefix}digests.sha256"

    def chunk_path(self, index: int) -> str:
        """Chunk ``index`` (0-based): ``{run_id}/chunks/00042.txt``."""
        return f"{self.chunks_prefix}{_number(index)}.txt"

    def items_path(self, index: int) -> str:
        """The ndjson items made from chunk ``index``."""
        return f"{self.run_id}/items/{_number(index)}.ndjson"

    @property
    def results_prefix(self) -> str:
        """The folder of the per-chunk result records."""
        return f"{self.run_id}/results/"

    def result_path(self, index: int) -> str:
        """The result record of chunk ``index``."""
        return f"{self.results_prefix}{_number(index)}.json"

    def result_index(self, path: str) -> int | None:
        """The chunk whose result record is at ``path`` (relative), or ``None`` if it is not one."""
        if not path.startswith(self.results_prefix):
            return None
        match = _RESULT_NAME.match(path[len(self.results_prefix) :])
        return int(match.group(1)) if match else None

    @property
    def missing_path(self) -> str:
        """The items whose assets were not listed, one JSON object a line (``finish-collection``)."""
        return f"{self.run_id}/missing.ndjson"

    @property
    def finish_path(self) -> str:
        """What ``finish-collection`` did (its extent update and removals), one JSON object."""
        return f"{self.run_id}/finish-collection.json"

    @property
    def processing_path(self) -> str:
        """Written by every ``process-chunks`` pod as it starts: the run's chunks are to be
        processed (a chunk set of ``create-chunks`` alone has none)."""
        return f"{self.run_id}/processing.json"

    @property
    def marker_path(self) -> str:
        """What ``mark-success`` did to the last-success marker, one JSON object."""
        return f"{self.run_id}/mark-success.json"

    @property
    def errors_prefix(self) -> str:
        """The folder of the per-asset failure lists."""
        return f"{self.run_id}/errors/"

    def errors_path(self, index: int) -> str:
        """The per-asset failures of chunk ``index``."""
        return f"{self.errors_prefix}{_number(index)}.ndjson"

    @property
    def logs_prefix(self) -> str:
        """The folder of the pods' logs."""
        return f"{self.run_id}/logs/"

    def log_path(self, pod: str) -> str:
        """The log of pod ``pod`` (any characters but letters, digits, ``.``, ``_``, ``-`` and
        ``()`` become ``_``)."""
        return f"{self.logs_prefix}{re.sub(r'[^A-Za-z0-9._()-]+', '_', pod)}.log"

    def errors_index(self, path: str) -> int | None:
        """The chunk whose failure list is at ``path`` (relative), or ``None`` if it is not one."""
        if not path.startswith(self.errors_prefix):
            return None
        match = _ERRORS_NAME.match(path[len(self.errors_prefix) :])
        return int(match.group(1)) if match else None

    def chunk_index(self, path: str) -> int | None:
        """The index of the chunk file at ``path`` (relative), or ``None`` if it is not one."""
        if not path.startswith(self.chunks_prefix):
            return None
        match = _CHUNK_NAME.match(path[len(self.chunks_prefix) :])
        return int(match.group(1)) if match else None

    @staticmethod
    def chunks_of_batch(batch_index: int, batch_count: int, chunk_count: int) -> range:
        """The chunk indices batch ``batch_index`` of ``batch_count`` works through: ``j % B == i``."""
        if batch_count < 1 or not 0 <= batch_index < batch_count:
            raise InputError(
                f"batch index {batch_index} is not within a batch count of {batch_count}"
            )
        return range(batch_index, chunk_count, batch_count)


def _number(index: int) -> str:
    if index < 0:
        raise ValueError(f"negative chunk index {index}")
    return f"{index:05d}"
