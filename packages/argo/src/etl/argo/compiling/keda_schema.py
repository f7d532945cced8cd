"""KEDA's own schema for the manifests etl emits: the published CRDs kept in ``keda_crds/``.

KEDA's objects (``ScaledJob``, ``TriggerAuthentication``) have no Hera models, so the schema is
the engine's ``openAPIV3Schema`` as KEDA publishes it (``keda_crds/README.md`` names the release).
It is read as Kubernetes applies it with strict field validation (``fieldValidation=Strict``):

- every object that lists its ``properties`` is closed, unless it preserves unknown fields
  (``x-kubernetes-preserve-unknown-fields``) or says what else it takes (``additionalProperties``),
  so a misspelt field fails instead of being pruned silently by the API server;
- ``metadata``, which a CRD leaves to Kubernetes, is checked for what etl writes: a DNS-1123 name,
  a namespace, string labels of at most 63 characters.

:func:`manifest_errors` lists every way a manifest breaks it; the compiler (``compiling.stream``)
refuses to emit one that does, and the tests' Kubernetes API stand-in checks each request body too.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["CRD_DIR", "CRD_FILES", "crd_schemas", "manifest_errors"]

CRD_DIR = Path(__file__).with_name("keda_crds")
CRD_FILES = ("keda.sh_scaledjobs.yaml", "keda.sh_triggerauthentications.yaml")
_PRESERVE = "x-kubernetes-preserve-unknown-fields"
_DNS_1123 = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_METADATA: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "maxLength": 63, "pattern": _DNS_1123},
        "namespace": {"type": "string", "maxLength": 63, "pattern": _DNS_1123},
        "labels": {
            "type": "object",
            "additionalProperties": {"type": "string", "maxLength": 63},
        },
    },
}


def _closed(schema: Any) -> Any:
    """``schema`` with every object that lists its properties closed, as strict validation is."""
    if isinstance(schema, list):
        return [_closed(value) for value in schema]
    if not isinstance(schema, dict):
        return schema
    node = {
        key: {name: _closed(value) for name, value in value.items()}
        if key == "properties"
        else _closed(value)
        for key, value in schema.items()
    }
    if "properties" in node and "additionalProperties" not in node and not node.get(_PRESERVE):
        node["additionalProperties"] = False
    return node


@cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """``(apiVersion, kind)`` → its strict schema, for every version each kept CRD serves."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for file in CRD_FILES:
        crd = yaml.load((CRD_DIR / file).read_text(encoding="utf-8"), Loader=loader)
        spec = crd["spec"]
        for version in spec["versions"]:
            schema = _closed(version["schema"]["openAPIV3Schema"])
            schema["properties"]["metadata"] = _METADATA
            schema["required"] = sorted({*schema.get("required", ()), "apiVersion", "kind"})
            schemas[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = schema
    return schemas


def manifest_errors(manifest: Any) -> list[str]:
    """Every way ``manifest`` breaks its KEDA CRD's schema, one ``path: message`` each; a kind no
    kept CRD defines is one error."""
    from jsonschema import Draft4Validator

    if not isinstance(manifest, dict):
        return ["(root): a manifest is a mapping"]
    key = (str(manifest.get("apiVersion")), str(manifest.get("kind")))
    schema = crd_schemas().get(key)
    if schema is None:
        return [f"(root): no KEDA CRD kept for apiVersion {key[0]!r}, kind {key[1]!r}"]
    errors = sorted(Draft4Validator(schema).iter_errors(manifest), key=lambda e: list(e.path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors]
