"""Storage events as Azure writes them to a queue, read into :class:`StorageEvent` and written back.

Event Grid delivers each event to a Storage Queue as one message: the base64 of the event's JSON,
in the Event Grid schema (``eventType``, ``eventTime``, ``topic``, ``dataVersion``,
``metadataVersion``) or the CloudEvents 1.0 schema (``type``, ``time``, ``source``,
``specversion``); Azure documents both (docs/streaming.md). etl acts on
``Microsoft.Storage.BlobCreated`` and ``Microsoft.Storage.BlobDeleted``; the blob is ``data.url``,
read back into ``blob://ACCOUNT/CONTAINER/PATH`` by :func:`~etl.core.storage.urls.blob_uri_of_url`.

A message that is no such event raises :class:`NotAnEventError`, naming why (:class:`NotAnEvent`):
a permanent error, so such a message is dead-lettered at once, never retried.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from etl.core.errors import ConfigError, InputError, StorageError
from etl.core.input_limits import parse_bounded_json
from etl.core.profiles.model import Profile
from etl.core.queues.event_types import EVENT_TYPES, EventKind, EventSchema
from etl.core.storage.urls import blob_uri_of_url

__all__ = [
    "NotAnEvent",
    "NotAnEventError",
    "StorageEvent",
    "encode_event",
    "parse_event",
]


_KINDS = {event_type: kind for kind, event_type in EVENT_TYPES.items()}
# The keys that tell the schemas apart: (event type, event time) of each.
_SCHEMA_KEYS = {
    EventSchema.EVENT_GRID: ("eventType", "eventTime"),
    EventSchema.CLOUD_EVENTS: ("type", "time"),
}
_CLOUD_EVENTS_VERSION = "1.0"


class NotAnEvent(StrEnum):
    """Why a queue message is not a storage event etl acts on."""

    BAD_BASE64 = "bad base64"
    BAD_JSON = "bad JSON"
    UNKNOWN_SCHEMA = "unknown schema"
    UNKNOWN_EVENT_TYPE = "unknown event type"
    BAD_URL = "bad blob URL"


class NotAnEventError(InputError):
    """A queue message that is not a storage event etl acts on (permanent: never retried).

    Attributes:
        reason: Why, one of :class:`NotAnEvent`.
    """

    def __init__(self, reason: NotAnEvent, detail: str) -> None:
        super().__init__(f"not a storage event ({reason}): {detail}")
        self.reason = reason


@dataclass(frozen=True)
class StorageEvent:
    """One storage event, as etl acts on it.

    Attributes:
        kind: Created or deleted.
        blob_uri: The blob, ``blob://ACCOUNT/CONTAINER/PATH``.
        url: The blob's URL as the event gives it (``data.url``).
        id: The event's id (unique per event; a redelivered message repeats it).
        time: When it happened, as the event writes it (ISO 8601, UTC).
        schema: The schema it came in.
    """

    kind: EventKind
    blob_uri: str
    url: str
    id: str
    time: str
    schema: EventSchema


def encode_event(document: dict[str, Any]) -> str:
    """A queue message's text for one event, as Event Grid writes it: the base64 of its JSON."""
    return base64.b64encode(json.dumps(document).encode("utf-8")).decode("ascii")


def parse_event(message: str | bytes, profile: Profile | None = None) -> StorageEvent:
    """The storage event a queue message holds.

    Args:
        message: The message's text, as the queue holds it (base64).
        profile: Whose storage accounts' endpoints name ``data.url``'s account (Azurite's, or an
            ``account_url`` of the profile); without one, Azure's ``ACCOUNT.blob.core.windows.net``.

    Raises:
        NotAnEventError: the message is not base64, not JSON, in neither schema, of another event
            type, or its ``data.url`` is not a blob URL.
    """
    document = _document(message)
    schema = _schema(document)
    type_key, time_key = _SCHEMA_KEYS[schema]
    kind = _KINDS.get(str(document[type_key]))
    if kind is None:
        known = ", ".join(EVENT_TYPES.values())
        raise NotAnEventError(
            NotAnEvent.UNKNOWN_EVENT_TYPE, f"{document[type_key]!r} (etl acts on {known})"
        )
    data = document.get("data")
    url = data.get("url") if isinstance(data, dict) else None
    if not isinstance(url, str):
        raise NotAnEventError(NotAnEvent.BAD_URL, f"{EVENT_TYPES[kind]} event without data.url")
    try:
        blob_uri = blob_uri_of_url(url, profile)
    except StorageError as exc:
        raise NotAnEventError(NotAnEvent.BAD_URL, str(exc)) from None
    return StorageEvent(
        kind=kind,
        blob_uri=blob_uri,
        url=url,
        id=str(document.get("id", "")),
        time=str(document.get(time_key, "")),
        schema=schema,
    )


def _document(message: str | bytes) -> dict[str, Any]:
    """The JSON object a message's base64 holds."""
    try:
        raw = base64.b64decode(message, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NotAnEventError(NotAnEvent.BAD_BASE64, f"the message is not base64 ({exc})") from None
    try:
        document = parse_bounded_json(raw.decode("utf-8"), "queue message")
    except (UnicodeDecodeError, json.JSONDecodeError, ConfigError) as exc:
        raise NotAnEventError(
            NotAnEvent.BAD_JSON, f"the message's base64 does not hold JSON ({exc})"
        ) from None
    if not isinstance(document, dict):
        raise NotAnEventError(
            NotAnEvent.UNKNOWN_SCHEMA,
            f"the message holds a JSON {type(document).__name__}, not one event object",
        )
    return document


def _schema(document: dict[str, Any]) -> EventSchema:
    if document.get("specversion") == _CLOUD_EVENTS_VERSION and "type" in document:
        return EventSchema.CLOUD_EVENTS
    if "eventType" in document and "eventTime" in document:
        return EventSchema.EVENT_GRID
    raise NotAnEventError(
        NotAnEvent.UNKNOWN_SCHEMA,
        "neither an Event Grid event (eventType, eventTime) nor a CloudEvents 1.0 event "
        f"(specversion 1.0, type, time); keys: {', '.join(sorted(document)) or 'none'}",
    )
