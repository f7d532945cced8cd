"""Items on their way to PgSTAC: reading ndjson, checked fixed-size batches.

Nothing here talks to the database; a batch is checked here so that PgSTAC never sees an item it
would refuse with a message that does not say which item it was.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etl.pgstac.errors import ItemError

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "Batch",
    "iter_batches",
    "parse_ndjson",
    "read_ndjson",
]

DEFAULT_BATCH_SIZE = 10_000
"""Items per load transaction: pypgstac loads ~11.5k items/s at 10k, ~8.2k at 1k."""


@dataclass(frozen=True)
class Batch:
    """A checked slice of the input: item dicts as given, their ids, where it starts."""

    index: int
    """0-based position of the batch in the load."""
    items: list[dict[str, Any]]
    ids: list[str]
    first: int
    """1-based position of the batch's first item in the input."""


def read_ndjson(path: Path) -> Iterator[dict[str, Any]]:
    """Stream the items of an ndjson file; see :func:`parse_ndjson`."""
    with path.open("rb") as lines:
        yield from parse_ndjson(lines, source=str(path))


def parse_ndjson(lines: Iterable[str | bytes], *, source: str) -> Iterator[dict[str, Any]]:
    """Parse ndjson lines (a file, or storage text split into lines), one JSON object a line.

    Blank lines are skipped.

    Raises:
        ItemError: a line is not a JSON object (the error names ``SOURCE:LINE``).
    """
    import orjson

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ItemError(
                f"not valid JSON: {exc}", item_id=None, source=f"{source}:{number}"
            ) from exc
        if not isinstance(value, dict):
            raise ItemError("not a JSON object", item_id=None, source=f"{source}:{number}")
        yield value


def iter_batches(
    items: Iterable[dict[str, Any]],
    collection_id: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
    *,
    source: str | None = None,
) -> Iterator[Batch]:
    """Cut ``items`` into checked batches of at most ``batch_size``, holding one batch at a time.

    Args:
        items: STAC item dicts; they are passed on as they are, never copied or re-serialized.
        collection_id: every item's ``collection`` must equal it.
        batch_size: items per batch.
        source: where the items come from, named in errors.

    Raises:
        ItemError: an item has no id, another collection, no datetime or no geometry, or its id
            appears twice in one batch.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    iterator = iter(items)
    position = 0
    for index in itertools.count():
        chunk = list(itertools.islice(iterator, batch_size))
        if not chunk:
            return
        ids: list[str] = []
        seen: set[str] = set()
        for item in chunk:
            position += 1
            item_id = _checked_id(item, collection_id, position, source)
            if item_id in seen:
                raise ItemError(
                    f"appears twice in one batch (second time as item #{position})",
                    item_id=item_id,
                    source=source,
                )
            seen.add(item_id)
            ids.append(item_id)
        yield Batch(index=index, items=chunk, ids=ids, first=position - len(chunk) + 1)


def _checked_id(item: Any, collection_id: str, position: int, source: str | None) -> str:
    """The id of one item, after checking what PgSTAC needs of it."""
    where = f"{source} item #{position}" if source else f"item #{position}"
    if not isinstance(item, dict):
        raise ItemError(
            f"is a {type(item).__name__}, not a JSON object", item_id=None, source=where
        )
    item_id = item.get("id")
    if not isinstance(item_id, str) or not item_id:
        raise ItemError("has no string 'id'", item_id=None, source=where)
    collection = item.get("collection")
    if collection != collection_id:
        raise ItemError(
            f"belongs to collection {collection!r}, not {collection_id!r}",
            item_id=item_id,
            source=where,
        )
    properties = item.get("properties")
    if not isinstance(properties, dict) or not (
        properties.get("datetime")
        or (properties.get("start_datetime") and properties.get("end_datetime"))
    ):
        raise ItemError(
            "has neither properties.datetime nor start_datetime and end_datetime",
            item_id=item_id,
            source=where,
        )
    if not isinstance(item.get("geometry"), dict):
        raise ItemError("has no geometry (PgSTAC requires one)", item_id=item_id, source=where)
    return item_id
