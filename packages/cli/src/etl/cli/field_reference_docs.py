"""The ``dataset.yaml`` field reference as Markdown, generated from the model's JSON schema.

``scripts/gen_docs`` writes it into ``docs/dataset-yaml.md`` between two markers
(:data:`REFERENCE`); a test checks that the committed text is current.
"""

from __future__ import annotations

from typing import Any

from etl.cli.generated_docs import GeneratedSection
from etl.dataset.model import dataset_json_schema

__all__ = ["REFERENCE", "render_field_reference"]

_ROOT = "DatasetConfig"


def render_field_reference() -> str:
    """One section per model, top level first: each field with its type, default and meaning."""
    schema = dataset_json_schema()
    definitions: dict[str, Any] = {**schema.get("$defs", {}), _ROOT: schema}
    found: dict[str, str] = {}
    _collect(_ROOT, "(top level)", definitions, found)
    sections = [
        _section(name, where, definitions[name], definitions) for name, where in found.items()
    ]
    return "\n".join(sections)


def _collect(name: str, where: str, definitions: dict[str, Any], found: dict[str, str]) -> None:
    """Every model reachable from ``name``, depth first, with the YAML path it first appears at."""
    if name in found or "properties" not in definitions[name]:
        return
    found[name] = where
    for field, spec in definitions[name]["properties"].items():
        path = field if name == _ROOT else f"{where}.{field}"
        for ref, suffix in _refs(spec):
            _collect(ref, path + suffix, definitions, found)


def _refs(spec: dict[str, Any], suffix: str = "") -> list[tuple[str, str]]:
    if "$ref" in spec:
        return [(spec["$ref"].rsplit("/", 1)[-1], suffix)]
    out = []
    for option in spec.get("anyOf", []):
        out.extend(_refs(option, suffix))
    if "items" in spec:
        out.extend(_refs(spec["items"], suffix + "[]"))
    if isinstance(spec.get("additionalProperties"), dict):
        out.extend(_refs(spec["additionalProperties"], suffix + ".*"))
    return out


def _section(name: str, where: str, definition: dict[str, Any], definitions: dict[str, Any]) -> str:
    title = definition.get("description", "").split("\n\n")[0].replace("\n", " ")
    lines = [
        f"### `{where}`",
        "",
        f"{title} (`{name}`)",
        "",
        "| field | type | required / default | description |",
        "| --- | --- | --- | --- |",
    ]
    required = set(definition.get("required", []))
    for field, spec in definition.get("properties", {}).items():
        if field in required:
            default = "**required**"
        elif "default" in spec and spec["default"] is not None:
            default = f"`{_yaml(spec['default'])}`"
        else:
            default = "—"
        description = spec.get("description", "").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{field}` | {_type(spec, definitions)} | {default} | {description} |")
    lines.append("")
    return "\n".join(lines)


def _type(spec: dict[str, Any], definitions: dict[str, Any]) -> str:
    if "$ref" in spec:
        name = spec["$ref"].rsplit("/", 1)[-1]
        target = definitions[name]
        return _type(target, definitions) if "enum" in target else f"mapping ({name})"
    if "anyOf" in spec:
        options = [_type(o, definitions) for o in spec["anyOf"] if o.get("type") != "null"]
        return " or ".join(options)
    if "enum" in spec:
        return "one of " + ", ".join(f"`{v}`" for v in spec["enum"])
    kind = spec.get("type")
    if kind == "array":
        return f"list of {_type(spec.get('items', {}), definitions)}"
    if kind == "object":
        return _mapping_type(spec, definitions)
    names = {"string": "string", "integer": "integer", "boolean": "boolean", "number": "number"}
    text = names.get(kind or "", "any")
    if spec.get("format") == "date-time":
        text = "date-time"
    bounds = [("exclusiveMinimum", ">"), ("minimum", "≥"), ("maximum", "≤")]
    text += "".join(f" {sign} {spec[key]}" for key, sign in bounds if key in spec)
    if "pattern" in spec:
        text += f" matching `{spec['pattern']}`"
    return text


def _mapping_type(spec: dict[str, Any], definitions: dict[str, Any]) -> str:
    if "patternProperties" in spec:
        ((pattern, value),) = spec["patternProperties"].items()
        return f"mapping of names matching `{pattern}` to {_type(value, definitions)}"
    keys = spec.get("propertyNames")
    key = _type(keys, definitions) if keys else "string"
    value = spec.get("additionalProperties")
    shown = _type(value, definitions) if isinstance(value, dict) else "anything"
    return f"mapping of {key} to {shown}"


def _yaml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value == {}:
        return "{}"
    return str(value)


REFERENCE = GeneratedSection("docs/dataset-yaml.md", "field reference", render_field_reference)
"""The field reference of ``docs/dataset-yaml.md``."""
