"""Sending batches of events to a target: an Azure Storage Queue, an Event Grid topic, a webhook.

A sender takes events as their JSON text and sends them in as few requests as the target allows
(:func:`pack`): a queue message holds a CloudEvents JSON batch of up to :data:`QUEUE_MESSAGE_BYTES`
(:data:`QUEUE_SENDS` messages sent at once, so they may arrive out of order), or with the target's
``compress`` the base64 of the batch's gzip in as many characters (:func:`gzip_messages`: about 6
times the events; a queue's cost is per message more than per byte: 4-5 ms of the SDK's CPU a
message of any size, and Azurite's 3 ms plus 0.03 ms a KiB); an HTTP request one of up to
:data:`HTTP_BATCH_BYTES` (Event Grid's limit), in order. A failure raises
:class:`~etl.core.errors.RemoteError` (or the queue's ``StorageError``), ``transient`` when a
retry may cure it (no answer, a timeout, 408, 429, 5xx); the message names the target, never a
credential.

Webhook requests carry ``X-Etl-Signature-256: sha256=HEX``, the HMAC-SHA256 of the exact body
bytes keyed with the webhook's secret (as GitHub's ``X-Hub-Signature-256``); the secret itself is
never sent. Event Grid requests carry the topic's key as ``aeg-sas-key``, or an Azure AD token.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from etl.core.errors import RemoteError
from etl.core.notifications.cloud_event import BATCH_CONTENT_TYPE, batch_json
from etl.core.notifications.targets import NotificationTarget, TargetKind
from etl.core.queues.uris import parse_queue_uri
from etl.core.templating.secret_refs import SecretLookup, resolve_secret_refs

if TYPE_CHECKING:
    from etl.core.profiles.model import Profile

__all__ = [
    "EVENT_GRID_SCOPE",
    "HTTP_BATCH_BYTES",
    "QUEUE_MESSAGE_BYTES",
    "SIGNATURE_HEADER",
    "Sender",
    "event_grid_url",
    "gzip_messages",
    "pack",
    "sender_for",
    "signature",
]

Sender = Callable[[Sequence[str]], None]
"""Sends events (their JSON text) to one target, or raises."""

SIGNATURE_HEADER = "X-Etl-Signature-256"
SIGNATURE_PREFIX = "sha256="
EVENT_GRID_KEY_HEADER = "aeg-sas-key"
EVENT_GRID_SCOPE = "https://eventgrid.azure.net/.default"
EVENT_GRID_API_VERSION = "2018-01-01"
"""The ``api-version`` of Event Grid's publish API for custom topics (added when not given)."""
QUEUE_MESSAGE_BYTES = 60 * 1024
"""Most bytes of a queue message's batch (Azure's limit is 64 KiB)."""
QUEUE_SENDS = 8
"""Queue messages sent at once (the queue service takes one message a request)."""
_GZIP_GUESS = 6
"""Bytes of events' JSON a compressed message's character is first assumed to hold (level 1
gzip of item events' batches shrinks them 8-11 times, base64 adds a third back)."""
HTTP_BATCH_BYTES = 1024 * 1024
"""Most bytes of one request's batch (Event Grid's limit is 1 MB)."""
HTTP_TIMEOUT = 30.0
_TRANSIENT_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})


def signature(secret: str, body: bytes) -> str:
    """The value of :data:`SIGNATURE_HEADER` for ``body``: ``sha256=`` and the HMAC's hex."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def pack(events: Sequence[str], limit: int) -> Iterator[list[str]]:
    """``events`` in order, cut into batches whose JSON array stays within ``limit`` bytes (an
    event larger than that alone goes in a batch of its own)."""
    batch: list[str] = []
    size = 2
    for event in events:
        length = (len(event) if event.isascii() else len(event.encode("utf-8"))) + 1
        if batch and size + length > limit:
            yield batch
            batch, size = [], 2
        batch.append(event)
        size += length
    if batch:
        yield batch


def gzip_messages(events: Sequence[str], limit: int) -> Iterator[str]:
    """``events`` in order as queue messages' texts of at most ``limit`` characters, each the
    base64 of the gzip of a JSON batch (an event too large alone goes in a message of its own)."""
    for batch in pack(events, limit * _GZIP_GUESS):
        yield from _gzip_fitted(batch, limit)


def _gzip_fitted(batch: list[str], limit: int) -> Iterator[str]:
    """``batch`` as one message, or, when it compresses to more than ``limit``, its halves'."""
    packed = gzip.compress(batch_json(batch), compresslevel=1, mtime=0)
    text = base64.b64encode(packed).decode("ascii")
    if len(text) <= limit or len(batch) == 1:
        yield text
        return
    half = len(batch) // 2
    yield from _gzip_fitted(batch[:half], limit)
    yield from _gzip_fitted(batch[half:], limit)


