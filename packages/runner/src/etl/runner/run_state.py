"""What the parts of one local run share: its record (and the lock that guards it), where the record
is saved, the stop signal and the callback that hears about the run's progress."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from etl.core.progress import ProgressReport
from etl.runner.records import NodeRecord, RunRecord, RunStore

__all__ = ["EngineEvent", "RunState"]

EngineEvent = Callable[[str, dict[str, Any]], None]
"""Called with ``("progress", counts)``, ``("node-finished", {"node"})`` or
``("node-retry", {"node", "delay"})`` as a run goes."""

UNITLESS = ""
"""The key of a node's counts that name no unit of work."""


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

    def add_progress(self, node: NodeRecord, report: ProgressReport) -> None:
        """Record what ``node``'s pod reported and report the run's new totals.

        A unit's counts replace that unit's earlier ones (a chunk processed again is counted
        once); counts without a unit add up within the current try.
        """
        with self.lock:
            if report.unit is None:
                counts = node.progress.setdefault(UNITLESS, {})
                for key, value in report.counts.items():
                    counts[key] = counts.get(key, 0) + value
            else:
                node.progress[report.unit] = dict(report.counts)
            self.record.count_progress()
            totals = dict(self.record.progress)
        self.on_event("progress", totals)

    def start_try(self, node: NodeRecord) -> None:
        """Forget the unit-less counts of ``node``'s earlier try: only the last try's count."""
        with self.lock:
            if node.progress.pop(UNITLESS, None) is not None:
                self.record.count_progress()
