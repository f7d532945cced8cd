"""etl.dataset: the ``dataset.yaml`` model and loader, and the ``Collection`` base class.

See ``docs/dataset-yaml.md`` for the file format.

Its exports are the names a dataset's own code imports (docs/writing-a-dataset.md) or its
``dataset.yaml`` names (``class: etl.dataset:PremadeItemCollection``), imported
on first use; etl's code imports each name from the module that defines it (docs/internals.md,
"Packages and who imports whom"; ``tests/core/test_package_faces.py`` checks both).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etl.core.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from etl.dataset.collection import Collection, PremadeItemCollection

__all__ = ["Collection", "PremadeItemCollection"]

_LAZY = {
    "Collection": "etl.dataset.collection",
    "PremadeItemCollection": "etl.dataset.collection",
}

__getattr__ = lazy_getattr(__name__, _LAZY)
