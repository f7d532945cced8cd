"""Item events of a load or a removal, decided and recorded inside the transaction that makes the
change (:mod:`etl.pgstac.outbox`).

Created or updated is read from the database, not guessed: before the batch is written, the
transaction reads its ids' row versions (``xmin``); afterwards, again. An id that had no row was
created, one whose version changed was updated, and one whose version stayed was not touched (an
``upsert`` of the same content writes nothing, as ``ignore`` does with an existing id): no event.
A batch copied in as new items (the copy fails if any of its ids is there) is all created and
needs no read before; after it, two probes a partition (:func:`copied_versions`). A removal's
events are those of the ids it deleted. The batch's events go in as one row of the outbox.

The events are made before the load takes its load slot, all but their ids
(:func:`prepare_load_events`); inside it, each id, once its version is known, is joined to its
text (:func:`record_load_events`), so the slot is held for little more than the write.

An event's id is derived from the change (type, collection, item, run and the row version), so it
is the same every time it is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from etl.core.notifications.cloud_event import (
    SPEC_VERSION,
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
    "LoadEvents",
    "copied_versions",
    "item_versions",
    "prepare_load_events",
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


@dataclass(frozen=True)
class LoadEvents:
    """A load batch's events made before the load, all but what only the load decides: each
    item's kind and row version, hence its event's ``id`` (:func:`prepare_load_events`)."""

    spec: ItemEventSpec
    collection_id: str
    items: list[tuple[str, str, str | None]]
    """Each item's id, its event's JSON from ``subject`` on, and the same with the item (``None``:
    no target asks for items)."""


def prepare_load_events(
    spec: ItemEventSpec, collection_id: str, items: Iterable[Mapping[str, Any]]
) -> LoadEvents:
    """The events of a batch about to be loaded, all but their kind and id (the rest of each
    event's JSON), made before the load takes its load slot: inside it, recording them
    (:func:`record_load_events`) only joins each id to its text."""
    return _prepared(spec, collection_id, ((item["id"], item) for item in items))


def _prepared(
    spec: ItemEventSpec,
    collection_id: str,
    items: Iterable[tuple[str, Mapping[str, Any] | None]],
) -> LoadEvents:
    """:func:`prepare_load_events` of (id, item) pairs; an item ``None`` (a deleted one) makes
    an event without ``href`` and with no item to include."""
    envelope = CloudEvent("", "", EventType.ITEM_CREATED, "", datetime.now(UTC)).to_dict()
    rest = {key: envelope[key] for key in _AFTER_SUBJECT}
    with_items = any(target.include_item for target in spec.targets)
    made = []
    for item_id, item in items:
        event = {"subject": item_id, **rest, "data": _data(spec, collection_id, item_id, item)}
        tail = _tail(event)
        with_item = _tail(_with_item(event, item)) if with_items and item is not None else tail
        made.append((item_id, tail, with_item if with_items else None))
    return LoadEvents(spec, collection_id, made)


def copied_versions(
    conn: Connection, collection_id: str, ids_by_partition: Mapping[str, Sequence[str]]
) -> dict[str, str]:
    """The row versions of ids just copied into their partitions in the caller's transaction
    (``ids_by_partition``: each partition's ids in the order they were written), as
    :func:`item_versions` reads them, with two index probes a partition instead of one an id:
    every row one copy writes has the same version (its transaction's), so the first and the
    last id of each partition are read, and a partition whose two differ (written by several
    copies) has all its ids read."""
    ends = [id_ for ids in ids_by_partition.values() for id_ in (ids[0], ids[-1])]
    read = item_versions(conn, collection_id, ends)
    versions: dict[str, str] = {}
    unsure: list[str] = []
    for ids in ids_by_partition.values():
        version = read.get(ids[0])
        if version is not None and version == read.get(ids[-1]):
            versions.update(dict.fromkeys(ids, version))
        else:
            unsure.extend(ids)
    if unsure:
        versions.update(item_versions(conn, collection_id, unsure))
    return versions


def record_load_events(
    conn: Connection,
    events: LoadEvents,
    *,
    before: Mapping[str, str],
    after: Mapping[str, str],
) -> int:
    """Record the events of the batch whose rows were created or changed (``before`` and
    ``after``: :func:`item_versions` around the load), inside the caller's transaction.
    Returns how many events were recorded."""

    def change(item_id: str) -> tuple[EventType, str] | None:
        version = after.get(item_id)
        if version is None or before.get(item_id) == version:
            return None
        kind = EventType.ITEM_CREATED if item_id not in before else EventType.ITEM_UPDATED
        return kind, version

    return _record(conn, events, change)


def _record(
    conn: Connection,
    events: LoadEvents,
    change: Callable[[str], tuple[EventType, str] | None],
) -> int:
    """Record the events whose ``change`` (their kind and row version) is not ``None``: each
    id joined to its prepared text, one outbox row."""
    spec, collection_id = events.spec, events.collection_id
    heads = {kind: _head(spec, collection_id, kind) for kind in _ITEM_KINDS}
    plain: list[str] = []
    with_items: list[str] | None = [] if any(t.include_item for t in spec.targets) else None
    for item_id, tail, tail_with_item in events.items:
        changed = change(item_id)
        if changed is None:
            continue
        kind, version = changed
        start, middle = heads[kind]
        head = start + event_id(str(kind), collection_id, item_id, spec.run_id, version) + middle
        plain.append(head + tail)
        if with_items is not None and tail_with_item is not None:
            with_items.append(head + tail_with_item)
    targets = tuple(target.key for target in spec.targets)
    return record_events(conn, OutboxBatch(collection_id, targets, plain, with_items))


_ITEM_KINDS = (EventType.ITEM_CREATED, EventType.ITEM_UPDATED, EventType.ITEM_DELETED)
_AFTER_SUBJECT = ("time", "datacontenttype")
"""The envelope's fields between ``subject`` and ``data`` (:meth:`CloudEvent.to_dict`'s order)."""


def _head(spec: ItemEventSpec, collection_id: str, kind: EventType) -> tuple[str, str]:
    """An event's JSON before its ``id`` value, and from after it to ``subject``: the fields of
    :meth:`CloudEvent.to_dict` in its order, as orjson writes them."""
    source = item_event_source(spec.dataset, collection_id)
    fields = {"specversion": SPEC_VERSION, "id": "", "source": source, "type": str(kind)}
    text = orjson.dumps(fields).decode("utf-8")
    start, _, end = text.rpartition('"id":""')
    return start + '"id":"', '"' + end[:-1] + ","


def _tail(event: Mapping[str, Any]) -> str:
    """``event``'s JSON without its opening brace (``subject`` first)."""
    return orjson.dumps(event)[1:].decode("utf-8")


def _data(
    spec: ItemEventSpec, collection_id: str, item_id: str, item: Mapping[str, Any] | None
) -> dict[str, Any]:
    """An item event's ``data``."""
    return {
        "collection": collection_id,
        "item_id": item_id,
        "href": _self_href(item),
        "run_id": spec.run_id,
    }


def record_removal_events(
    conn: Connection,
    spec: ItemEventSpec,
    collection_id: str,
    removed: Mapping[str, str],
) -> int:
    """Record a ``deleted`` event for each of ``removed`` (id → its row version before the
    delete), inside the caller's transaction; returns how many."""
    made = _prepared(spec, collection_id, ((item_id, None) for item_id in removed))
    return _record(conn, made, lambda item_id: (EventType.ITEM_DELETED, removed[item_id]))


def _with_item(event: dict[str, Any], item: Mapping[str, Any]) -> dict[str, Any]:
    """``event`` with ``item`` in its data, or why it is left out (over the size limit). orjson
    encodes whatever pypgstac (itself orjson) loads."""
    body = orjson.dumps(item)
    data = dict(event["data"])
    if len(body) <= ITEM_BODY_LIMIT:
        data["item"] = orjson.Fragment(body)
    else:
        data["item_omitted"] = f"the item's JSON is over {ITEM_BODY_LIMIT} bytes"
    return event | {"data": data}


def _self_href(item: Mapping[str, Any] | None) -> str | None:
    """The item's ``self`` link, if it has one."""
    for link in (item or {}).get("links") or ():
        if isinstance(link, Mapping) and link.get("rel") == "self":
            href = link.get("href")
            return href if isinstance(href, str) else None
    return None
