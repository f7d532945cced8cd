"""Profiles: the per-environment settings of etl, their store and how the active one is chosen.

See ``docs/profiles.md``.

Its exports are the names a dataset's own code imports (docs/writing-a-dataset.md), imported
on first use; etl's code imports each name from the module that defines it (docs/internals.md,
"Packages and who imports whom"; ``tests/core/test_package_faces.py`` checks both).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etl.core.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from etl.core.profiles.model import Profile

__all__ = ["Profile"]

_LAZY = {"Profile": "etl.core.profiles.model"}

__getattr__ = lazy_getattr(__name__, _LAZY)
