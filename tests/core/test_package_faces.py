"""Each package's face (``__init__.py``) agrees with itself: what it exports is what it imports.

A package imports its heavy names on first use (``_LAZY``: name → module, for
:func:`etl.core.lazy_exports.lazy_getattr`) and declares them again for type checkers in an
``if TYPE_CHECKING:`` block; ``__all__`` lists both those and the names imported eagerly (but
private ones, such as a module imported for its side effect). A name
added to one list and not the others would be invisible to mypy, to ``from etl.x import *`` or at
run time; this test says which.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FACES = sorted(
    path for path in ROOT.glob("packages/*/src/etl/**/__init__.py") if "_LAZY" in path.read_text()
)
NOT_EXPORTS = {"annotations", "TYPE_CHECKING", "lazy_getattr"}


def _package(face: Path) -> str:
    parts = face.parent.parts
    return ".".join(parts[parts.index("src") + 1 :])


def _imports(nodes: list[ast.stmt]) -> dict[str, str]:
    return {
        alias.asname or alias.name: node.module or ""
        for node in nodes
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if (alias.asname or alias.name) not in NOT_EXPORTS
        and not (alias.asname or alias.name).startswith("_")
    }


def test_every_lazy_package_face_is_checked() -> None:
    packages = {_package(face) for face in FACES}
    assert {"etl.argo", "etl.core", "etl.dataset", "etl.pgstac", "etl.runner"} <= packages


@pytest.mark.parametrize("face", FACES, ids=_package)
def test_lazy_names_typed_names_and_all_agree(face: Path) -> None:
    tree = ast.parse(face.read_text())
    eager = _imports(tree.body)
    (typing_block,) = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    ]
    typed = _imports(typing_block.body)
    module = importlib.import_module(_package(face))
    lazy: dict[str, str] = module._LAZY
    assert typed == lazy, "the TYPE_CHECKING imports and _LAZY name different things"
    assert sorted(module.__all__) == sorted({*eager, *lazy}), "__all__ is not eager + lazy names"
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{name} does not resolve"
