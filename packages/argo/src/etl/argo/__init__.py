"""etl.argo: compile datasets to Argo Workflows with Hera, the code bundle, the Argo Server client."""

from etl.argo.bundle import (
    DATASET_FILE,
    BundleFile,
    CodeBundle,
    bundle_root,
    plan_bundle,
    upload_bundle,
)
from etl.argo.compile import compile_workflow, max_batches
from etl.argo.compile_options import CompileOptions, WorkflowCommand

__all__ = [
    "DATASET_FILE",
    "BundleFile",
    "CodeBundle",
    "CompileOptions",
    "WorkflowCommand",
    "bundle_root",
    "compile_workflow",
    "max_batches",
    "plan_bundle",
    "upload_bundle",
]
