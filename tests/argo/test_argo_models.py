"""The compiler's Argo objects mirror Hera's models, and rendering imports no Hera (issue 27, item 5).

``etl.argo.compiling.models`` holds light dataclasses with the names, fields, types and field order
of Hera's generated models; Hera stays the manifests' schema. These tests check each mirror against
its Hera model, and that ``etl dataset render`` prints the manifest without importing Hera (whose
generated models cost more than the rest of a render). tests/argo/test_manifest_schema.py and
tests/argo/test_compile_golden.py check what is compiled from them.
"""

from __future__ import annotations

import copy
import dataclasses
import subprocess
import sys
import types
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from hera.workflows import models as hera
from pydantic import BaseModel, RootModel

from etl.argo.compiling import models

ROOT = Path(__file__).resolve().parents[2]
SENTINEL = ROOT / "datasets" / "sentinel-2-l2a"
MIRRORS = [
    getattr(models, name) for name in models.__all__ if isinstance(getattr(models, name), type)
]
ROOT_TYPES = {"IntOrString": "int | str", "Quantity": "str"}
"""Hera's root models (one value) and the type of that value in a manifest."""


def _hera_type(annotation: Any) -> str:
    """A Hera field's annotation written as the mirror writes it (``list[EnvVar] | None``)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_hera_type(arg) for arg in typing.get_args(annotation))
    if origin in (list, dict):
        return f"{origin.__name__}[{', '.join(_hera_type(a) for a in typing.get_args(annotation))}]"
    if annotation is type(None):
        return "None"
    if isinstance(annotation, type) and issubclass(annotation, RootModel):
        return ROOT_TYPES[annotation.__name__]
    return str(annotation.__name__)


def test_every_mirror_is_checked() -> None:
    assert {cls.__name__ for cls in MIRRORS} >= {"Workflow", "CronWorkflow", "Template", "EnvVar"}


@pytest.mark.parametrize("mirror", MIRRORS, ids=lambda cls: cls.__name__)
def test_a_mirror_has_its_hera_models_names_types_and_order(mirror: type) -> None:
    model: type[BaseModel] = getattr(hera, mirror.__name__)
    hera_fields = model.model_fields
    mine = dataclasses.fields(mirror)

    assert [f.name for f in mine] == [
        name for name in hera_fields if name in {f.name for f in mine}
    ]
    for field in mine:
        hera_field = hera_fields[field.name]
        assert models.argo_name(field.name) == (hera_field.alias or field.name), field.name
        assert field.type == _hera_type(hera_field.annotation), field.name
        has_default = field.default is not dataclasses.MISSING
        assert has_default == (not hera_field.is_required()), field.name
        assert field.default is None or not has_default, field.name
    required = {name for name, f in hera_fields.items() if f.is_required()}
    assert required <= {f.name for f in mine}, "a required Hera field is missing"


def test_argo_dict_writes_what_hera_writes() -> None:
    template = models.Template(
        name="t",
        container=models.Container(image="i", args=["a"], env=[models.EnvVar(name="E", value="v")]),
        retry_strategy=models.RetryStrategy(limit="3", backoff=models.Backoff(factor="2")),
        node_selector={"pool": "x"},
    )
    spec = models.WorkflowSpec(
        entrypoint="main", templates=[template], pod_gc=models.PodGC(strategy="OnPodSuccess")
    )
    workflow = models.Workflow(
        api_version="argoproj.io/v1alpha1",
        kind="Workflow",
        metadata=models.ObjectMeta(generate_name="w-"),
        spec=spec,
    )

    written = models.argo_dict(workflow)

    parsed = hera.Workflow.model_validate(copy.deepcopy(written))
    dumped = parsed.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert yaml.safe_dump(written, sort_keys=False) == yaml.safe_dump(dumped, sort_keys=False)
    assert written["spec"]["podGC"] == {"strategy": "OnPodSuccess"}


def test_render_imports_no_hera() -> None:
    probe = (
        "import sys\n"
        "from etl.cli.main import app\n"
        "try:\n"
        f"    app(['dataset', 'render', '-d', {str(SENTINEL)!r}])\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'hera'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )

    *manifest, loaded = out.stdout.splitlines()
    assert loaded == "[]"
    rendered = yaml.safe_load("\n".join(manifest))
    assert rendered["kind"] == "Workflow"
    parsed = hera.Workflow.model_validate(copy.deepcopy(rendered))
    assert parsed.model_dump(mode="json", by_alias=True, exclude_none=True) == rendered
