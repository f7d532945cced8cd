"""The last-success marker of a collection: where incremental (``--since last-success``) runs start.

``_last_success.json`` at the root of the collection's chunk storage holds the run id and start
time of the collection's last successful ``process-items`` run. The final step of a workflow
(``mark-success``) moves it to the run when :func:`etl.dataset.last_success.marker_kept_because`
allows, and records what it did in the run's ``mark-success.json``; ``create-chunks --since
last-success`` reads it (no marker: list everything).
"""

from __future__ import annotations

from datetime import UTC, datetime

from etl.core.errors import ConfigError, TaskError
from etl.dataset.chunking.manifest import read_manifest
from etl.dataset.last_success import (
    LAST_SUCCESS_FILE,
    LastSuccessMarker,
    MarkerOutcome,
    marker_kept_because,
    read_last_success_marker,
    write_last_success_marker,
    write_marker_outcome,
)
from etl.dataset.layout import RunLayout
from etl.dataset.model import CollectionConfig
from etl.task.environment import TaskEnvironment

__all__ = ["LAST_SUCCESS_FILE", "mark_success", "read_last_success"]


def mark_success(
    collection: CollectionConfig, environment: TaskEnvironment, *, run_id: str, started_at: str
) -> MarkerOutcome:
    """Make ``run_id`` (started at ``started_at``) the last success if its listing allows, and
    record what was done in the run's ``mark-success.json``.

    A marker that cannot be read (or is later than now) is replaced only by a run that listed
    every asset; any other run keeps it.

    Raises:
        TaskError: ``started_at`` is not a time.
    """
    try:
        started = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    except ValueError:
        raise TaskError(f"--started-at {started_at!r} is not an ISO 8601 time") from None
    started = started if started.tzinfo else started.replace(tzinfo=UTC)
    storage = environment.chunk_storage(collection)
    layout = RunLayout(run_id)
    unreadable: str | None = None
    try:
        current = read_last_success_marker(storage, now=max(datetime.now(UTC), started))
    except ConfigError as exc:
        current, unreadable = None, str(exc)
    reason = marker_kept_because(collection, read_manifest(storage, layout), current, started)
    if reason is None:
        marker = LastSuccessMarker(run_id, started)
        write_last_success_marker(storage, marker)
        outcome = MarkerOutcome(collection.id, True, marker, replaced=unreadable)
    else:
        reason = f"{reason}; the marker is unreadable: {unreadable}" if unreadable else reason
        outcome = MarkerOutcome(collection.id, False, current, reason)
    write_marker_outcome(storage, layout, outcome)
    return outcome


def read_last_success(
    collection: CollectionConfig, environment: TaskEnvironment
) -> datetime | None:
    """The start time of the collection's last successful run, or ``None`` if it never had one.

    Raises:
        ConfigError: the marker is unreadable or later than now (permanent, located).
    """
    marker = read_last_success_marker(environment.chunk_storage(collection))
    return marker.started_at if marker is not None else None
