"""etl.argo: compiling datasets to Argo Workflows (Hera), the code bundle, the Argo Server client.

Every name is imported on first use, so that hera and requests load only when a command needs them
(``etl --help`` never does). The runner interface the client implements is
:mod:`etl.core.runners`. To export a name, add it to ``__all__``, the
``TYPE_CHECKING`` block and ``_LAZY`` (``tests/test_package_faces.py`` checks that they agree).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etl.core.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from etl.argo.bundle import BundleFile, CodeBundle, bundle_root, plan_bundle, upload_bundle
    from etl.argo.compile import compile_workflow, max_batches
    from etl.argo.compile_ingest import compile_ingest_collection, compile_ingest_items
    from etl.argo.compile_options import CompileOptions, WorkflowCommand
    from etl.argo.compile_output import ManifestFormat, manifest_text
    from etl.argo.ingest_sources import IngestSource, plan_sources, upload_sources
    from etl.argo.server.client import ArgoClient, argo_base_url
    from etl.argo.server.status import status_from_workflow

__all__ = [
    "ArgoClient",
    "BundleFile",
    "CodeBundle",
    "CompileOptions",
    "IngestSource",
    "ManifestFormat",
    "WorkflowCommand",
    "argo_base_url",
    "bundle_root",
    "compile_ingest_collection",
    "compile_ingest_items",
    "compile_workflow",
    "manifest_text",
    "max_batches",
    "plan_bundle",
    "plan_sources",
    "status_from_workflow",
    "upload_bundle",
    "upload_sources",
]

_LAZY = {
    "BundleFile": "etl.argo.bundle",
    "CodeBundle": "etl.argo.bundle",
    "bundle_root": "etl.argo.bundle",
    "plan_bundle": "etl.argo.bundle",
    "upload_bundle": "etl.argo.bundle",
    "compile_workflow": "etl.argo.compile",
    "max_batches": "etl.argo.compile",
    "compile_ingest_collection": "etl.argo.compile_ingest",
    "compile_ingest_items": "etl.argo.compile_ingest",
    "IngestSource": "etl.argo.ingest_sources",
    "plan_sources": "etl.argo.ingest_sources",
    "upload_sources": "etl.argo.ingest_sources",
    "CompileOptions": "etl.argo.compile_options",
    "WorkflowCommand": "etl.argo.compile_options",
    "ManifestFormat": "etl.argo.compile_output",
    "manifest_text": "etl.argo.compile_output",
    "ArgoClient": "etl.argo.server.client",
    "argo_base_url": "etl.argo.server.client",
    "status_from_workflow": "etl.argo.server.status",
}


__getattr__ = lazy_getattr(__name__, _LAZY)
