"""Turns the engine's events into progress a person (or a CI log) can follow.

Items made so far advance the bar (with their rate); chunks and finished pods are noted beside it;
a failed pod or a retry is one plain line on stderr.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from etl.core.counts import counted
from etl.core.progress import ProgressReporter
from etl.runner.records import NodeRecord
from etl.runner.workflow_status import WorkflowPhase

__all__ = ["ProgressEvents"]


class ProgressEvents:
    """An :data:`~etl.runner.run_state.EngineEvent` callback that drives a progress reporter."""

    def __init__(self, reporter: ProgressReporter, stream: TextIO | None = None) -> None:
        self.reporter = reporter
        self.stream = stream or sys.stderr
        self._items = 0
        self._pods = 0

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "progress":
            items = int(data.get("items", 0))
            self.reporter.advance(items - self._items)
            self._items = items
            self._note(int(data.get("chunks", 0)))
        elif kind == "node-finished":
            node: NodeRecord = data["node"]
            if node.type == "Pod":
                self._pods += 1
                self._note(None)
                if node.phase != WorkflowPhase.SUCCEEDED:
                    print(
                        f"{node.display_name}: {node.phase}: {node.message}",
                        file=self.stream,
                        flush=True,
                    )
        elif kind == "node-retry":
            node = data["node"]
            print(
                f"{node.display_name}: attempt {node.attempts} failed ({node.message}); "
                f"retrying in {data['delay']:.0f}s",
                file=self.stream,
                flush=True,
            )

    def _note(self, chunks: int | None) -> None:
        if chunks is not None:
            self._chunks = chunks
        done = counted(getattr(self, "_chunks", 0), "chunk")
        self.reporter.note(f"{done}, {counted(self._pods, 'pod')} done")