def sender_for(target: NotificationTarget, profile: Profile, secrets: SecretLookup) -> Sender:
    """The sender of ``target``; its secret is resolved now (a missing one raises
    :class:`~etl.core.errors.SecretError`)."""
    if target.kind is TargetKind.QUEUE:
        return _queue_sender(target.queue or "", profile, compress=target.compress)
    if target.kind is TargetKind.WEBHOOK:
        key = resolve_secret_refs(target.secret or "", secrets)
        url = target.webhook or ""
        return lambda events: _post_batches(
            url, events, lambda body: {SIGNATURE_HEADER: signature(key, body)}
        )
    topic = target.event_grid
    assert topic is not None
    url = event_grid_url(topic.endpoint)
    if topic.key is not None:
        topic_key = resolve_secret_refs(topic.key, secrets)
        return lambda events: _post_batches(
            url, events, lambda _body: {EVENT_GRID_KEY_HEADER: topic_key}
        )
    return lambda events: _post_batches(url, events, _azure_ad_header)


def event_grid_url(endpoint: str) -> str:
    """The URL events are posted to: the topic's endpoint with ``api-version`` (kept if given)."""
    parts = urlsplit(endpoint)
    query = dict(parse_qsl(parts.query))
    query.setdefault("api-version", EVENT_GRID_API_VERSION)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _azure_ad_header(_body: bytes) -> dict[str, str]:
    from etl.core.azure_identity import default_credential

    try:
        token = default_credential().get_token(EVENT_GRID_SCOPE).token
    except Exception as exc:  # azure-identity raises its own ClientAuthenticationError
        raise RemoteError(f"no Azure AD token for Event Grid: {exc}", transient=True) from exc
    return {"Authorization": f"Bearer {token}"}


def _queue_sender(uri: str, profile: Profile, *, compress: bool) -> Sender:
    from azure.core.exceptions import AzureError

    from etl.core.queues.clients import queue_client, queue_error

    location = parse_queue_uri(uri)
    client = queue_client(location, profile)

    def send_one(text: str) -> None:
        try:
            client.send_message(text)
        except AzureError as exc:
            raise queue_error(exc, f"sending events to {uri}") from exc

    def messages(events: Sequence[str]) -> list[str]:
        if compress:
            return list(gzip_messages(events, QUEUE_MESSAGE_BYTES))
        return [batch_json(b).decode("utf-8") for b in pack(events, QUEUE_MESSAGE_BYTES)]

    def send(events: Sequence[str]) -> None:
        texts = messages(events)
        if len(texts) == 1:
            send_one(texts[0])
            return
        with ThreadPoolExecutor(min(QUEUE_SENDS, len(texts))) as pool:
            for _ in pool.map(send_one, texts):  # the first failure raises
                pass

    return send


def _post_batches(
    url: str, events: Sequence[str], headers_of: Callable[[bytes], dict[str, str]]
) -> None:
    for batch in pack(events, HTTP_BATCH_BYTES):
        body = batch_json(batch)
        request = urllib.request.Request(url, data=body, method="POST")
        request.add_header("Content-Type", BATCH_CONTENT_TYPE)
        for name, value in headers_of(body).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer:
                answer.read()
        except urllib.error.HTTPError as exc:
            raise RemoteError(
                f"{url} answered {exc.code} {exc.reason}", transient=exc.code in _TRANSIENT_HTTP
            ) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RemoteError(f"{url} did not answer: {reason}", transient=True) from exc
