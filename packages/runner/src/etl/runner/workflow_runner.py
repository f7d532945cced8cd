"""The one interface workflows are driven through, whichever runner executes them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from etl.core.errors import RunError
from etl.runner.workflow_status import LogLine, SubmittedWorkflow, WorkflowStatus

__all__ = ["WorkflowRunner"]


class WorkflowRunner(ABC):
    """Submits compiled Argo ``Workflow`` manifests and follows them to the end.

    Names are workflow names (``metadata.name`` after submission, generated suffix included).
    Every method raises an :class:`etl.core.errors.EtlError`: a
    :class:`~etl.runner.workflow_status.WorkflowNotFoundError` for an unknown name, a
    :class:`etl.core.errors.RemoteError` when a server refuses or cannot be reached.
    """

    #: The runner's name as printed in ``SubmittedWorkflow.runner`` (``"argo"`` or ``"local"``).
    kind: ClassVar[str]
    #: Whether :meth:`submit` returns only once the workflow has ended (the local runner's does).
    runs_to_completion: ClassVar[bool] = False

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
    def manifest(self, name: str) -> Mapping[str, Any]:
        """The manifest workflow ``name`` runs (its ``spec.templates`` tell what each step does)."""

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

    def wait(
        self, name: str, on_status: Callable[[WorkflowStatus], None] | None = None
    ) -> WorkflowStatus:
        """Block until workflow ``name`` ends and return its final status.

        ``on_status`` sees every status :meth:`watch` yields on the way, the final one included.

        Raises:
            RunError: the runner stopped reporting before the workflow ended.
        """
        for status in self.watch(name):
            if on_status is not None:
                on_status(status)
            if status.finished:
                return status
        raise RunError(f"workflow {name!r}: the runner stopped reporting before it ended")
