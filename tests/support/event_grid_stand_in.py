"""A stand-in for an Event Grid custom topic's publish API, on a local port, checking every request
against Azure's documented shape (learn.microsoft.com/azure/event-grid/post-to-custom-topic, and
the CloudEvents 1.0 input schema): ``POST /api/events?api-version=2018-01-01``, authenticated by
the topic's key in ``aeg-sas-key`` or an Azure AD bearer token, ``Content-Type:
application/cloudevents-batch+json; charset=utf-8``, a JSON array of CloudEvents, each with
``specversion`` 1.0, ``id``, ``source`` and ``type``, the request at most 1 MB. A request that
is not so is answered as Event Grid answers it (401, 400, 413) and kept out of ``events``;
accepted events are also checked against etl's own schema.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cloud_events import check_events
from stand_in_http import StandInHandler, serving

PATH = "/api/events"
API_VERSION = "2018-01-01"
CONTENT_TYPE = "application/cloudevents-batch+json; charset=utf-8"
MAX_REQUEST = 1024 * 1024
REQUIRED = ("specversion", "id", "source", "type")


@dataclass
class EventGridTopic:
    """What the topic accepted and refused."""

    endpoint: str
    key: str
    events: list[dict[str, Any]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _refusal(
    topic: EventGridTopic, method: str, path: str, headers: Any, body: bytes
) -> tuple[int, str] | None:
    url = urlsplit(path)
    if method != "POST" or url.path != PATH:
        return 404, f"{method} {url.path}"
    if parse_qs(url.query).get("api-version") != [API_VERSION]:
        return 400, f"api-version {url.query!r}"
    bearer = (headers.get("Authorization") or "").startswith("Bearer ")
    if headers.get("aeg-sas-key") != topic.key and not bearer:
        return 401, "no valid aeg-sas-key or bearer token"
    if headers.get("Content-Type") != CONTENT_TYPE:
        return 400, f"content type {headers.get('Content-Type')!r}"
    if len(body) > MAX_REQUEST:
        return 413, f"request of {len(body)} bytes"
    try:
        events = json.loads(body)
    except ValueError:
        return 400, "body is not JSON"
    if not isinstance(events, list) or not events:
        return 400, "body is not a non-empty JSON array"
    for event in events:
        missing = [name for name in REQUIRED if not isinstance(event, dict) or name not in event]
        if missing or event.get("specversion") != "1.0":
            return 400, f"an event lacks {missing} or is not CloudEvents 1.0"
    return None


def _handler(topic: EventGridTopic) -> type[StandInHandler]:
    class Handler(StandInHandler):
        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            refusal = _refusal(topic, self.command, self.path, self.headers, body)
            with topic.lock:
                if refusal is None:
                    topic.events.extend(check_events(json.loads(body)))
                else:
                    topic.refused.append(refusal)
            self.send_response(200 if refusal is None else refusal[0])
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


@contextmanager
def event_grid_topic(key: str) -> Iterator[EventGridTopic]:
    """A topic on a free port of 127.0.0.1 for the block's length; ``endpoint`` as Azure shows
    it (``.../api/events``, no api-version)."""
    topic = EventGridTopic("", key)
    with serving(_handler(topic)) as base:
        topic.endpoint = f"{base}{PATH}"
        yield topic
