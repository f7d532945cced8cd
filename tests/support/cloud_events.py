"""Checking received CloudEvents against etl's JSON schema, for the notification tests."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema

from etl.core.notifications.cloud_event import SCHEMA_PATH


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def check_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``events`` as given, after checking each against the schema (raises on the first bad)."""
    for event in events:
        _validator().validate(event)
    return events
