"""Read a :class:`~etl.runner.workflow_status.WorkflowStatus` out of an Argo ``Workflow`` object (JSON)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from etl.runner.workflow_status import NodeFailure, WorkflowPhase, WorkflowStatus

__all__ = ["status_from_workflow"]

# Node types that only group other nodes: their failure is "child X failed", never the cause.
_GROUP_NODE_TYPES = frozenset({"DAG", "Steps", "StepGroup", "TaskGroup", "Retry"})
_FAILED_PHASES = frozenset({WorkflowPhase.FAILED.value, WorkflowPhase.ERROR.value})


def status_from_workflow(workflow: Mapping[str, Any], *, namespace: str = "") -> WorkflowStatus:
    """The status of an Argo ``Workflow`` as the Argo Server returns it.

    Args:
        workflow: the workflow object (``metadata``, ``spec``, ``status``) in Argo's JSON form.
        namespace: the namespace to report when the object's metadata names none.

    Returns:
        Its phase, timing, progress and the failed leaf steps (pods) with their messages,
        in the order they started.
    """
    metadata: Mapping[str, Any] = workflow.get("metadata") or {}
    status: Mapping[str, Any] = workflow.get("status") or {}
    return WorkflowStatus(
        name=str(metadata.get("name", "")),
        namespace=str(metadata.get("namespace") or namespace),
        phase=WorkflowPhase.parse(status.get("phase")),
        message=_one_line(status.get("message")),
        started_at=status.get("startedAt"),
        finished_at=status.get("finishedAt"),
        progress=status.get("progress"),
        failed_nodes=_failed_nodes(status.get("nodes") or {}),
        labels={str(k): str(v) for k, v in (metadata.get("labels") or {}).items()},
    )


def _failed_nodes(nodes: Mapping[str, Mapping[str, Any]]) -> tuple[NodeFailure, ...]:
    failed = [
        node
        for node in nodes.values()
        if node.get("phase") in _FAILED_PHASES and node.get("type") not in _GROUP_NODE_TYPES
    ]
    failed.sort(key=lambda node: (node.get("startedAt") or "", node.get("name") or ""))
    return tuple(
        NodeFailure(
            node=str(node.get("displayName") or node.get("name") or node.get("id", "")),
            phase=str(node["phase"]),
            message=_one_line(node.get("message")),
        )
        for node in failed
    )


def _one_line(text: object) -> str:
    return " ".join(str(text).split()) if text else ""
