"""The CloudEvents etl sends (CloudEvents 1.0, JSON, structured mode): the one contract downstream
consumers read, documented in docs/notifications.md and checked by ``schema.json`` beside this
module.

Every event type string is named here once. An event's ``id`` is derived from the change it
reports (:func:`event_id`), never drawn at random: a re-sent event repeats its id, so consumers drop
duplicates by id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "BATCH_CONTENT_TYPE",
    "EVENT_CONTENT_TYPE",
    "JSON_CONTENT_TYPE",
    "SCHEMA_PATH",
    "SPEC_VERSION",
    "CloudEvent",
    "EventType",
    "batch_json",
    "event_id",
    "item_event_source",
    "run_event_source",
]

SPEC_VERSION = "1.0"
JSON_CONTENT_TYPE = "application/json"
"""The ``datacontenttype`` of every event etl sends: ``data`` is a JSON object."""
EVENT_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
"""The HTTP ``Content-Type`` of one event in structured mode."""
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json; charset=utf-8"
"""The HTTP ``Content-Type`` of a batch: a JSON array of events (Event Grid's and webhooks')."""

SCHEMA_PATH = Path(__file__).with_name("schema.json")
"""The JSON schema of every event etl sends (shipped with the package, linked from the docs)."""

_TYPE_PREFIX = "dev.etl."


class EventType(StrEnum):
    """The ``type`` of every event etl sends."""

    ITEM_CREATED = _TYPE_PREFIX + "item.created"
    ITEM_UPDATED = _TYPE_PREFIX + "item.updated"
    ITEM_DELETED = _TYPE_PREFIX + "item.deleted"
    RUN_SUCCEEDED = _TYPE_PREFIX + "run.succeeded"
    RUN_FAILED = _TYPE_PREFIX + "run.failed"


def item_event_source(dataset: str, collection: str) -> str:
    """The ``source`` of a collection's item events: ``/etl/datasets/DATASET/collections/ID``."""
    return f"/etl/datasets/{dataset}/collections/{collection}"


def run_event_source(dataset: str) -> str:
    """The ``source`` of a dataset's run events: ``/etl/datasets/DATASET``."""
    return f"/etl/datasets/{dataset}"


def event_id(*parts: str) -> str:
    """A stable event id: the first 32 hex digits of the SHA-256 of ``parts`` (what identifies the
    change: its type, the collection, the item, the run, the content), so the same change always
    gets the same id."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:32]


@dataclass(frozen=True)
class CloudEvent:
    """One CloudEvents 1.0 event; ``data`` is a JSON object (``datacontenttype`` JSON)."""

    id: str
    source: str
    type: EventType
    subject: str
    time: datetime
    data: Mapping[str, Any] = field(default_factory=dict)
    datacontenttype: str = JSON_CONTENT_TYPE

    def to_dict(self) -> dict[str, Any]:
        """The event in CloudEvents' JSON format (structured mode), ``time`` RFC 3339 in UTC."""
        return {
            "specversion": SPEC_VERSION,
            "id": self.id,
            "source": self.source,
            "type": str(self.type),
            "subject": self.subject,
            "time": _rfc3339(self.time),
            "datacontenttype": self.datacontenttype,
            "data": dict(self.data),
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as compact JSON text."""
        return _ENCODER.encode(self.to_dict())


def batch_json(events: Iterable[str]) -> bytes:
    """A CloudEvents JSON batch (a JSON array) of events given as their JSON text, UTF-8."""
    return ("[" + ",".join(events) + "]").encode("utf-8")


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
"""One compact encoder (``json.dumps`` with options builds one a call: a load writes an event a
item)."""


@lru_cache(maxsize=16)
def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
