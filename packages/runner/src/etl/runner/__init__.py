"""etl.runner: run a compiled Argo ``Workflow`` on this machine (the ``local`` profile's runner).

Names are imported on first use, so that the warm task server (``python -m
etl.runner.warm_server``) loads only its own module. To export a name, add it to ``__all__``, the
``TYPE_CHECKING`` block and ``_LAZY``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etl.core.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from etl.runner.engine import Engine
    from etl.runner.local import LocalRunner, local_runner_for
    from etl.runner.manifest import UnsupportedManifestError, WorkflowManifest, parse_workflow
    from etl.runner.records import NodeRecord, RunRecord, RunStore

__all__ = [
    "Engine",
    "LocalRunner",
    "NodeRecord",
    "RunRecord",
    "RunStore",
    "UnsupportedManifestError",
    "WorkflowManifest",
    "local_runner_for",
    "parse_workflow",
]

_LAZY = {
    "Engine": "etl.runner.engine",
    "LocalRunner": "etl.runner.local",
    "local_runner_for": "etl.runner.local",
    "UnsupportedManifestError": "etl.runner.manifest",
    "WorkflowManifest": "etl.runner.manifest",
    "parse_workflow": "etl.runner.manifest",
    "NodeRecord": "etl.runner.records",
    "RunRecord": "etl.runner.records",
    "RunStore": "etl.runner.records",
}

__getattr__ = lazy_getattr(__name__, _LAZY)
