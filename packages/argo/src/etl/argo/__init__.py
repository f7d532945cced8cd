"""etl.argo: compiling datasets to Argo Workflows (Hera), the code bundle, the Argo Server client.

Two concerns, two subpackages: :mod:`etl.argo.compiling` (manifests built from Hera's models) and
:mod:`etl.argo.server` (the Argo Server client). Beside them, the light modules the CLI and the
runners use without Hera: :mod:`~etl.argo.options` (the run request), :mod:`~etl.argo.bundle` and
:mod:`~etl.argo.ingest_sources` (the files the pods read), :mod:`~etl.argo.manifest_format`.

Every name is imported on first use, so that hera and requests load only when a command needs them
(``etl --help`` never does). The runner interface the client implements is
:mod:`etl.core.runners`. To export a name, add it to ``__all__``, the
``TYPE_CHECKING`` block and ``_LAZY`` (``tests/core/test_package_faces.py`` checks that they agree).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etl.core.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from etl.argo.bundle import BundleFile, CodeBundle, bundle_root, plan_bundle, upload_bundle
    from etl.argo.compiling import (
        compile_ingest_collection,
        compile_ingest_items,
        compile_workflow,
        max_batches,
    )
    from etl.argo.ingest_sources import (
        IngestSource,
        SourceList,
        plan_source_list,
        plan_sources,
        upload_source_list,
        upload_sources,
    )
    from etl.argo.manifest_format import ManifestFormat, manifest_text
    from etl.argo.options import RunRequest, WorkflowCommand
    from etl.argo.server.client import ArgoClient, argo_base_url
    from etl.argo.server.status import status_from_workflow

__all__ = [
    "ArgoClient",
    "BundleFile",
    "CodeBundle",
    "IngestSource",
    "ManifestFormat",
    "RunRequest",
    "SourceList",
    "WorkflowCommand",
    "argo_base_url",
    "bundle_root",
    "compile_ingest_collection",
    "compile_ingest_items",
    "compile_workflow",
    "manifest_text",
    "max_batches",
    "plan_bundle",
    "plan_source_list",
    "plan_sources",
    "status_from_workflow",
    "upload_bundle",
    "upload_source_list",
    "upload_sources",
]

_LAZY = {
    "BundleFile": "etl.argo.bundle",
    "CodeBundle": "etl.argo.bundle",
    "bundle_root": "etl.argo.bundle",
    "plan_bundle": "etl.argo.bundle",
    "upload_bundle": "etl.argo.bundle",
    "compile_workflow": "etl.argo.compiling",
    "max_batches": "etl.argo.compiling",
    "compile_ingest_collection": "etl.argo.compiling",
    "compile_ingest_items": "etl.argo.compiling",
    "IngestSource": "etl.argo.ingest_sources",
    "SourceList": "etl.argo.ingest_sources",
    "plan_source_list": "etl.argo.ingest_sources",
    "plan_sources": "etl.argo.ingest_sources",
    "upload_source_list": "etl.argo.ingest_sources",
    "upload_sources": "etl.argo.ingest_sources",
    "RunRequest": "etl.argo.options",
    "WorkflowCommand": "etl.argo.options",
    "ManifestFormat": "etl.argo.manifest_format",
    "manifest_text": "etl.argo.manifest_format",
    "ArgoClient": "etl.argo.server.client",
    "argo_base_url": "etl.argo.server.client",
    "status_from_workflow": "etl.argo.server.status",
}


__getattr__ = lazy_getattr(__name__, _LAZY)
