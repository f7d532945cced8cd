"""etl.core.runners: the interface every workflow runner implements, and what runners report.

The Argo Server client (``etl.argo``) and the local runner (``etl.runner``) both implement
:class:`WorkflowRunner`, so ``etl workflow ...`` and ``etl dataset ... --submit`` call the same
methods and print the same shapes (:class:`SubmittedWorkflow`, :class:`WorkflowStatus`,
:class:`LogLine`) whatever the active profile's ``runner`` is. No Hera, no CLI: both sides import it.
"""

from __future__ import annotations

from etl.core.runners.interface import WorkflowRunner
from etl.core.runners.status import (
    LogLine,
    NodeFailure,
    RunnerKind,
    SubmittedWorkflow,
    WorkflowNotFoundError,
    WorkflowPhase,
    WorkflowStatus,
)

__all__ = [
    "LogLine",
    "NodeFailure",
    "RunnerKind",
    "SubmittedWorkflow",
    "WorkflowNotFoundError",
    "WorkflowPhase",
    "WorkflowRunner",
    "WorkflowStatus",
]
