"""etl.dataset: the ``dataset.yaml`` model and loader, and the :class:`Collection` base class.

Importing this package loads only pydantic, PyYAML and ``etl.core``; pystac is imported when items
are made. See ``docs/dataset-yaml.md`` for the file format.
"""

from etl.dataset.chunking import ChunkManifest, create_chunks, read_manifest
from etl.dataset.collection import Collection, PremadeItemCollection, load_collection_class
from etl.dataset.config_warnings import ConfigWarning
from etl.dataset.layout import RunLayout
from etl.dataset.loader import DATASET_FILE_NAME, LoadedDataset, find_dataset_file, load_dataset
from etl.dataset.model import (
    AssetStorageConfig,
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
from etl.dataset.reference_docs import (
    render_reference_markdown,
    splice_reference,
    update_reference_docs,
)

__all__ = [
    "DATASET_FILE_NAME",
    "AssetStorageConfig",
    "ChunkManifest",
    "ChunkOptions",
    "ChunkStorageConfig",
    "ChunksConfig",
    "CodeConfig",
    "Collection",
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
    "create_chunks",
    "dataset_json_schema",
    "find_dataset_file",
    "load_collection_class",
    "load_dataset",
    "read_manifest",
    "render_reference_markdown",
    "splice_reference",
    "update_reference_docs",
]
