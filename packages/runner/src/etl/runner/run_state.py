"""What the parts of one local run share: its record (and the lock that guards it), where the record
is saved, the stop signal and the callback that hears about the run's progress."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from etl.runner.records import NodeRecord, RunRecord, RunStore

__all__ = ["EngineEvent", "RunState"]

EngineEvent = Callable[[str, dict[str, Any]], None]
"""Called with ``("progress", counts)``, ``("node-finished", {"node"})`` or
``("node-retry", {"node", "delay"})`` as a run goes."""


class RunState:
    """One run's record, saved after every change, and whether the run has been stopped."""

    def __init__(self, record: RunRecord, store: RunStore, on_event: EngineEvent | None) -> None:
        self.record = record
        self.store = store
        self.on_event: EngineEvent = on_event or (lambda kind, data: None)
        self.lock = threading.RLock()
        self.stopped = threading.Event()

    def save(self) -> None:
        """Write the record as it is now."""
        with self.lock:
            self.store.save(self.record)

    def add_node(self, node: NodeRecord) -> None:
        """Put ``node`` in the record (replacing an earlier node of the same id)."""
        with self.lock:
            self.record.nodes[node.id] = node

    def add_progress(self, counts: Mapping[str, object]) -> None:
        """Add a pod's progress counts to the run's totals and report the new totals."""
        with self.lock:
            for key, value in counts.items():
                if isinstance(value, int):
                    self.record.progress[key] = self.record.progress.get(key, 0) + value
        self.on_event("progress", dict(self.record.progress))
