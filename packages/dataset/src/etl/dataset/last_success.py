"""The last-success marker of a collection: ``_last_success.json`` at its chunk storage's root.

The final step of a successful ``process-items`` workflow writes ``{"run_id", "started_at"}``;
``--since last-success`` lists only assets modified since ``started_at`` (the run's start), and
``etl dataset status`` shows it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from etl.core.storage import Storage

__all__ = ["LAST_SUCCESS_FILE", "LastSuccess", "read_last_success_marker"]

LAST_SUCCESS_FILE = "_last_success.json"


@dataclass(frozen=True)
class LastSuccess:
    """The collection's last successful run and the time the next incremental run starts from."""

    run_id: str
    started_at: datetime


def read_last_success_marker(storage: Storage) -> LastSuccess | None:
    """The marker in the chunk storage ``storage``, or ``None`` if no run succeeded yet."""
    if not storage.exists(LAST_SUCCESS_FILE):
        return None
    data = json.loads(storage.read_text(LAST_SUCCESS_FILE))
    started = datetime.fromisoformat(str(data["started_at"]).replace("Z", "+00:00"))
    return LastSuccess(run_id=str(data["run_id"]), started_at=started)
