"""etl.argo: the compiler: datasets to Argo Workflows (mirrors of Hera's models), the code bundle.

:mod:`etl.argo.compiling` builds the manifests; beside it, the light modules the CLI and the
runners use: :mod:`~etl.argo.options` (the run request), :mod:`~etl.argo.bundle` and
:mod:`~etl.argo.ingest_sources` (the files the pods read), :mod:`~etl.argo.manifest_format`.
Running what it compiles (the local runner, the Argo Server client) is :mod:`etl.runner`'s.

Every name is imported on first use (``etl --help`` loads none). To export a name, add it to ``__all__``, the
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

__all__ = [
    "BundleFile",
    "CodeBundle",
    "IngestSource",
    "ManifestFormat",
    "RunRequest",
    "SourceList",
    "WorkflowCommand",
    "bundle_root",
    "compile_ingest_collection",
    "compile_ingest_items",
    "compile_workflow",
    "manifest_text",
    "max_batches",
    "plan_bundle",
    "plan_source_list",
    "plan_sources",
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
}


__getattr__ = lazy_getattr(__name__, _LAZY)
