"""The dead-letter message format: what etl puts into ``NAME-poison`` for a message it gave up on.

A dead letter is one queue message whose text is the JSON object::

    {"etl_dead_letter": 1, "body": "<the original message's text>", "error": "<why>",
     "deliveries": 3, "message_id": "<the original's id>", "failed_at": "2025-01-01T00:00:00Z"}

``body`` is the original message exactly as the queue held it (Event Grid's base64), so
``etl dataset replay-dead-letters`` puts it back unchanged; ``error`` is the one-line error that
moved it; ``deliveries`` is how many times it had been received (Azure's ``dequeue_count``). A
message of ``NAME-poison`` that is not in this format (Azure Functions' poison messages, a message
put there by hand) is replayed as it is. See docs/streaming.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["DEAD_LETTER_VERSION", "DeadLetter", "read_dead_letter"]

DEAD_LETTER_VERSION = 1
_MARKER = "etl_dead_letter"


@dataclass(frozen=True)
class DeadLetter:
    """A message etl gave up on, as ``NAME-poison`` holds it.

    Attributes:
        body: The original message's text.
        error: Why it was dead-lettered (one line).
        deliveries: How many times it had been received.
        message_id: The original message's id.
        failed_at: When it was dead-lettered (RFC 3339, UTC).
    """

    body: str
    error: str
    deliveries: int
    message_id: str = ""
    failed_at: str = ""

    def text(self) -> str:
        """The dead letter's message text."""
        failed_at = self.failed_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return json.dumps(
            {
                _MARKER: DEAD_LETTER_VERSION,
                "body": self.body,
                "error": self.error,
                "deliveries": self.deliveries,
                "message_id": self.message_id,
                "failed_at": failed_at,
            }
        )


def read_dead_letter(text: str) -> DeadLetter | None:
    """The dead letter ``text`` holds, or ``None`` when it is not in etl's format."""
    try:
        document = json.loads(text)
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get(_MARKER) != DEAD_LETTER_VERSION:
        return None
    body = document.get("body")
    if not isinstance(body, str):
        return None
    deliveries = document.get("deliveries")
    return DeadLetter(
        body=body,
        error=str(document.get("error", "")),
        deliveries=deliveries if isinstance(deliveries, int) else 0,
        message_id=str(document.get("message_id", "")),
        failed_at=str(document.get("failed_at", "")),
    )
