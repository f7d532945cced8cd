"""Where events go: the entries of a ``notifications:`` list (dataset.yaml, per collection, or the
profile), each one target.

Keys (a contract: CI pipelines and docs are written against them)::

    notifications:
      - queue: queue://ACCOUNT/NAME                 # an Azure Storage Queue of the profile
      - event_grid:                                 # an Event Grid topic (CloudEvents schema)
          endpoint: https://TOPIC.REGION-1.eventgrid.azure.net/api/events
          key: $<< secrets.TOPIC_KEY >>             # or no key: Azure AD (workload identity)
      - webhook: https://hooks.example.org/stac
        secret: $<< secrets.HOOK_SECRET >>          # HMAC-SHA256 of every body; never sent
      - queue: queue://ACCOUNT/OTHER
        compress: true                              # messages: base64 of the gzip of the batch

Secrets are always ``$<< secrets.NAME >>`` references, resolved in the pod that delivers.
Each target has a :attr:`NotificationTarget.key`, the text the outbox files its events under.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from etl.core.errors import InputError
from etl.core.queues.uris import parse_queue_uri
from etl.core.templating.secret_refs import find_secret_refs

__all__ = [
    "ITEM_BODY_LIMIT",
    "EventGridTopic",
    "NotificationTarget",
    "TargetKind",
    "effective_targets",
]

ITEM_BODY_LIMIT = 32 * 1024
"""Most bytes of an item's JSON sent inside its event (``include_item``); a larger item's event
carries its href alone (``data.item_omitted``), so every event fits an Azure queue message."""


class TargetKind(StrEnum):
    """The kinds of target, as their key in a ``notifications:`` entry."""

    QUEUE = "queue"
    EVENT_GRID = "event_grid"
    WEBHOOK = "webhook"


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("etl_notifications", "{message}", {"message": message})


def _secret_reference(value: str, field: str) -> str:
    if value.strip() != value or len(find_secret_refs(value)) != 1 or not value.startswith("$<<"):
        raise _fail(f"{field} must be one secret reference, $<< secrets.NAME >>, never the value")
    return value


def _https_url(value: str, field: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _fail(f"{field} must be an http(s) URL, got {value!r}")
    return value


class _Model(BaseModel):
    # Validators built on first use (a profile's validator includes them; none of their own).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class EventGridTopic(_Model):
    """An Event Grid topic whose input schema is CloudEvents 1.0."""

    endpoint: str = Field(
        description="The topic's endpoint, `https://TOPIC.REGION-1.eventgrid.azure.net/api/events`."
    )
    key: str | None = Field(
        None,
        description="An access key of the topic, as `$<< secrets.NAME >>` (sent as `aeg-sas-key`); "
        "none: Azure AD (the pod's workload identity needs the role `EventGrid Data Sender`).",
    )

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        return _https_url(value, "endpoint")

    @field_validator("key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        return None if value is None else _secret_reference(value, "key")


class NotificationTarget(_Model):
    """One target of item (and run) events: exactly one of `queue`, `event_grid`, `webhook`."""

    queue: str | None = Field(
        None,
        description="An Azure Storage Queue, `queue://ACCOUNT/NAME` (the profile's "
        "`storage.ACCOUNT` credentials); each message is a JSON batch of events.",
    )
    event_grid: EventGridTopic | None = Field(
        None, description="An Event Grid topic (CloudEvents 1.0 input schema)."
    )
    webhook: str | None = Field(
        None,
        description="An http(s) URL; every request is a POST of a JSON batch of events, signed "
        "with `secret` (header `X-Etl-Signature-256`).",
    )
    secret: str | None = Field(
        None,
        description="The webhook's signing secret, `$<< secrets.NAME >>`: the HMAC-SHA256 key of "
        "every request's body, never sent.",
    )
    compress: bool = Field(
        False,
        description="A queue's messages as the base64 of the gzip of the JSON batch (up to 60 KiB "
        "of text, about 6 times the events a message, so 6 times fewer requests): its consumers "
        "decode base64, then gunzip.",
    )
    include_item: bool = Field(
        False,
        description="Put the item itself in `data.item` of item events (up to 32 KiB of JSON; a "
        "larger item is left out and `data.item_omitted` says so).",
    )

    @field_validator("queue")
    @classmethod
    def _queue(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_queue_uri(value)
            except InputError as exc:
                raise _fail(str(exc)) from None
        return value

    @field_validator("webhook")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        return None if value is None else _https_url(value, "webhook")

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        return None if value is None else _secret_reference(value, "secret")

    @model_validator(mode="after")
    def _one_kind(self) -> NotificationTarget:
        kinds = [kind.value for kind in TargetKind if getattr(self, kind.value) is not None]
        if len(kinds) != 1:
            named = " and ".join(kinds) if kinds else "none"
            raise _fail(f"a target is exactly one of queue, event_grid, webhook (got {named})")
        if self.webhook is not None and self.secret is None:
            raise _fail("a webhook needs a secret: $<< secrets.NAME >> (its requests are signed)")
        if self.webhook is None and self.secret is not None:
            raise _fail("secret is a webhook's; a queue or event_grid target takes none")
        if self.compress and self.queue is None:
            raise _fail("compress is a queue's; an event_grid or webhook target takes none")
        return self

    @property
    def kind(self) -> TargetKind:
        """Which kind of target this is."""
        return next(kind for kind in TargetKind if getattr(self, kind.value) is not None)

    @property
    def key(self) -> str:
        """The target's identity in the outbox: ``queue://ACCOUNT/NAME``,
        ``event_grid:ENDPOINT`` or ``webhook:URL``."""
        if self.queue is not None:
            return self.queue
        if self.event_grid is not None:
            return f"{TargetKind.EVENT_GRID.value}:{self.event_grid.endpoint}"
        return f"{TargetKind.WEBHOOK.value}:{self.webhook}"


def effective_targets(
    dataset: Sequence[NotificationTarget] | None,
    collection: Sequence[NotificationTarget] | None,
    profile: Sequence[NotificationTarget] | None,
) -> tuple[NotificationTarget, ...]:
    """A collection's targets: the profile's ``notifications`` when it has the key (``[]``
    silences a dataset's), otherwise the dataset's followed by the collection's; one per key."""
    chosen = list(profile) if profile is not None else [*(dataset or ()), *(collection or ())]
    seen: dict[str, NotificationTarget] = {}
    for target in chosen:
        seen.setdefault(target.key, target)
    return tuple(seen.values())
