"""What etl does to a collection's queue besides reading events: its depth, the age of its oldest
message, dead-lettering a message and replaying dead letters.

The consumer (``etl-task consume-events``), the local scaler (``etl dataset stream``),
``etl dataset status`` and ``etl dataset replay-dead-letters`` share these; every Azure error comes
back as :func:`~etl.core.queues.clients.queue_error`'s :class:`~etl.core.errors.StorageError`.
Dead letters are :class:`~etl.core.queues.dead_letters.DeadLetter`'s format.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from etl.core.profiles.model import Profile
from etl.core.queues.clients import queue_client, queue_error
from etl.core.queues.dead_letters import DeadLetter, read_dead_letter
from etl.core.queues.uris import QueueLocation

if TYPE_CHECKING:
    from azure.storage.queue import QueueClient, QueueMessage

__all__ = ["QueueState", "dead_letter", "queue_depth", "queue_state", "replay_dead_letters"]

_PAGE = 32
"""Most messages one receive returns (Azure's limit)."""


@dataclass(frozen=True)
class QueueState:
    """A queue and its dead-letter queue, as ``etl dataset status`` shows them.

    Attributes:
        queue: ``queue://ACCOUNT/NAME``.
        depth: Messages in the queue (Azure's approximate count; hidden ones included).
        oldest_age: Seconds since the oldest visible message was put, or ``None`` (none visible).
        dead_letters: Messages in ``NAME-poison`` (approximate).
    """

    queue: str
    depth: int
    oldest_age: float | None
    dead_letters: int


def queue_depth(client: QueueClient) -> int:
    """The queue's approximate message count; a queue that does not exist holds none."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return int(client.get_queue_properties().approximate_message_count or 0)
    except ResourceNotFoundError:
        return 0


def queue_state(location: QueueLocation, profile: Profile) -> QueueState:
    """The depth and oldest message of ``location`` and the depth of its dead-letter queue.

    Raises:
        StorageError: the queue service failed or refused.
    """
    from azure.core.exceptions import AzureError, ResourceNotFoundError

    client = queue_client(location, profile)
    try:
        depth = queue_depth(client)
        oldest = None
        with contextlib.suppress(ResourceNotFoundError):
            peeked = client.peek_messages(max_messages=1)
            if peeked and peeked[0].inserted_on is not None:
                oldest = (datetime.now(UTC) - peeked[0].inserted_on).total_seconds()
        dead = queue_depth(queue_client(location.poison, profile))
    except AzureError as exc:
        raise queue_error(exc, f"cannot read {location.uri}") from None
    return QueueState(location.uri, depth, max(0.0, oldest) if oldest is not None else None, dead)


def dead_letter(poison: QueueClient, queue: QueueClient, message: QueueMessage, error: str) -> None:
    """Move ``message`` of ``queue`` to the dead-letter queue ``poison`` (created when missing)
    with ``error``: sent there first, then deleted here, so a failure between the two leaves a
    copy, never nothing.

    Raises:
        StorageError: the queue service failed (the message stays where it was).
    """
    from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError

    letter = DeadLetter(
        body=str(message.content),
        error=error.splitlines()[0] if error else "",
        deliveries=int(message.dequeue_count or 0),
        message_id=str(message.id),
    )
    try:
        with contextlib.suppress(ResourceExistsError):
            poison.create_queue()
        poison.send_message(letter.text())
        with contextlib.suppress(ResourceNotFoundError):  # its receipt expired: redelivered
            queue.delete_message(message)
    except AzureError as exc:
        raise queue_error(exc, f"cannot dead-letter message {message.id}") from None


def replay_dead_letters(location: QueueLocation, profile: Profile) -> int:
    """Move every message of ``NAME-poison`` back to ``location``, each with its original body;
    how many moved. Each is sent back first, then deleted from ``NAME-poison``.

    Raises:
        StorageError: the queue service failed (what moved so far stays moved).
    """
    from azure.core.exceptions import AzureError, ResourceNotFoundError

    queue = queue_client(location, profile)
    poison = queue_client(location.poison, profile)
    moved = 0
    try:
        while True:
            try:
                page = list(poison.receive_messages(messages_per_page=_PAGE, max_messages=_PAGE))
            except ResourceNotFoundError:
                return moved
            if not page:
                return moved
            for message in page:
                letter = read_dead_letter(str(message.content))
                queue.send_message(letter.body if letter is not None else message.content)
                poison.delete_message(message)
                moved += 1
    except AzureError as exc:
        raise queue_error(exc, f"cannot replay the dead letters of {location.uri}") from None
