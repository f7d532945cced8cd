"""The receiving side of ``etl-task consume-events``: a collection's queue read in micro-batches.

:meth:`EventReceiver.next_batch` receives pages of up to 32 messages (Azure's limit), each hidden
from other consumers for the collection's ``events.visibility_timeout``, until it holds
``batch_size`` messages, or the queue has no more and its first message may have waited
``max_wait`` seconds. That wait is counted from the last moment the consumer knew the queue empty
(a receive that returned nothing, or the end of its previous batch), not from when the message was
received: a message that arrived while the previous batch was being loaded has waited already. A
full page means more are waiting: the receiver goes on at once. An empty queue is polled every
``max_wait / 2`` seconds (at most every second). It returns ``None`` once the queue has been empty
for the consumer's ``--idle-exit`` seconds. A queue service that does not answer, or is busy, is
tried again with a growing pause (:class:`Backoff`); a permanent refusal (the queue does not exist,
the credential is refused) raises.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from etl.core.errors import StorageError
from etl.core.queues.clients import queue_error

if TYPE_CHECKING:
    from azure.storage.queue import QueueClient, QueueMessage

__all__ = ["PAGE", "POLL_SECONDS", "Backoff", "EventReceiver"]

PAGE = 32
"""Most messages one receive returns (Azure's limit)."""
POLL_SECONDS = 1.0
"""Longest pause between two receives that found the queue empty (``max_wait / 2`` if shorter)."""


@dataclass
class Backoff:
    """Pauses after transient failures: 1 s, doubling, at most ``most`` seconds; reset by a
    success."""

    most: float = 30.0
    _next: float = field(default=1.0, init=False)

    def pause(self) -> float:
        """The pause to make now (and double the next)."""
        delay, self._next = self._next, min(self.most, self._next * 2)
        return delay

    def reset(self) -> None:
        """A call succeeded: the next failure pauses 1 s."""
        self._next = 1.0


class EventReceiver:
    """Receives a collection's queue in micro-batches."""

    def __init__(
        self,
        client: QueueClient,
        *,
        batch_size: int,
        max_wait: float,
        visibility_timeout: int,
        log: Callable[[str], None],
    ) -> None:
        self.client = client
        self.batch_size = batch_size
        self.max_wait = max_wait
        self.visibility_timeout = visibility_timeout
        self.log = log
        self.poll = min(POLL_SECONDS, max_wait / 2)
        self.backoff = Backoff()
        self._returned: float | None = None
        """When the previous batch was returned: its last page may have left messages waiting."""
        self.last_error: StorageError | None = None
        """The transient error of the last receive, if it failed."""

    def next_batch(self, idle_exit: float) -> list[QueueMessage] | None:
        """The next batch's messages, or ``None`` once no message came for ``idle_exit`` seconds.

        Raises:
            StorageError: the queue refused for good (not found, forbidden).
        """
        batch: list[QueueMessage] = []
        idle_since = time.monotonic()
        since = self._returned or idle_since  # the queue last known empty: the batch's clock
        while True:
            asked, count = time.monotonic(), min(PAGE, self.batch_size - len(batch))
            page = self._receive(count)
            now = time.monotonic()
            batch.extend(page)
            if not batch:
                since = asked  # still empty: a message that comes now waits from here
            drained = len(page) < count  # a full page: more are waiting
            if len(batch) >= self.batch_size or (
                batch and drained and now - since >= self.max_wait
            ):
                self._returned = now
                return batch
            if not batch and now - idle_since >= idle_exit:
                return None
            if drained:
                left = self.max_wait - (now - since) if batch else idle_exit - (now - idle_since)
                time.sleep(max(0.0, min(self.poll, left)))

    def _receive(self, count: int) -> list[QueueMessage]:
        from azure.core.exceptions import AzureError

        try:
            page = list(
                self.client.receive_messages(
                    messages_per_page=count,
                    max_messages=count,
                    visibility_timeout=self.visibility_timeout,
                )
            )
        except AzureError as exc:
            error = queue_error(exc, f"cannot receive from queue {self.client.queue_name}")
            if not error.transient:
                raise error from None
            self.last_error = error
            delay = self.backoff.pause()
            self.log(f"warning: {error}; trying again in {delay:.0f} s")
            time.sleep(delay)
            return []
        self.backoff.reset()
        self.last_error = None
        return page
