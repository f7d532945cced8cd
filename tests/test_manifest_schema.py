"""Every manifest the compiler can produce is valid Argo, checked three ways.

1. Against Argo's official JSON schema (``ETL_ARGO_SCHEMA``, default ``../shared/argo/schema.json``)
   with only ``IntOrString`` relaxed to string-or-integer (the schema says string; Argo takes both).
2. Strictly: the same schema with ``additionalProperties: false`` on every object, so a misspelt
   field fails instead of being ignored by Kubernetes.
3. Through Hera: parsed into Hera's models and dumped again, it is the same dict.
"""

from __future__ import annotations

import copy
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from compile_cases import CASES, Case
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[1]
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"


def _schema_path() -> Path:
    return Path(os.environ.get("ETL_ARGO_SCHEMA", ROOT.parent / "shared" / "argo" / "schema.json"))


@cache
def _relaxed_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(_schema_path().read_text())
    assert schema["definitions"][INT_OR_STRING] == {"type": "string"}, "schema changed upstream"
    schema["definitions"][INT_OR_STRING] = {"type": ["string", "integer"]}
    return schema


def _closed(node: Any) -> None:
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _closed(value)
    elif isinstance(node, list):
        for value in node:
            _closed(value)


@cache
def _strict_schema() -> dict[str, Any]:
    schema = copy.deepcopy(_relaxed_schema())
    _closed(schema["definitions"])
    return schema


@cache
def _validator(strict: bool, kind: str) -> Draft202012Validator:
    schema = _strict_schema() if strict else _relaxed_schema()
    root = {
        "$ref": f"#/definitions/io.argoproj.workflow.v1alpha1.{kind}",
        "definitions": schema["definitions"],
    }
    return Draft202012Validator(root)


def _errors(manifest: dict[str, Any], strict: bool) -> list[str]:
    validator = _validator(strict, manifest["kind"])
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(manifest)
    ]


_MANIFESTS: dict[str, dict[str, Any]] = {}


def _manifest(case: Case) -> dict[str, Any]:
    if case.id not in _MANIFESTS:
        _MANIFESTS[case.id] = case.compile()
    return _MANIFESTS[case.id]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_manifest_is_valid_argo(case: Case) -> None:
    manifest = _manifest(case)
    assert _errors(manifest, strict=False) == []
    assert _errors(manifest, strict=True) == []


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_manifest_round_trips_through_hera(case: Case) -> None:
    from hera.workflows import CronWorkflow, Workflow

    manifest = _manifest(case)
    hera_class = CronWorkflow if manifest["kind"] == "CronWorkflow" else Workflow
    assert hera_class.from_dict(copy.deepcopy(manifest)).to_dict() == manifest
    from hera.workflows import models

    model_class = models.CronWorkflow if manifest["kind"] == "CronWorkflow" else models.Workflow
    parsed = model_class.model_validate(copy.deepcopy(manifest))
    assert parsed.model_dump(mode="json", by_alias=True, exclude_none=True) == manifest


def test_strict_schema_catches_a_misspelt_field() -> None:
    manifest = copy.deepcopy(_manifest(CASES[0]))
    manifest["spec"]["templates"][1]["retryStratgy"] = manifest["spec"]["templates"][1].pop(
        "retryStrategy"
    )
    assert _errors(manifest, strict=False) == []
    assert any("retryStratgy" in error for error in _errors(manifest, strict=True))


def test_relaxed_schema_still_checks_types() -> None:
    manifest = copy.deepcopy(_manifest(CASES[0]))
    manifest["spec"]["parallelism"] = "many"
    assert any("parallelism" in error for error in _errors(manifest, strict=False))
