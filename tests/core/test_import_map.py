"""The map of the packages is true: each imports only what docs/internals.md allows and declares it.

``docs/internals.md`` has a table "Packages and who imports whom" (package | owns | may import).
Every ``import etl.X`` / ``from etl.X import ...`` in ``packages/<p>/src/etl/<p>`` (inside functions
and ``TYPE_CHECKING`` blocks too) must be allowed by that table, and every package's
``pyproject.toml`` must declare each etl-* package and each third-party distribution it imports
(import names mapped to distributions by ``importlib.metadata.packages_distributions()``), so that
a package installed alone (``etl-task`` in the image) works.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = sorted(path.name for path in (ROOT / "packages").iterdir() if path.is_dir())
TABLE_TITLE = "## Packages and who imports whom"


def allowed_imports() -> dict[str, set[str]]:
    """The table's "may import" column: package → the etl packages it may import."""
    text = (ROOT / "docs" / "internals.md").read_text()
    section = text.split(TABLE_TITLE, 1)[1].split("\n## ", 1)[0]
    allowed: dict[str, set[str]] = {}
    for row in section.splitlines():
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        name = re.fullmatch(r"`etl\.(\w+)`", cells[0])
        if not name:
            continue
        may = cells[-1]
        if may == "third-party only":
            allowed[name[1]] = set()
        elif may == "all":
            allowed[name[1]] = set(PACKAGES)
        elif may.startswith("all but "):
            allowed[name[1]] = set(PACKAGES) - {p.strip() for p in may[8:].split(",")}
        else:
            allowed[name[1]] = {p.strip() for p in may.split(",")}
    return allowed


@cache
def imports(package: str) -> list[tuple[str, int, str]]:
    """(file, line, module) for every absolute import in a package's sources."""
    found: list[tuple[str, int, str]] = []
    source = ROOT / "packages" / package / "src"
    for path in sorted(source.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            where = str(path.relative_to(ROOT))
            if isinstance(node, ast.Import):
                for alias in node.names:
                    found.append((where, node.lineno, alias.name))
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module == "etl":
                    for alias in node.names:
                        found.append((where, node.lineno, f"etl.{alias.name}"))
                else:
                    found.append((where, node.lineno, node.module))
    return found


def declared(package: str) -> set[str]:
    """The distributions a package's pyproject.toml depends on, normalised."""
    project = tomllib.loads((ROOT / "packages" / package / "pyproject.toml").read_text())
    names = (re.match(r"[A-Za-z0-9._-]+", req)[0] for req in project["project"]["dependencies"])  # type: ignore[index]
    return {normalised(name) for name in names}


@cache
def _distributions() -> dict[str, list[str]]:
    return packages_distributions()  # type: ignore[return-value]


def normalised(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def test_the_table_names_every_package() -> None:
    assert sorted(allowed_imports()) == PACKAGES


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_are_allowed_by_the_table(package: str) -> None:
    may = allowed_imports()[package] | {package}
    wrong = [
        f"{where}:{line}: imports {module}, but docs/internals.md lets etl.{package} import "
        f"{', '.join(sorted(may - {package})) or 'third-party only'}"
        for where, line, module in imports(package)
        if module.startswith("etl.") and module.split(".")[1] not in may
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("package", PACKAGES)
def test_pyproject_declares_every_import(package: str) -> None:
    distributions = _distributions()
    needs: dict[str, tuple[str, int, str]] = {}
    for where, line, module in imports(package):
        top = module.split(".")[0]
        if top == "__future__" or top in sys.stdlib_module_names:
            continue
        if top == "etl":
            wanted = {f"etl-{module.split('.')[1]}"}
        else:
            wanted = {normalised(name) for name in distributions.get(top, [top])}
        if f"etl-{package}" in wanted or wanted & declared(package):
            continue
        needs.setdefault(" or ".join(sorted(wanted)), (where, line, module))
    missing = [
        f"{where}:{line}: imports {module}; packages/{package}/pyproject.toml does not declare {dist}"
        for dist, (where, line, module) in sorted(needs.items())
    ]
    assert not missing, "\n".join(missing)
