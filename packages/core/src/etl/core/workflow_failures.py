"""``{{workflow.failures}}``: the failed nodes of a run, as Argo gives them to its exit handler.

Argo's controller sets the variable, for the exit handler (``spec.onExit``) only, to the JSON list
of every node that ended ``Failed`` or ``Error`` (``displayName``, ``message``, ``templateName``,
``phase``, ``podName``, ``finishedAt``), written as a JSON *string* (``strconv.Quote`` of the
list: a consumer decodes it twice) and ``"null"`` when no node failed
(``workflow/controller/operator.go``, v3.5 to v4). The local runner writes it with
:func:`format_failures`; ``etl-task run-outcome --failures`` reads it with :func:`parse_failures`,
so both runners give a pod the same text. Standard library only: pods import this.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["FailedNode", "format_failures", "parse_failures"]


@dataclass(frozen=True)
class FailedNode:
    """One node of a run that ended ``Failed`` or ``Error``, as Argo describes it."""

    display_name: str
    message: str = ""
    template_name: str = ""
    phase: str = ""
    pod_name: str = ""
    finished_at: str | None = None

    def to_json(self) -> dict[str, str | None]:
        """Argo's field names."""
        return {
            "displayName": self.display_name,
            "message": self.message,
            "templateName": self.template_name,
            "phase": self.phase,
            "podName": self.pod_name,
            "finishedAt": self.finished_at,
        }


def format_failures(nodes: Iterable[FailedNode]) -> str:
    """The variable's text for ``nodes``: the JSON list as a JSON string (``"null"`` for none)."""
    listed = [node.to_json() for node in nodes]
    return json.dumps(json.dumps(listed or None))


def parse_failures(text: str) -> tuple[FailedNode, ...]:
    """The nodes of the variable's ``text`` (also taken: the list not wrapped in a string).

    Raises:
        ValueError: ``text`` is not what Argo writes.
    """
    try:
        value = json.loads(text)
        if isinstance(value, str):
            value = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{text[:80]!r}: not the JSON of {{{{workflow.failures}}}}") from exc
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise ValueError(f"{text[:80]!r}: {{{{workflow.failures}}}} is a list of objects")
    return tuple(
        FailedNode(
            display_name=str(entry.get("displayName") or ""),
            message=str(entry.get("message") or ""),
            template_name=str(entry.get("templateName") or ""),
            phase=str(entry.get("phase") or ""),
            pod_name=str(entry.get("podName") or ""),
            finished_at=str(entry["finishedAt"]) if entry.get("finishedAt") else None,
        )
        for entry in value
    )
