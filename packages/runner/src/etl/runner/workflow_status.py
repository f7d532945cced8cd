"""What every runner reports: phases, statuses, submitted workflows, log lines, a missing workflow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from etl.core.errors import RunError

__all__ = [
    "LogLine",
    "NodeFailure",
    "SubmittedWorkflow",
    "WorkflowNotFoundError",
    "WorkflowPhase",
    "WorkflowStatus",
]


class WorkflowPhase(StrEnum):
    """Argo's workflow phases; a workflow that has not been picked up yet is ``Pending``."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    ERROR = "Error"

    @property
    def finished(self) -> bool:
        """Whether the workflow has ended (Succeeded, Failed or Error)."""
        return self in (WorkflowPhase.SUCCEEDED, WorkflowPhase.FAILED, WorkflowPhase.ERROR)

    @classmethod
    def parse(cls, value: str | None) -> WorkflowPhase:
        """The phase named ``value``; an empty or unknown phase counts as ``Pending``."""
        try:
            return cls(value or cls.PENDING.value)
        except ValueError:
            return cls.PENDING


class WorkflowNotFoundError(RunError):
    """The runner has no workflow of that name."""

    def __init__(self, name: str, where: str) -> None:
        self.name = name
        super().__init__(f"workflow {name!r} not found in {where}")


@dataclass(frozen=True)
class NodeFailure:
    """One failed step (pod) of a workflow and what it said."""

    node: str
    phase: str
    message: str

    def __str__(self) -> str:
        return f"{self.node}: {self.message}" if self.message else f"{self.node}: {self.phase}"


@dataclass(frozen=True)
class WorkflowStatus:
    """Where a workflow stands: phase, timing and, once it failed, which steps failed and why."""

    name: str
    namespace: str
    phase: WorkflowPhase
    message: str = ""
    started_at: str | None = None
    finished_at: str | None = None
    progress: str | None = None
    failed_nodes: tuple[NodeFailure, ...] = field(default_factory=tuple)
    labels: Mapping[str, str] = field(default_factory=dict)
    """The workflow's labels (``etl.dev/dataset``, ``etl.dev/command``, ...)."""

    @property
    def finished(self) -> bool:
        """Whether the workflow has ended."""
        return self.phase.finished

    @property
    def succeeded(self) -> bool:
        """Whether the workflow ended Succeeded."""
        return self.phase is WorkflowPhase.SUCCEEDED

    def failure_messages(self) -> list[str]:
        """One line per failed step; the workflow's own message when no step says more."""
        lines = [str(node) for node in self.failed_nodes]
        if not lines and self.message and not self.succeeded:
            lines.append(self.message)
        return lines

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape ``etl workflow get/list -o json`` print."""
        data = asdict(self)
        data["phase"] = self.phase.value
        data["failed_nodes"] = [asdict(node) for node in self.failed_nodes]
        data["labels"] = dict(self.labels)
        return data

    def duration_seconds(self, now: datetime | None = None) -> float | None:
        """How long it ran: from its start to its end, or to ``now`` while it runs; ``None``
        before it started."""
        start = _moment(self.started_at)
        if start is None:
            return None
        end = _moment(self.finished_at) or (now or datetime.now(UTC))
        return max(0.0, (end - start).total_seconds())


@dataclass(frozen=True)
class SubmittedWorkflow:
    """What a runner says about a workflow it just accepted."""

    name: str
    namespace: str
    runner: str
    status: str
    url: str | None

    def to_json(self) -> dict[str, Any]:
        """The stable ``-o json`` shape: ``{"name", "namespace", "runner", "status", "url"}``."""
        return asdict(self)


@dataclass(frozen=True)
class LogLine:
    """One line a workflow's pod wrote to its ``main`` container's output."""

    pod: str
    content: str


def _moment(text: str | None) -> datetime | None:
    """An Argo time (``2024-05-01T12:00:00Z``) as an aware datetime; ``None`` if absent or unreadable."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
