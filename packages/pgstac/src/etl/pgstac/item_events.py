"""Item events of a load or a removal, decided and recorded inside the transaction that makes the
change (:mod:`etl.pgstac.outbox`).

Created or updated is read from the database, not guessed: before the batch is written, the
transaction reads its ids' row versions (``xmin``); afterwards, again. An id that had no row was
created, one whose version changed was updated, and one whose version stayed was not touched (an
``upsert`` of the same content writes nothing, as ``ignore`` does with an existing id): no event.
A removal's events are those of the ids it deleted. Two index reads of the batch's ids cost little
beside the load; the batch's events go in as one row of the outbox.

An event's id is derived from the change (type, collection, item, run and the row version), so it
is the same every time it is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from etl.core.notifications.cloud_event import (
    CloudEvent,
    EventType,
    event_id,
    item_event_source,
)
from etl.core.notifications.targets import ITEM_BODY_LIMIT
from etl.pgstac.outbox import Connection, OutboxBatch, record_events

__all__ = [
    "EventTarget",
    "ItemEventSpec",
    "item_versions",
    "record_load_events",
    "record_removal_events",
]


@dataclass(frozen=True)
class EventTarget:
    """A target as the outbox knows it: its key, and whether its events carry the item."""

    key: str
    include_item: bool = False


@dataclass(frozen=True)
class ItemEventSpec:
    """What a load needs to record item events: whose they are and where they go."""

    dataset: str
    run_id: str
    """The run (workflow) that makes the changes; part of every event's id and data."""
    targets: tuple[EventTarget, ...]


def item_versions(conn: Connection, collection_id: str, ids: Sequence[str]) -> dict[str, str]:
    """The row version (``xmin``) of each of ``ids`` the collection has.

    One index probe an id (a lateral lookup with ``LIMIT 1`` cannot be planned otherwise): read
    inside a load, the partition has no statistics yet, and ``id = ANY(ids)`` was planned as a
    parallel scan of the whole partition, whose cost grew with the collection (92 ms a read of
    5,000 ids at 100,000 items, 2 reads a batch). The ids go as a binary array (``%b``): the
    text array's quoting of every id cost five times its CPU (2 µs an id, 2 reads an item)."""
    rows = conn.execute(
        "SELECT w.id, i.version FROM unnest(%b::text[]) AS w(id) CROSS JOIN LATERAL "
        "(SELECT xmin::text AS version FROM items WHERE collection = %s AND id = w.id LIMIT 1) i",
        (list(ids), collection_id),
    )
    return {row[0]: row[1] for row in rows}


def record_load_events(
    conn: Connection,
    spec: ItemEventSpec,
    collection_id: str,
    items: Iterable[Mapping[str, Any]],
    *,
    before: Mapping[str, str],
    after: Mapping[str, str],
) -> int:
    """Record the events of the batch ``items`` whose rows were created or changed (``before``
    and ``after``: :func:`item_versions` around the load), inside the caller's transaction.
    Returns how many events were recorded."""
    changes = []
    for item in items:
        item_id = item["id"]
        version = after.get(item_id)
        if version is None or before.get(item_id) == version:
            continue
        kind = EventType.ITEM_CREATED if item_id not in before else EventType.ITEM_UPDATED
        changes.append((kind, item_id, version, item))
    return record_events(conn, _batch(spec, collection_id, changes))


def record_removal_events(
    conn: Connection,
    spec: ItemEventSpec,
    collection_id: str,
    removed: Mapping[str, str],
) -> int:
    """Record a ``deleted`` event for each of ``removed`` (id → its row version before the
    delete), inside the caller's transaction; returns how many."""
    changes = [(EventType.ITEM_DELETED, item_id, v, None) for item_id, v in removed.items()]
    return record_events(conn, _batch(spec, collection_id, changes))


_Change = tuple[EventType, str, str, "Mapping[str, Any] | None"]


def _batch(spec: ItemEventSpec, collection_id: str, changes: Sequence[_Change]) -> OutboxBatch:
    """The batch's events as JSON texts (and with their items, when a target asks for them).

    Each event is the envelope of :meth:`CloudEvent.to_dict` (made once a batch and kind) with
    its id, subject and data filled in, encoded by orjson: a tenth of the CPU of building a
    ``CloudEvent`` and encoding it with ``json`` per item (a load writes an event an item)."""
    now = datetime.now(UTC)
    source = item_event_source(spec.dataset, collection_id)
    envelopes = {
        kind: CloudEvent("", source, kind, "", now).to_dict()
        for kind in {change[0] for change in changes}
    }
    with_items: list[str] | None = (
        [] if any(target.include_item for target in spec.targets) else None
    )
    plain = []
    for kind, item_id, version, item in changes:
        data: dict[str, Any] = {
            "collection": collection_id,
            "item_id": item_id,
            "href": _self_href(item),
            "run_id": spec.run_id,
        }
        event = envelopes[kind] | {
            "id": event_id(str(kind), collection_id, item_id, spec.run_id, version),
            "subject": item_id,
            "data": data,
        }
        plain.append(orjson.dumps(event).decode("utf-8"))
        if with_items is not None:
            with_items.append(_with_item(event, item) if item is not None else plain[-1])
    targets = tuple(target.key for target in spec.targets)
    return OutboxBatch(collection_id, targets, plain, with_items)


def _with_item(event: dict[str, Any], item: Mapping[str, Any]) -> str:
    """``event`` with ``item`` in its data, or why it is left out (over the size limit). orjson
    encodes whatever pypgstac (itself orjson) loads."""
    body = orjson.dumps(item)
    data = dict(event["data"])
    if len(body) <= ITEM_BODY_LIMIT:
        data["item"] = orjson.Fragment(body)
    else:
        data["item_omitted"] = f"the item's JSON is over {ITEM_BODY_LIMIT} bytes"
    return orjson.dumps(event | {"data": data}).decode("utf-8")


def _self_href(item: Mapping[str, Any] | None) -> str | None:
    """The item's ``self`` link, if it has one."""
    for link in (item or {}).get("links") or ():
        if isinstance(link, Mapping) and link.get("rel") == "self":
            href = link.get("href")
            return href if isinstance(href, str) else None
    return None
