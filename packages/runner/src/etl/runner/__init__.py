"""etl.runner: run a compiled Argo ``Workflow`` on this machine (the ``local`` profile's runner)."""

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
