"""Turning pydantic's validation errors into one located, readable line.

A :class:`pydantic.ValidationError` lists every problem with a ``loc`` (the field path) and a type;
:func:`located_validation_error` picks the one written first in the file and renders it as
``PATH:LINE:COL: field.path: message``, naming the closest valid field for an unknown key.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from difflib import get_close_matches
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from etl.core.errors import ConfigError
from etl.core.located_yaml import FieldPath, LocatedDocument, format_field_path
from etl.dataset.field_types import ARG_NAME_PATTERN, ENV_NAME_PATTERN, ID_PATTERN

__all__ = ["describe_value", "located_validation_error", "unknown_field_message"]

_PATTERN_HINTS = {
    ID_PATTERN: "an id of letters, digits, '.', '_' and '-', starting with a letter or digit",
    ARG_NAME_PATTERN: "a name of letters, digits, '_' and '-', starting with a letter or '_'",
    ENV_NAME_PATTERN: "a variable name of letters, digits, '_', '.' and '-', not starting with a digit",
}

_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "datetime_type": "a date-time (ISO 8601, e.g. 2024-01-31T00:00:00Z)",
    "datetime_parsing": "a date-time (ISO 8601, e.g. 2024-01-31T00:00:00Z)",
    "datetime_from_date_parsing": "a date-time (ISO 8601, e.g. 2024-01-31T00:00:00Z)",
}


def describe_value(value: Any) -> str:
    """How a YAML value reads in a message: ``a mapping``, ``a list``, ``null``, ``'text'``, ``3``."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def unknown_field_message(name: str, valid: Sequence[str]) -> str:
    """``unknown field 'chunk_lenght'; did you mean 'chunk_length'?`` (or the list of valid names)."""
    close = get_close_matches(name, list(valid), n=1, cutoff=0.6)
    if close:
        return f"unknown field {name!r}; did you mean {close[0]!r}?"
    return f"unknown field {name!r}; valid fields: {', '.join(valid)}"


def located_validation_error(
    error: ValidationError, doc: LocatedDocument, root: type[BaseModel]
) -> ConfigError:
    """The first problem of ``error`` (in file order) as a located :class:`ConfigError`."""
    details = error.errors(include_url=False)
    rendered = [_render(detail, doc, root) for detail in details]

    def rank(pair: tuple[str, ConfigError]) -> tuple[bool, int, int]:
        # A missing field is often explained by a misspelt one: report it only when alone.
        kind, item = pair
        where = item.location
        line, column = (where.line or 0, where.column or 0) if where else (0, 0)
        return (kind == "missing", line, column)

    return min(zip([d["type"] for d in details], rendered, strict=True), key=rank)[1]


def _render(detail: ErrorDetails, doc: LocatedDocument, root: type[BaseModel]) -> ConfigError:
    loc: FieldPath = tuple(detail["loc"])
    kind = detail["type"]
    if loc and loc[-1] == "[key]":
        path = loc[:-1]
        return doc.error(path, _message(detail, kind, key=path[-1]), key=True)
    if kind == "extra_forbidden":
        parent, name = loc[:-1], str(loc[-1])
        message = unknown_field_message(name, _field_names(root, parent))
        return ConfigError(
            message, location=doc.locate(loc, key=True), field=format_field_path(parent) or None
        )
    if kind == "missing":
        return ConfigError(
            f"missing required field {loc[-1]!r}",
            location=doc.locate(loc[:-1]),
            field=format_field_path(loc[:-1]) or None,
        )
    return doc.error(loc, _message(detail, kind))


def _message(detail: ErrorDetails, kind: str, key: Any = None) -> str:
    value = key if key is not None else detail.get("input")
    context = detail.get("ctx") or {}
    if kind.startswith("etl_"):
        return str(context.get("message", detail["msg"]))
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {describe_value(value)}"
    if kind in ("enum", "literal_error"):
        return f"expected one of {context.get('expected', '')}, got {describe_value(value)}"
    if kind == "greater_than":
        return f"must be greater than {context.get('gt')}, got {describe_value(value)}"
    if kind == "greater_than_equal":
        return f"must be at least {context.get('ge')}, got {describe_value(value)}"
    if kind == "less_than_equal":
        return f"must be at most {context.get('le')}, got {describe_value(value)}"
    if kind == "too_short":
        return f"must have at least {context.get('min_length')} entry, got none"
    if kind == "string_pattern_mismatch":
        pattern = str(context.get("pattern", ""))
        hint = _PATTERN_HINTS.get(pattern, f"a string matching {pattern}")
        return f"expected {hint}, got {describe_value(value)}"
    message = str(detail["msg"])
    return message[:1].lower() + message[1:]


def _field_names(root: type[BaseModel], path: FieldPath) -> list[str]:
    """The keys the model accepts at ``path`` (a mapping of ``root``'s tree)."""
    current: Any = root
    for part in path:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next(
                (f for n, f in current.model_fields.items() if (f.alias or n) == part), None
            )
            if field is None:
                return []
            current = field.annotation
        elif typing.get_origin(current) in (list, dict):
            current = typing.get_args(current)[-1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    """``X | None`` → ``X``; ``Annotated[X, ...]`` → ``X``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation
