"""The pod-environment table of ``docs/internals.md``, generated from the pod contract.

``scripts/gen_docs`` writes it between two markers (:data:`REFERENCE`) from
:data:`etl.core.pod_contract.POD_ENVIRONMENT`: every variable a pod of an etl workflow sees because
of etl, who sets it and what it holds. ``scripts/gen_docs --check`` fails when it is stale.
"""

from __future__ import annotations

from etl.cli.generated_docs import GeneratedSection
from etl.core.pod_contract import POD_ENVIRONMENT

__all__ = ["REFERENCE", "render_pod_environment"]


def render_pod_environment() -> str:
    """A Markdown table: one row per variable of the pod contract, in its order."""
    rows = [
        f"| `{var.name}` | {var.set_by} | {' '.join(var.value.split())} |"
        for var in POD_ENVIRONMENT
    ]
    return "\n".join(["| variable | set by | value |", "| --- | --- | --- |", *rows])


REFERENCE = GeneratedSection("docs/internals.md", "pod environment", render_pod_environment)
"""The pod-environment table of ``docs/internals.md``."""
