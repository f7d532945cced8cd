"""Storage: one interface over local folders and Azure Blob containers.

``open_storage(uri)`` gives a :class:`~etl.core.storage.base.Storage` rooted at a ``file://``
URI, a local path or a ``blob://ACCOUNT/CONTAINER/PREFIX`` URI. The Azure SDK is imported only
when a blob URI is opened. See ``docs/storage.md``.

Its exports are the names a dataset's own code imports (docs/writing-a-dataset.md), imported
on first use; etl's code imports each name from the module that defines it (docs/internals.md,
"Packages and who imports whom"; ``tests/core/test_package_faces.py`` checks both).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etl.core.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from etl.core.storage.base import Storage
    from etl.core.storage.opening import open_storage, open_storage_for
    from etl.core.storage.uris import file_uri

__all__ = ["Storage", "file_uri", "open_storage", "open_storage_for"]

_LAZY = {
    "Storage": "etl.core.storage.base",
    "file_uri": "etl.core.storage.uris",
    "open_storage": "etl.core.storage.opening",
    "open_storage_for": "etl.core.storage.opening",
}

__getattr__ = lazy_getattr(__name__, _LAZY)
