"""The last-success marker of a collection: ``_last_success.json`` at its chunk storage's root.

The final step of a successful ``process-items`` workflow (``mark-success``) writes
``{"run_id", "started_at"}``; ``--since last-success`` lists only assets modified since
``started_at`` (the run's start), and ``etl dataset status`` shows it.

The marker moves only when that is safe (:func:`marker_kept_because`): when the run's listing
covered every asset modified since the current marker, and never backward. ``mark-success`` records
what it did in the run's ``mark-success.json`` (:class:`MarkerOutcome`), which the end of a followed
run and ``etl workflow get`` show. A marker that cannot be read, or says a time later than now, is
a located :class:`~etl.core.errors.ConfigError` naming the way out, never a guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from etl.core.errors import ConfigError, SourceLocation
from etl.core.storage.base import Storage
from etl.dataset.chunking.create import partial_listing
from etl.dataset.chunking.manifest import ChunkManifest
from etl.dataset.layout import RunLayout
from etl.dataset.model import CollectionConfig
from etl.dataset.step_records import read_step_record, write_step_record

__all__ = [
    "LAST_SUCCESS_FILE",
    "LastSuccessMarker",
    "MarkerOutcome",
    "marker_kept_because",
    "read_last_success_marker",
    "read_marker_outcome",
    "write_last_success_marker",
    "write_marker_outcome",
]

LAST_SUCCESS_FILE = "_last_success.json"

_WAY_OUT = (
    "delete the file (the next --since last-success run then lists every asset), or run "
    "process-items without --since and --limit: its success writes a new marker"
)


@dataclass(frozen=True)
class LastSuccessMarker:
    """The collection's last successful run and the time the next incremental run starts from."""

    run_id: str
    started_at: datetime

    def to_json(self) -> dict[str, str]:
        """The marker file's content."""
        return {"run_id": self.run_id, "started_at": self.started_at.isoformat()}


def read_last_success_marker(
    storage: Storage, *, now: datetime | None = None
) -> LastSuccessMarker | None:
    """The marker in the chunk storage ``storage``, or ``None`` if no run succeeded yet.

    Raises:
        ConfigError: the marker is not one (truncated, not JSON, a key missing), or its
            ``started_at`` is later than ``now`` (default: the current time): located at the
            file and field, naming the way out; permanent.
        StorageError: the chunk storage cannot be read.
    """
    if not storage.exists(LAST_SUCCESS_FILE):
        return None
    where = storage.uri_of(LAST_SUCCESS_FILE)
    try:
        data = json.loads(storage.read_bytes(LAST_SUCCESS_FILE).decode())
    except ValueError as exc:  # not UTF-8, not JSON
        raise _marker_error(where, None, f"not a last-success marker ({exc})") from None
    if not isinstance(data, dict):
        raise _marker_error(where, None, "not a last-success marker (not a JSON object)")
    for key in ("run_id", "started_at"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise _marker_error(where, key, "missing or not a string")
    try:
        started = _aware(datetime.fromisoformat(data["started_at"].replace("Z", "+00:00")))
    except ValueError:
        raise _marker_error(
            where, "started_at", f"{data['started_at']!r} is not an ISO 8601 time"
        ) from None
    current = now or datetime.now(UTC)
    if started > current:
        raise _marker_error(
            where,
            "started_at",
            f"{started.isoformat()} is later than now ({current.isoformat(timespec='seconds')}): "
            "every --since last-success run would skip every change",
        )
    return LastSuccessMarker(run_id=data["run_id"], started_at=started)


def write_last_success_marker(storage: Storage, marker: LastSuccessMarker) -> None:
    """Make ``marker`` the collection's last success."""
    storage.write_text(LAST_SUCCESS_FILE, json.dumps(marker.to_json()))


def marker_kept_because(
    collection: CollectionConfig,
    manifest: ChunkManifest | None,
    current: LastSuccessMarker | None,
    started_at: datetime,
) -> str | None:
    """Why a run started at ``started_at`` whose chunk set is ``manifest`` must not become the
    last success over ``current``; ``None`` when it may.

    Only a listing of every asset modified since ``current`` may move the marker (no ``--limit``
    or storage ``limit``; a ``since`` at or before ``current``: the one rule of
    :func:`~etl.dataset.chunking.partial_listing`), and only forward.
    """
    if manifest is None:
        return "the run wrote no chunk set"
    since = manifest.options.get("since")
    partial = partial_listing(
        collection,
        limit=manifest.options.get("limit"),
        since=since if isinstance(since, str) else None,
        complete_after=current.started_at if current is not None else None,
    )
    if partial is not None:
        covered = (
            "every asset" if current is None else f"every asset changed since {current.run_id}"
        )
        return f"the run did not list {covered} ({partial})"
    if current is not None and _aware(started_at) < current.started_at:
        return (
            f"{current.run_id}, started later ({current.started_at.isoformat()}), is the last "
            "success"
        )
    return None


@dataclass(frozen=True)
class MarkerOutcome:
    """What ``mark-success`` did to the collection's marker in one run.

    Attributes:
        collection: The collection id.
        advanced: Whether the marker now names this run.
        marker: The marker after the step (``None``: still none).
        reason: Why it was kept (``None`` when it advanced).
        replaced: The problem of the unreadable marker this run replaced, if any.
    """

    collection: str
    advanced: bool
    marker: LastSuccessMarker | None
    reason: str | None = None
    replaced: str | None = None

    def line(self) -> str:
        """One line for people."""
        if self.advanced and self.marker is not None:
            fixed = f" (replacing an unreadable marker: {self.replaced})" if self.replaced else ""
            moved = f"moved to {self.marker.run_id} (since {self.marker.started_at.isoformat()})"
            return f"{self.collection}: last-success marker {moved}{fixed}"
        at = (
            f"at {self.marker.run_id} (since {self.marker.started_at.isoformat()})"
            if self.marker is not None
            else "(none yet)"
        )
        return f"{self.collection}: last-success marker kept {at}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        """The stable shape: written by the step, shown by ``etl workflow get -o json``."""
        return {
            "collection": self.collection,
            "advanced": self.advanced,
            "marker": self.marker.to_json() if self.marker is not None else None,
            "reason": self.reason,
            "replaced": self.replaced,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MarkerOutcome:
        """Parse :meth:`to_json`'s shape."""
        marker = data["marker"]
        return cls(
            collection=data["collection"],
            advanced=bool(data["advanced"]),
            marker=LastSuccessMarker(marker["run_id"], datetime.fromisoformat(marker["started_at"]))
            if marker
            else None,
            reason=data["reason"],
            replaced=data.get("replaced"),
        )


def write_marker_outcome(storage: Storage, layout: RunLayout, outcome: MarkerOutcome) -> None:
    """Write ``outcome`` as the run's record (a retried step overwrites it)."""
    write_step_record(storage, layout.marker_path, outcome.to_json())


def read_marker_outcome(storage: Storage, layout: RunLayout) -> MarkerOutcome | None:
    """The run's record, or ``None`` when no ``mark-success`` wrote one.

    Raises:
        StorageError: it cannot be read or is not a record.
    """
    return read_step_record(
        storage, layout.marker_path, MarkerOutcome.from_json, "mark-success record"
    )


def _marker_error(where: str, field: str | None, problem: str) -> ConfigError:
    return ConfigError(f"{problem}; {_WAY_OUT}", location=SourceLocation(where), field=field)


def _aware(value: datetime) -> datetime:
    """A time without a zone is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
