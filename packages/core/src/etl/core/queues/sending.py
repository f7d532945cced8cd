"""Storage events for blobs, put into a queue exactly as Event Grid puts them: for tests, replays
and backfills (``etl dataset send-events``).

Each message is the base64 of one event's JSON (:func:`~etl.core.queues.events.encode_event`), in
the Event Grid schema or the CloudEvents 1.0 schema, with the keys, key order and value types of
Azure's documented ``Microsoft.Storage.BlobCreated`` and ``Microsoft.Storage.BlobDeleted`` examples.
``data.url`` is the blob's URL at its account's endpoint
(:func:`~etl.core.storage.urls.blob_url`); the ETag, content type and length are the blob's own.
What Azure alone knows is made up in its shape: the topic names subscription
``00000000-0000-0000-0000-000000000000`` and resource group ``etl-send-events``, the request ids are
new UUIDs, the sequencer grows with the clock, and the blob type is ``BlockBlob``.

The queue is created when missing (on Azure the event subscription needs it first). A URI
ending with ``/`` stands for every blob under it. A created event names a blob that exists; a
deleted event may name a blob that is gone (its content type is then unknown:
``application/octet-stream``).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from etl.core.errors import OptionError, StorageError
from etl.core.profiles.model import Profile
from etl.core.queues.clients import queue_client, queue_error
from etl.core.queues.event_types import EVENT_TYPES, EventKind, EventSchema
from etl.core.queues.events import encode_event
from etl.core.queues.uris import QueueLocation
from etl.core.storage.base import ObjectInfo
from etl.core.storage.opening import open_storage_for
from etl.core.storage.uris import BLOB_SCHEME, parse_blob_uri
from etl.core.storage.urls import blob_url

__all__ = ["event_document", "events_blobs", "send_events"]

_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
_RESOURCE_GROUP = "etl-send-events"
_BLOB_TYPE = "BlockBlob"
_UNKNOWN_CONTENT_TYPE = "application/octet-stream"
_QUOTE = '"'
_API = {EventKind.CREATED: "PutBlob", EventKind.DELETED: "DeleteBlob"}


def events_blobs(uris: Sequence[str], kind: EventKind, profile: Profile) -> Iterator[ObjectInfo]:
    """The blobs ``uris`` name, with their properties: each blob, or every blob under a URI ending
    with ``/``.

    Raises:
        OptionError: a URI is not ``blob://ACCOUNT/CONTAINER/PATH``.
        StorageError: a created event's blob does not exist, or the storage failed.
    """
    for uri in uris:
        if not uri.startswith(BLOB_SCHEME):
            raise OptionError("uri", f"{uri!r}: give blob://ACCOUNT/CONTAINER/PATH (or a prefix/)")
        name = parse_blob_uri(uri).prefix
        storage = open_storage_for(uri, profile=profile)
        if uri.endswith("/") or not name:
            yield from storage.list_objects(f"{name}/" if name else "", with_properties=True)
            continue
        found = [
            info for info in storage.list_objects(name, with_properties=True) if info.path == name
        ]
        if found:
            yield found[0]
        elif kind is EventKind.DELETED:
            yield ObjectInfo(uri=storage.uri_of(name), path=name)
        else:
            raise StorageError(
                f"not found: {uri} (a created event names an existing blob; end a prefix with /)"
            )


def event_document(
    kind: EventKind, blob: ObjectInfo, schema: EventSchema, profile: Profile
) -> dict[str, Any]:
    """The event Event Grid writes when ``blob`` is created or deleted, in ``schema``."""
    location = parse_blob_uri(blob.uri)
    resource = (
        f"/subscriptions/{_SUBSCRIPTION}/resourceGroups/{_RESOURCE_GROUP}"
        f"/providers/Microsoft.Storage/storageAccounts/{location.account}"
    )
    subject = f"/blobServices/default/containers/{location.container}/blobs/{location.prefix}"
    moment = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"  # Azure's 7 digits
    request_id = str(uuid.uuid4())
    data: dict[str, Any] = {"api": _API[kind]}
    if kind is EventKind.CREATED:
        data |= {
            "clientRequestId": str(uuid.uuid4()),
            "requestId": request_id,
            "eTag": f'"{(blob.etag or "").strip(_QUOTE)}"',  # quoted, as in the HTTP header
            "contentType": blob.content_type or _UNKNOWN_CONTENT_TYPE,
            "contentLength": blob.size or 0,
        }
    else:
        data |= {
            "requestId": request_id,
            "contentType": blob.content_type or _UNKNOWN_CONTENT_TYPE,
        }
    data |= {
        "blobType": _BLOB_TYPE,
        "url": blob_url(blob.uri, profile),
        "sequencer": f"{time.time_ns():032X}",
        "storageDiagnostics": {"batchId": str(uuid.uuid4())},
    }
    event_id = str(uuid.uuid4())
    if schema is EventSchema.CLOUD_EVENTS:
        return {
            "source": resource,
            "subject": subject,
            "type": EVENT_TYPES[kind],
            "time": moment,
            "id": event_id,
            "data": data,
            "specversion": "1.0",
        }
    return {
        "topic": resource,
        "subject": subject,
        "eventType": EVENT_TYPES[kind],
        "eventTime": moment,
        "id": event_id,
        "data": data,
        "dataVersion": "",
        "metadataVersion": "1",
    }


def send_events(
    queue: QueueLocation,
    uris: Sequence[str],
    *,
    kind: EventKind,
    schema: EventSchema,
    profile: Profile,
) -> list[str]:
    """Put one ``kind`` event for each blob ``uris`` names into ``queue``; the blobs' URIs, in
    the order sent.

    Raises:
        OptionError: a URI is not a ``blob://`` URI.
        StorageError: a blob is missing (created events), or the storage or the queue failed.
    """
    from azure.core.exceptions import AzureError, ResourceExistsError

    client = queue_client(queue, profile)
    sent: list[str] = []
    try:
        with contextlib.suppress(ResourceExistsError):
            client.create_queue()
        for blob in events_blobs(uris, kind, profile):
            client.send_message(encode_event(event_document(kind, blob, schema, profile)))
            sent.append(blob.uri)
    except AzureError as exc:
        raise queue_error(exc, f"cannot send events to {queue.uri}") from None
    return sent
