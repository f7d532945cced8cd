"""Golden files: the rendered manifests of the test datasets, committed under ``tests/golden/``.

A change to the compiler that changes a manifest fails here until the golden files are regenerated
with ``ETL_UPDATE_GOLDEN=1 uv run pytest tests/argo/test_compile_golden.py`` and the diff is reviewed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml
from compile_cases import GOLDEN_CASES, Case

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"


def render_yaml(case: Case) -> str:
    """The manifest as ``etl dataset render`` prints it."""
    from etl.argo.manifest_format import manifest_text

    return manifest_text(case.compile(), "yaml")


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_manifest_matches_golden_file(name: str) -> None:
    text = render_yaml(GOLDEN_CASES[name])
    path = GOLDEN_DIR / f"{name}.yaml"
    if os.environ.get("ETL_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.exists(), f"{path} is missing; run with ETL_UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text()
    assert yaml.safe_load(text) == GOLDEN_CASES[name].compile()


def test_no_golden_file_is_stale() -> None:
    assert sorted(p.stem for p in GOLDEN_DIR.glob("*.yaml")) == sorted(GOLDEN_CASES)


DOCS = Path(__file__).resolve().parents[2] / "docs" / "argo.md"
_DOC_BLOCK = re.compile(
    r"<!-- golden: (?P<name>[\w.-]+) -->\n```yaml\n(?P<body>.*?)```\n", re.DOTALL
)


def test_docs_example_is_the_golden_file() -> None:
    text = DOCS.read_text()
    blocks = list(_DOC_BLOCK.finditer(text))
    assert blocks, "docs/argo.md shows no golden manifest"
    if os.environ.get("ETL_UPDATE_GOLDEN") == "1":
        text = _DOC_BLOCK.sub(
            lambda m: m.group(0).replace(m["body"], (GOLDEN_DIR / f"{m['name']}.yaml").read_text()),
            text,
        )
        DOCS.write_text(text)
        blocks = list(_DOC_BLOCK.finditer(text))
    for block in blocks:
        assert block["body"] == (GOLDEN_DIR / f"{block['name']}.yaml").read_text(), block["name"]
