"""One rule for the packages' faces (``__init__.py``), written in docs/internals.md.

etl's own code (``packages/*/src``, the tests and their helpers) imports every name from the module
that defines it, never through a package's ``__init__.py``. A package's ``__init__.py`` is its
docstring alone, except the faces that hold the names a dataset's own code imports
(docs/writing-a-dataset.md) or its ``dataset.yaml`` names as a ``class``:
:data:`DATASET_AUTHOR_API`. Those import their names on first use
(``_LAZY``: name → module, for :func:`etl.core.lazy_exports.lazy_getattr`), declare them again for
type checkers in an ``if TYPE_CHECKING:`` block, and list them in ``__all__``; a name added to one
list and not the others would be invisible to mypy, to ``from etl.x import *`` or at run time.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INITS = sorted(ROOT.glob("packages/*/src/etl/**/__init__.py"))
DATASET_AUTHOR_API = {
    "etl.dataset": {"Collection", "PremadeItemCollection"},
    "etl.core.storage": {"Storage", "file_uri", "open_storage", "open_storage_for"},
    "etl.core.profiles": {"Profile"},
}
"""The faces a dataset's collection classes import through, and their names."""
USER_CODE = ("tests/compile_datasets", "tests/pctasks", "tests/broken")
"""Folders of datasets written as a user writes them (their code may import through the faces)."""
NOT_EXPORTS = {"annotations", "TYPE_CHECKING", "lazy_getattr"}


def _package(init: Path) -> str:
    parts = init.parent.parts
    return ".".join(parts[parts.index("src") + 1 :])


PACKAGES = {_package(init) for init in INITS}


def _is_module(dotted: str) -> bool:
    relative = dotted.replace(".", "/")
    return any(
        (src / f"{relative}.py").exists() or (src / relative / "__init__.py").exists()
        for src in ROOT.glob("packages/*/src")
    )


def _imports(nodes: list[ast.stmt]) -> dict[str, str]:
    return {
        alias.asname or alias.name: node.module or ""
        for node in nodes
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if (alias.asname or alias.name) not in NOT_EXPORTS
        and not (alias.asname or alias.name).startswith("_")
    }


@pytest.mark.parametrize("init", INITS, ids=_package)
def test_a_face_is_its_docstring_or_the_dataset_author_api(init: Path) -> None:
    tree = ast.parse(init.read_text())
    assert ast.get_docstring(tree), "every package says what it holds"
    package = _package(init)
    if package not in DATASET_AUTHOR_API:
        code = [ast.unparse(node) for node in tree.body[1:]]
        assert code in ([], ["from __future__ import annotations"]), (
            f"{package}/__init__.py re-exports names; import them from their modules instead "
            "(docs/internals.md)"
        )
        return
    eager = _imports(tree.body)
    (typing_block,) = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    ]
    typed = _imports(typing_block.body)
    module = importlib.import_module(package)
    lazy: dict[str, str] = module._LAZY
    assert not eager, "a face imports its names on first use"
    assert typed == lazy, "the TYPE_CHECKING imports and _LAZY name different things"
    assert set(module.__all__) == set(lazy) == DATASET_AUTHOR_API[package]
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{name} does not resolve"


def _sources() -> list[Path]:
    tests = [
        path
        for path in (ROOT / "tests").rglob("*.py")
        if not str(path.relative_to(ROOT)).startswith(USER_CODE)
    ]
    return sorted([*ROOT.glob("packages/*/src/**/*.py"), *tests])


def test_etl_imports_every_name_from_its_module() -> None:
    through_faces = [
        f"{path.relative_to(ROOT)}:{node.lineno}: from {node.module} import {alias.name}"
        for path in _sources()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in PACKAGES
        for alias in node.names
        if not _is_module(f"{node.module}.{alias.name}")
    ]
    assert not through_faces, "import these from the module that defines them:\n" + "\n".join(
        through_faces
    )
