"""etl.dataset: the ``dataset.yaml`` model and loader, and the :class:`Collection` base class.

Names are imported on first use: the model loads only pydantic, PyYAML and ``etl.core``, and
chunking, the collection base class and pystac load when a command uses them. See
``docs/dataset-yaml.md`` for the file format. To export a name, add it to ``__all__``, the
``TYPE_CHECKING`` block and ``_LAZY`` (``tests/core/test_package_faces.py`` checks that they agree).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etl.core.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from etl.dataset.chunking import ChunkManifest, create_chunks, read_manifest
    from etl.dataset.class_check import check_collection_classes
    from etl.dataset.collection import (
        Collection,
        CollectionClassError,
        PremadeItemCollection,
        load_collection_class,
    )
    from etl.dataset.config_warnings import ConfigWarning
    from etl.dataset.layout import RunLayout
    from etl.dataset.loader import DATASET_FILE_NAME, LoadedDataset, find_dataset_file, load_dataset
    from etl.dataset.model import (
        AssetStorageConfig,
        BlobHrefs,
        ChunkOptions,
        ChunksConfig,
        ChunkStorageConfig,
        CodeConfig,
        CollectionConfig,
        DatasetConfig,
        ResourceQuantities,
        SplitConfig,
        TaskConfig,
        TaskName,
        TaskResources,
        Toleration,
        dataset_json_schema,
    )

__all__ = [
    "DATASET_FILE_NAME",
    "AssetStorageConfig",
    "BlobHrefs",
    "ChunkManifest",
    "ChunkOptions",
    "ChunkStorageConfig",
    "ChunksConfig",
    "CodeConfig",
    "Collection",
    "CollectionClassError",
    "CollectionConfig",
    "ConfigWarning",
    "DatasetConfig",
    "LoadedDataset",
    "PremadeItemCollection",
    "ResourceQuantities",
    "RunLayout",
    "SplitConfig",
    "TaskConfig",
    "TaskName",
    "TaskResources",
    "Toleration",
    "check_collection_classes",
    "create_chunks",
    "dataset_json_schema",
    "find_dataset_file",
    "load_collection_class",
    "load_dataset",
    "read_manifest",
]

_LAZY = {
    "ChunkManifest": "etl.dataset.chunking",
    "create_chunks": "etl.dataset.chunking",
    "read_manifest": "etl.dataset.chunking",
    "check_collection_classes": "etl.dataset.class_check",
    "Collection": "etl.dataset.collection",
    "CollectionClassError": "etl.dataset.collection",
    "PremadeItemCollection": "etl.dataset.collection",
    "load_collection_class": "etl.dataset.collection",
    "ConfigWarning": "etl.dataset.config_warnings",
    "RunLayout": "etl.dataset.layout",
    "DATASET_FILE_NAME": "etl.dataset.loader",
    "LoadedDataset": "etl.dataset.loader",
    "find_dataset_file": "etl.dataset.loader",
    "load_dataset": "etl.dataset.loader",
    "AssetStorageConfig": "etl.dataset.model",
    "BlobHrefs": "etl.dataset.model",
    "ChunkOptions": "etl.dataset.model",
    "ChunksConfig": "etl.dataset.model",
    "ChunkStorageConfig": "etl.dataset.model",
    "CodeConfig": "etl.dataset.model",
    "CollectionConfig": "etl.dataset.model",
    "DatasetConfig": "etl.dataset.model",
    "ResourceQuantities": "etl.dataset.model",
    "SplitConfig": "etl.dataset.model",
    "TaskConfig": "etl.dataset.model",
    "TaskName": "etl.dataset.model",
    "TaskResources": "etl.dataset.model",
    "Toleration": "etl.dataset.model",
    "dataset_json_schema": "etl.dataset.model",
}

__getattr__ = lazy_getattr(__name__, _LAZY)
