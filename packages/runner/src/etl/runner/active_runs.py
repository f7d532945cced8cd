"""A dataset's runs that have not ended yet, on a profile's runner (``etl dataset status``).

Workflows are found by the labels the compiler gives them: ``etl.dev/dataset`` (every dataset
workflow) and ``etl.dev/collection`` (a workflow of one collection only).
"""

from __future__ import annotations

from dataclasses import dataclass

from etl.core.pod_contract import COLLECTION_LABEL, DATASET_LABEL, label_value
from etl.runner.workflow_runner import WorkflowRunner
from etl.runner.workflow_status import WorkflowNotFoundError, WorkflowStatus

__all__ = ["ActiveRun", "active_runs"]


@dataclass(frozen=True)
class ActiveRun:
    """A running (or pending) workflow of the dataset."""

    status: WorkflowStatus
    collection_label: str | None
    """Its ``etl.dev/collection`` label: ``None`` when it runs several collections."""

    def covers(self, collection_id: str) -> bool:
        """Whether the run may be working on ``collection_id``."""
        return self.collection_label in (None, label_value(collection_id))


def active_runs(runner: WorkflowRunner, dataset_id: str) -> list[ActiveRun]:
    """The runner's unfinished workflows labelled with ``dataset_id``, as the runner lists them.

    Raises:
        RemoteError: the runner cannot be reached.
    """
    wanted = label_value(dataset_id)
    found = []
    for status in runner.list():
        if status.finished:
            continue
        try:
            metadata = runner.manifest(status.name).get("metadata") or {}
        except WorkflowNotFoundError:  # it went away since it was listed
            continue
        labels = metadata.get("labels") or {}
        if labels.get(DATASET_LABEL) == wanted:
            found.append(ActiveRun(status, labels.get(COLLECTION_LABEL)))
    return found
