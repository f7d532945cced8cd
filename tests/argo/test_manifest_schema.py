"""Every manifest the compiler can produce is valid Argo, checked strictly.

1. Against Argo's schema as Hera's generated models carry it, made strict (``argo_schema``): every
   object closed, so a misspelt field fails instead of being ignored by Kubernetes; and, where
   ``ETL_ARGO_SCHEMA`` names Argo's official JSON schema, against that file too.
2. Through Hera: parsed into Hera's models and dumped again, it is the same dict.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from argo_schema import MODELS, manifest_errors
from compile_cases import CASES, Case

_MANIFESTS: dict[str, dict[str, Any]] = {}


def _manifest(case: Case) -> dict[str, Any]:
    if case.id not in _MANIFESTS:
        _MANIFESTS[case.id] = case.compile()
    return _MANIFESTS[case.id]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_manifest_is_valid_argo(case: Case) -> None:
    manifest = _manifest(case)
    assert manifest_errors(manifest) == []


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_manifest_round_trips_through_hera(case: Case) -> None:
    from hera.workflows import CronWorkflow, Workflow

    manifest = _manifest(case)
    hera_class = CronWorkflow if manifest["kind"] == "CronWorkflow" else Workflow
    assert hera_class.from_dict(copy.deepcopy(manifest)).to_dict() == manifest
    parsed = MODELS[manifest["kind"]].model_validate(copy.deepcopy(manifest))
    assert parsed.model_dump(mode="json", by_alias=True, exclude_none=True) == manifest


def test_strict_schema_catches_a_misspelt_field() -> None:
    manifest = copy.deepcopy(_manifest(CASES[0]))
    template = manifest["spec"]["templates"][1]
    template["retryStratgy"] = template.pop("retryStrategy")
    assert any("'retryStratgy' was unexpected" in error for error in manifest_errors(manifest))


def test_strict_schema_checks_types_and_takes_no_nulls() -> None:
    manifest = copy.deepcopy(_manifest(CASES[0]))
    manifest["spec"]["parallelism"] = "many"
    manifest["spec"]["templates"][1]["retryStrategy"]["limit"] = None
    errors = manifest_errors(manifest)
    assert "spec/parallelism: 'many' is not of type 'integer'" in errors
    assert (
        "spec/templates/1/retryStrategy/limit: None is not valid under any of the given schemas"
        in errors
    )
