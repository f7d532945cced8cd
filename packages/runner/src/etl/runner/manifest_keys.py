"""Which keys of an Argo manifest the local runner executes, and which only place pods on a cluster.

:func:`check_keys` sorts every key of a manifest object: executed, about cluster placement
(reported as not applicable on one machine), or refused with :class:`UnsupportedManifestError`.
"""

from __future__ import annotations

from typing import Any

from etl.core.errors import InputError

__all__ = ["EXECUTED_KEYS", "PLACEMENT_KEYS", "UnsupportedManifestError", "check_keys"]


class UnsupportedManifestError(InputError):
    """The manifest uses an Argo feature the local runner cannot honour."""


# Keys that only place or dress pods on a cluster: accepted and reported as not applicable locally.
PLACEMENT_KEYS = {
    "spec": {
        "serviceAccountName",
        "podGC",
        "ttlStrategy",
        "nodeSelector",
        "tolerations",
        "affinity",
        "podMetadata",
        "workflowMetadata",
        "securityContext",
        "priorityClassName",
        "imagePullSecrets",
        "podDisruptionBudget",
        "archiveLogs",
        "hostNetwork",
        "dnsPolicy",
        "automountServiceAccountToken",
        "executor",
        "podPriorityClassName",
        "schedulerName",
    },
    "template": {
        "metadata",
        "nodeSelector",
        "tolerations",
        "affinity",
        "serviceAccountName",
        "securityContext",
        "priorityClassName",
        "podSpecPatch",
        "automountServiceAccountToken",
        "schedulerName",
        "archiveLocation",
        "executor",
    },
    "container": {
        "image",
        "imagePullPolicy",
        "resources",
        "securityContext",
        "name",
        "ports",
        "livenessProbe",
        "readinessProbe",
        "startupProbe",
        "terminationMessagePolicy",
    },
}
EXECUTED_KEYS = {
    "spec": {
        "entrypoint",
        "onExit",
        "arguments",
        "templates",
        "parallelism",
        "activeDeadlineSeconds",
    },
    "template": {
        "name",
        "inputs",
        "outputs",
        "container",
        "dag",
        "retryStrategy",
        "parallelism",
        "synchronization",
        "activeDeadlineSeconds",
        "timeout",
    },
    "container": {"command", "args", "env", "workingDir"},
    "task": {
        "name",
        "template",
        "arguments",
        "dependencies",
        "depends",
        "withSequence",
        "withItems",
        "withParam",
    },
}


def check_keys(obj: dict[str, Any], kind: str, where: str, notes: list[str]) -> None:
    """Append ``obj``'s placement keys to ``notes``; refuse a key that is neither executed nor placement."""
    for key in obj:
        if key in EXECUTED_KEYS[kind]:
            continue
        if key in PLACEMENT_KEYS.get(kind, set()):
            notes.append(f"{where}.{key}")
            continue
        raise UnsupportedManifestError(f"{where}.{key}: not supported by the local runner")
