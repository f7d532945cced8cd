"""The last-success marker of a collection: where incremental (``--since last-success``) runs start.

``_last_success.json`` at the root of the collection's chunk storage holds the run id and start
time of the collection's last successful ``process-items`` run; the final step of a workflow writes
it, and ``create-chunks --since last-success`` reads it (no marker: list everything).
"""

from __future__ import annotations

import json
from datetime import datetime

from etl.core.errors import TaskError
from etl.dataset.last_success import LAST_SUCCESS_FILE, read_last_success_marker
from etl.dataset.model import CollectionConfig
from etl.task.environment import TaskEnvironment

__all__ = ["LAST_SUCCESS_FILE", "read_last_success", "write_last_success"]


def write_last_success(
    collection: CollectionConfig, environment: TaskEnvironment, *, run_id: str, started_at: str
) -> str:
    """Record ``run_id`` (started at ``started_at``) as the last success; return the marker's URI."""
    try:
        datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    except ValueError:
        raise TaskError(f"--started-at {started_at!r} is not an ISO 8601 time") from None
    storage = environment.chunk_storage(collection)
    storage.write_text(LAST_SUCCESS_FILE, json.dumps({"run_id": run_id, "started_at": started_at}))
    return storage.uri_of(LAST_SUCCESS_FILE)


def read_last_success(
    collection: CollectionConfig, environment: TaskEnvironment
) -> datetime | None:
    """The start time of the collection's last successful run, or ``None`` if it never had one."""
    marker = read_last_success_marker(environment.chunk_storage(collection))
    return marker.started_at if marker is not None else None
