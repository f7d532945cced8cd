"""Storage: one interface over local folders and Azure Blob containers.

``open_storage(uri)`` gives a :class:`Storage` rooted at a ``file://`` URI, a local path or a
``blob://ACCOUNT/CONTAINER/PREFIX`` URI. The Azure SDK is imported only when a blob URI is opened.
See ``docs/storage.md``.
"""

from etl.core.storage.base import ObjectInfo, Storage
from etl.core.storage.filesystem import FileStorage
from etl.core.storage.opening import open_storage, open_storage_for
from etl.core.storage.uris import BlobLocation, file_uri, parse_blob_uri, storage_root_of
from etl.core.storage.urls import BlobUrls, blob_url

__all__ = [
    "BlobLocation",
    "BlobUrls",
    "FileStorage",
    "ObjectInfo",
    "Storage",
    "blob_url",
    "file_uri",
    "open_storage",
    "open_storage_for",
    "parse_blob_uri",
    "storage_root_of",
]
