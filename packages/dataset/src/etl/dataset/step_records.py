"""A run's step records: the small JSON files a step writes into the run's folder (what
``finish-collection`` did, what ``mark-success`` did to the marker) and the CLI reads back.

A retried step overwrites its record; a record that cannot be parsed is a ``StorageError`` naming
its URI, never a bare ``JSONDecodeError``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from etl.core.errors import StorageError
from etl.core.storage.base import Storage

__all__ = ["read_step_record", "write_step_record"]

T = TypeVar("T")


def write_step_record(storage: Storage, path: str, data: Mapping[str, Any]) -> None:
    """Write ``data`` as the record at ``path`` (relative to ``storage``)."""
    storage.write_text(path, json.dumps(data, sort_keys=True) + "\n")


def read_step_record(storage: Storage, path: str, parse: Callable[[Any], T], what: str) -> T | None:
    """The record at ``path`` read by ``parse``, or ``None`` when the step wrote none.

    Raises:
        StorageError: it cannot be read, or is not a ``what`` (``parse`` refused it).
    """
    if not storage.exists(path):
        return None
    try:
        return parse(json.loads(storage.read_text(path)))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise StorageError(f"{storage.uri_of(path)}: not a {what} ({exc})") from None
