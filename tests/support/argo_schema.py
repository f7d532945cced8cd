"""Argo's JSON schema, derived from Hera's generated models and made strict.

Hera's models (``hera.workflows.models``) are generated from Argo Workflows' OpenAPI spec, so their
pydantic JSON schema is Argo's schema, shipped in a package the project depends on. Pydantic writes
it loosely; :func:`strict_schema` tightens it to what the Argo Server and Kubernetes accept:

- every object is closed (``additionalProperties: false``), so a misspelt field fails instead of
  being dropped silently by the API server;
- ``null`` is no value: ``Optional[X]`` becomes ``X`` (Argo's spec has no nullable fields);
- ``Quantity`` takes a string or a number, as Kubernetes unmarshals it (``IntOrString`` already
  takes a string or an integer in Hera's models).

:func:`manifest_errors` checks a Workflow or CronWorkflow manifest against it and, as an extra where
``ETL_ARGO_SCHEMA`` names Argo's official JSON schema (``schema.json`` of an Argo Workflows
release), against that file as written (only ``IntOrString`` relaxed to string-or-integer: the file
says string, Argo takes both) and closed the same way.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from hera.workflows import models
from jsonschema import Draft202012Validator
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

__all__ = ["manifest_errors", "strict_schema", "strict_validator", "tighten"]

MODELS: dict[str, type[BaseModel]] = {
    "Workflow": models.Workflow,
    "CronWorkflow": models.CronWorkflow,
}
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"


_SCHEMA_MAPS = ("properties", "$defs")  # keys whose values map names to schemas


def tighten(schema: Any) -> Any:
    """``schema`` with every object closed and every ``null`` alternative removed."""
    if isinstance(schema, list):
        return [tighten(value) for value in schema]
    if not isinstance(schema, dict):
        return schema
    node = {
        key: (
            {name: tighten(value) for name, value in value.items()}
            if key in _SCHEMA_MAPS
            else tighten(value)
        )
        for key, value in schema.items()
    }
    alternatives = node.pop("anyOf", None)
    if alternatives is not None:
        kept = [option for option in alternatives if option != {"type": "null"}]
        node = {**kept[0], **node} if len(kept) == 1 else {**node, "anyOf": kept}
    if "default" in node and node["default"] is None:
        del node["default"]
    if "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    return node


def strict_schema(
    models: tuple[type[BaseModel], ...],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A ``$ref`` per model, and one strict schema holding all their definitions."""
    refs, schema = models_json_schema([(model, "validation") for model in models], by_alias=True)
    definitions = tighten(schema)["$defs"]
    if "Quantity" in definitions:
        definitions["Quantity"] = {"type": ["string", "number"]}
    return [refs[(model, "validation")] for model in models], {"$defs": definitions}


@cache
def strict_validator(model: type[BaseModel]) -> Draft202012Validator:
    """A validator of JSON documents against ``model``'s strict schema."""
    (ref,), schema = strict_schema((model,))
    return Draft202012Validator({**ref, **schema})


@cache
def _official_validators(kind: str) -> tuple[Draft202012Validator, ...]:
    """Validators from ``$ETL_ARGO_SCHEMA`` (as written, then closed), or none if it is unset."""
    path = os.environ.get("ETL_ARGO_SCHEMA")
    if not path:
        return ()
    definitions = json.loads(Path(path).read_text())["definitions"]
    assert definitions[INT_OR_STRING] == {"type": "string"}, "schema changed upstream"
    definitions[INT_OR_STRING] = {"type": ["string", "integer"]}
    ref = {"$ref": f"#/definitions/io.argoproj.workflow.v1alpha1.{kind}"}
    return tuple(
        Draft202012Validator({**ref, "definitions": schema})
        for schema in (definitions, tighten({"$defs": definitions})["$defs"])
    )


def manifest_errors(manifest: dict[str, Any]) -> list[str]:
    """Where ``manifest`` breaks Argo's strict schema (and the official one, if named), as text."""
    kind = manifest["kind"]
    validators = (strict_validator(MODELS[kind]), *_official_validators(kind))
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for validator in validators
        for error in validator.iter_errors(manifest)
    ]
