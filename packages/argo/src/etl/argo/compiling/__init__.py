"""etl.argo.compiling: datasets and ``etl ingest`` commands compiled to Argo manifests with Hera.

Importing this package loads Hera's generated models (``hera.workflows.models``) without the rest
of Hera (:mod:`etl.argo._hera_models`), so its modules import the models they build by name, typed.
Nothing outside the compiler imports it: ``etl --help`` and the pods never load Hera.

- :mod:`~etl.argo.compiling.workflow`: a dataset's ``Workflow`` or ``CronWorkflow``;
- :mod:`~etl.argo.compiling.dataset_dags`: its templates, a DAG per collection;
- :mod:`~etl.argo.compiling.cluster_storage`: local paths in its storage refused on Argo;
- :mod:`~etl.argo.compiling.ingest`: the one-step ``etl ingest`` workflows;
- :mod:`~etl.argo.compiling.spec`: what every workflow shares (spec, metadata, image, dict form);
- :mod:`~etl.argo.compiling.containers`, :mod:`~etl.argo.compiling.pod_environment`,
  :mod:`~etl.argo.compiling.task_command`, :mod:`~etl.argo.compiling.names`: container templates,
  their environment, their ``etl-task`` command lines, and Kubernetes-safe names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etl.argo import _hera_models
from etl.core.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from etl.argo.compiling.dataset_dags import max_batches
    from etl.argo.compiling.ingest import compile_ingest_collection, compile_ingest_items
    from etl.argo.compiling.workflow import compile_workflow

_hera_models.hera_models()

__all__ = ["compile_ingest_collection", "compile_ingest_items", "compile_workflow", "max_batches"]

_LAZY = {
    "max_batches": "etl.argo.compiling.dataset_dags",
    "compile_ingest_collection": "etl.argo.compiling.ingest",
    "compile_ingest_items": "etl.argo.compiling.ingest",
    "compile_workflow": "etl.argo.compiling.workflow",
}

__getattr__ = lazy_getattr(__name__, _LAZY)
