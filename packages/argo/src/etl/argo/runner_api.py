"""The one interface the CLI drives workflows through, whichever runner executes them.

Both the Argo Server client (:class:`etl.argo.ArgoClient`) and the local runner (``etl.runner``)
implement :class:`WorkflowRunner`, so ``etl workflow ...`` and ``etl dataset ... --submit`` call
the same methods and print the same shapes (:class:`SubmittedWorkflow`, :class:`WorkflowStatus`,
:class:`LogLine`) whatever the active profile's ``runner`` is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from etl.core.errors import RunError

__all__ = [
    "LogLine",
    "NodeFailure",
    "SubmittedWorkflow",
    "WorkflowNotFoundError",
    "WorkflowPhase",
    "WorkflowRunner",
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
        return data


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


class WorkflowRunner(ABC):
    """Submits compiled Argo ``Workflow`` manifests and follows them to the end.

    Names are workflow names (``metadata.name`` after submission, generated suffix included).
    Every method raises an :class:`etl.core.errors.EtlError`: :class:`WorkflowNotFoundError` for an
    unknown name, :class:`etl.core.errors.RemoteError` when a server refuses or cannot be reached.
    """

    #: The runner's name as printed in ``SubmittedWorkflow.runner`` (``"argo"`` or ``"local"``).
    kind: str

    def prepare(self) -> None:  # noqa: B027 (an optional hook, not an abstract method)
        """Get ready for a submission that is coming (called while it is being compiled).

        The local runner starts its warm task server here; other runners have nothing to do.
        """

    @abstractmethod
    def submit(self, manifest: Mapping[str, Any]) -> SubmittedWorkflow:
        """Start the workflow ``manifest`` describes; the manifest itself is left untouched."""

    @abstractmethod
    def get(self, name: str) -> WorkflowStatus:
        """The current status of workflow ``name``."""

    @abstractmethod
    def list(self, limit: int | None = None) -> Sequence[WorkflowStatus]:
        """The runner's workflows, at most ``limit`` of them."""

    @abstractmethod
    def watch(self, name: str) -> Iterator[WorkflowStatus]:
        """Yield the current status, then each change of phase, ending with the final one."""

    @abstractmethod
    def logs(self, name: str, *, follow: bool = False) -> Iterator[LogLine]:
        """The ``main`` containers' output lines; ``follow`` reads on until the workflow ends."""

    @abstractmethod
    def stop(self, name: str) -> WorkflowStatus:
        """Stop a running workflow (running steps are ended, exit handlers still run)."""

    @abstractmethod
    def retry(self, name: str) -> WorkflowStatus:
        """Run a Failed or Error workflow again from its failed steps."""

    def wait(self, name: str) -> WorkflowStatus:
        """Block until workflow ``name`` ends; its final status, failed steps' messages included."""
        for status in self.watch(name):
            if status.finished:
                return status
        raise RunError(f"workflow {name!r}: the runner stopped reporting before it ended")
