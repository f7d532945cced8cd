"""What PCTasks datasets carry that etl reads differently: ignored keys and PCTasks' classes.

PCTasks silently ignores unknown keys; etl rejects them, except for the few keys real PCTasks
datasets carry that have no meaning here. Those are removed before validation and reported as
:class:`ConfigWarning` s, so that nothing in a dataset file is ever ignored silently. PCTasks'
``${{ ... }}`` expressions are refused by the template marker check
(:func:`etl.core.templating.check_document_markers`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from etl.core.env_names import PROFILE_ENV
from etl.core.located_yaml import FieldPath, LocatedDocument, format_field_path
from etl.dataset.config_warnings import ConfigWarning

__all__ = [
    "IGNORED_KEYS",
    "strip_ignored_keys",
    "warn_pctasks_classes",
]

ANY = None
"""Matches any key or list index in an :data:`IGNORED_KEYS` pattern."""

KeyPattern = tuple[str | None, ...]

IGNORED_KEYS: tuple[tuple[KeyPattern, str], ...] = (
    (
        ("target_environment",),
        "ignored: etl runs where the active profile points, not where the dataset says; "
        f"pick the profile with -p NAME or {PROFILE_ENV}",
    ),
    (
        ("task_config", ANY, ANY, "tags"),
        "ignored: Azure Batch tags (e.g. batch_pool_id) mean nothing to Argo; "
        "use resources, node_selector and tolerations",
    ),
    (
        ("collections", ANY, "token"),
        "ignored: a token belongs on each asset_storage or chunk_storage entry",
    ),
    (
        ("collections", ANY, "create_items"),
        "ignored: PCTasks' create_items options; tune the item pods with "
        "task_config.<collection>.create-items",
    ),
    (
        ("collections", ANY, "asset_storage", ANY, "chunks", "options", "chunk_file_name"),
        "ignored: etl names chunk files itself (chunks/00000.txt)",
    ),
    (
        ("collections", ANY, "asset_storage", ANY, "chunks", "options", "chunk_extension"),
        "ignored: etl names chunk files itself (chunks/00000.txt)",
    ),
)
"""Keys accepted with a warning: a path pattern and the warning's message."""

_PCTASKS_CLASS_PREFIX = "pctasks."


def strip_ignored_keys(data: Any, doc: LocatedDocument) -> tuple[Any, list[ConfigWarning]]:
    """A copy of ``data`` without the :data:`IGNORED_KEYS`, and a warning for each one found."""
    found = [
        (path, message) for pattern, message in IGNORED_KEYS for path in _find(data, pattern, ())
    ]
    if not found:
        return data, []
    data = copy.deepcopy(data)
    warnings = []
    for path, message in found:
        parent = _get(data, path[:-1])
        del parent[path[-1]]
        warnings.append(_warning(doc, path, message, key=True))
    return data, sorted(warnings, key=_position)


def warn_pctasks_classes(data: Any, doc: LocatedDocument) -> list[ConfigWarning]:
    """Warnings for collection classes from PCTasks' own package, which etl's image lacks."""
    collections = data.get("collections") if isinstance(data, dict) else None
    if not isinstance(collections, list):
        return []
    warnings = []
    for index, collection in enumerate(collections):
        value = collection.get("class") if isinstance(collection, dict) else None
        if isinstance(value, str) and value.startswith(_PCTASKS_CLASS_PREFIX):
            warnings.append(
                _warning(
                    doc,
                    ("collections", index, "class"),
                    f"{value!r} is a PCTasks class; unless the image provides pctasks, use "
                    "'etl.dataset:PremadeItemCollection' for premade STAC items",
                )
            )
    return warnings


def _find(data: Any, pattern: KeyPattern, at: FieldPath) -> Iterator[FieldPath]:
    if not pattern:
        yield at
        return
    head, rest = pattern[0], pattern[1:]
    if isinstance(data, dict):
        keys = list(data) if head is ANY else [head] if head in data else []
        for key in keys:
            yield from _find(data[key], rest, (*at, key))
    elif isinstance(data, list) and head is ANY:
        for index, item in enumerate(data):
            yield from _find(item, rest, (*at, index))


def _get(data: Any, path: FieldPath) -> Any:
    for part in path:
        data = data[part]
    return data


def _warning(
    doc: LocatedDocument, path: FieldPath, message: str, *, key: bool = False
) -> ConfigWarning:
    return ConfigWarning(
        message, location=doc.locate(path, key=key), field=format_field_path(path) or None
    )


def _position(warning: ConfigWarning) -> tuple[int, int]:
    where = warning.location
    return (where.line or 0, where.column or 0) if where else (0, 0)
