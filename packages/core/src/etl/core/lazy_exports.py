"""Package exports imported on first use, so importing a package stays cheap (``etl --help``)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``exports[name]`` (a module path) when ``name`` is used.

    Usage, in a package's ``__init__.py``: ``__getattr__ = lazy_getattr(__name__, {"X": "pkg.mod"})``.
    """

    def get_export(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return get_export
