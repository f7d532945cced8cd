"""Hera's generated Argo models, imported without the rest of Hera.

``import hera.workflows`` costs about 1.3 s: its ``__init__`` pulls in the high-level DSL, the
Argo Server services and ``requests``. The compiler needs only the generated pydantic models
(``hera.workflows.models``, one class per Argo/Kubernetes schema object), which cost about 0.8 s.
Python always runs a package's ``__init__`` before its submodules, so while the models load we put a
bare stand-in for the ``hera.workflows`` package (same search path, no code run) in ``sys.modules``,
then remove it: a later ``import hera.workflows`` runs the real ``__init__`` and reuses the already
loaded model modules, so both kinds of import work in one process (only the attribute
``hera.workflows.models`` stays unset on the real package; ``from hera.workflows import models``
and ``import hera.workflows.models as m`` still work).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from types import ModuleType

__all__ = ["hera_models"]

_PACKAGE = "hera.workflows"
_MODELS = "hera.workflows.models"
_lock = threading.Lock()


def hera_models() -> ModuleType:
    """Return ``hera.workflows.models``, loading it without running ``hera.workflows.__init__``."""
    with _lock:
        loaded = sys.modules.get(_MODELS)
        if loaded is not None:
            return loaded
        if _PACKAGE in sys.modules:
            return importlib.import_module(_MODELS)
        spec = importlib.util.find_spec(_PACKAGE)
        if spec is None or spec.submodule_search_locations is None:
            return importlib.import_module(_MODELS)  # raises the real ImportError
        stand_in = ModuleType(_PACKAGE)
        stand_in.__path__ = list(spec.submodule_search_locations)
        stand_in.__spec__ = spec
        sys.modules[_PACKAGE] = stand_in
        try:
            return importlib.import_module(_MODELS)
        finally:
            del sys.modules[_PACKAGE]
            parent = sys.modules.get("hera")
            if parent is not None and getattr(parent, "workflows", None) is stand_in:
                delattr(parent, "workflows")
