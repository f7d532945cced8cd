"""etl.runner: run workflows — pick a profile's runner, prepare and submit work, the local runner.

:func:`runner_for` picks the runner of a profile: its Argo Server (:class:`ArgoClient`, in
:mod:`etl.runner.argo_server`) or the local runner;
:mod:`etl.runner.work` compiles the work commands and submits them (after :func:`preflight` on the
local runner); :class:`LocalRunner` runs a
compiled Argo ``Workflow`` on this machine (the ``local`` profile's runner); :func:`run_report`
reads what a run did per asset from its chunk storage, whichever runner ran it.

Names are imported on first use, so that the warm task server (``python -m
etl.runner.warm_server``) loads only its own module. To export a name, add it to ``__all__``, the
``TYPE_CHECKING`` block and ``_LAZY`` (``tests/core/test_package_faces.py`` checks that they agree).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etl.core.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from etl.runner.app import DatasetWork, run_dataset_work
    from etl.runner.argo_server.client import ArgoClient, argo_base_url
    from etl.runner.argo_server.status import status_from_workflow
    from etl.runner.engine import Engine
    from etl.runner.local import LocalRunner, local_runner_for
    from etl.runner.preflight import PreflightReport, preflight
    from etl.runner.records import NodeRecord, RunRecord, RunStore
    from etl.runner.run_report import AssetError, CollectionReport, RunReport, run_report
    from etl.runner.select import runner_for, runner_kind
    from etl.runner.work import (
        PreparedWork,
        prepare_collection_ingest,
        prepare_dataset_work,
        prepare_items_ingest,
        schedule_work,
        submit_work,
        upload_work,
    )
    from etl.runner.workflow_manifest import (
        UnsupportedManifestError,
        WorkflowManifest,
        parse_workflow,
    )

__all__ = [
    "ArgoClient",
    "AssetError",
    "CollectionReport",
    "DatasetWork",
    "Engine",
    "LocalRunner",
    "NodeRecord",
    "PreflightReport",
    "PreparedWork",
    "RunRecord",
    "RunReport",
    "RunStore",
    "UnsupportedManifestError",
    "WorkflowManifest",
    "argo_base_url",
    "local_runner_for",
    "parse_workflow",
    "preflight",
    "prepare_collection_ingest",
    "prepare_dataset_work",
    "prepare_items_ingest",
    "run_dataset_work",
    "run_report",
    "runner_for",
    "runner_kind",
    "schedule_work",
    "status_from_workflow",
    "submit_work",
    "upload_work",
]

_LAZY = {
    "DatasetWork": "etl.runner.app",
    "run_dataset_work": "etl.runner.app",
    "ArgoClient": "etl.runner.argo_server.client",
    "argo_base_url": "etl.runner.argo_server.client",
    "status_from_workflow": "etl.runner.argo_server.status",
    "Engine": "etl.runner.engine",
    "LocalRunner": "etl.runner.local",
    "local_runner_for": "etl.runner.local",
    "UnsupportedManifestError": "etl.runner.workflow_manifest",
    "WorkflowManifest": "etl.runner.workflow_manifest",
    "parse_workflow": "etl.runner.workflow_manifest",
    "PreflightReport": "etl.runner.preflight",
    "preflight": "etl.runner.preflight",
    "NodeRecord": "etl.runner.records",
    "RunRecord": "etl.runner.records",
    "RunStore": "etl.runner.records",
    "AssetError": "etl.runner.run_report",
    "CollectionReport": "etl.runner.run_report",
    "RunReport": "etl.runner.run_report",
    "run_report": "etl.runner.run_report",
    "runner_for": "etl.runner.select",
    "runner_kind": "etl.runner.select",
    "PreparedWork": "etl.runner.work",
    "prepare_collection_ingest": "etl.runner.work",
    "prepare_dataset_work": "etl.runner.work",
    "prepare_items_ingest": "etl.runner.work",
    "schedule_work": "etl.runner.work",
    "submit_work": "etl.runner.work",
    "upload_work": "etl.runner.work",
}

__getattr__ = lazy_getattr(__name__, _LAZY)
