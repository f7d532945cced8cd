"""The pod names Argo gives a workflow's nodes, read out of the ``Workflow`` object (JSON).

A pod's kept log is named after its node id (``ARGO_NODE_ID``, :mod:`etl.task.pod_log`), while the
Argo Server's log stream names pods; :func:`pod_names` maps one to the other as the controller
names pods (``workflow/util/pod_name.go`` ``GeneratePodName``, v3.5 to v4, and the UI's
``getPodName``):

- ``v1`` (the workflow's ``workflows.argoproj.io/pod-name-format`` annotation): the node id;
- ``v2``, the default: the workflow's name when the node is the workflow itself, else
  ``{workflow}-{template}-{FNV-1a 32 of the node's name}``, the prefix cut to 242 characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["POD_NAME_FORMAT_ANNOTATION", "pod_names"]

POD_NAME_FORMAT_ANNOTATION = "workflows.argoproj.io/pod-name-format"
_MAX_PREFIX = 253 - 10 - 1
"""Kubernetes' longest name, less the hash's 10 digits and the ``-`` before them."""
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


def pod_names(workflow: Mapping[str, Any]) -> dict[str, str]:
    """Node id → pod name for every ``Pod`` node of ``workflow``; empty without ``status.nodes``."""
    metadata: Mapping[str, Any] = workflow.get("metadata") or {}
    nodes: Mapping[str, Any] = (workflow.get("status") or {}).get("nodes") or {}
    v1 = (metadata.get("annotations") or {}).get(POD_NAME_FORMAT_ANNOTATION) == "v1"
    name = str(metadata.get("name", ""))
    return {
        node_id: node_id if v1 else _v2_pod_name(name, node)
        for node_id, node in nodes.items()
        if node.get("type") == "Pod"
    }


def _v2_pod_name(workflow_name: str, node: Mapping[str, Any]) -> str:
    node_name = str(node.get("name", ""))
    if node_name == workflow_name:
        return workflow_name
    template = node.get("templateName") or (node.get("templateRef") or {}).get("template")
    prefix = f"{workflow_name}-{template}" if template else workflow_name
    return f"{prefix[:_MAX_PREFIX]}-{_fnv1a_32(node_name)}"


def _fnv1a_32(text: str) -> int:
    value = _FNV_OFFSET
    for byte in text.encode():
        value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return value
