"""Azure Storage queues: ``queue://ACCOUNT/NAME`` URIs, their clients and the storage events in them.

``etl.core.queues.uris`` and ``etl.core.queues.events`` are pure Python; ``etl.core.queues.clients``
imports the Azure SDK and is imported only when a queue is opened. See ``docs/streaming.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etl.core.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from etl.core.queues.clients import queue_client, queue_error
    from etl.core.queues.dead_letters import DeadLetter, read_dead_letter
    from etl.core.queues.event_types import EventKind, EventSchema
    from etl.core.queues.events import (
        NotAnEventError,
        StorageEvent,
        encode_event,
        parse_event,
    )
    from etl.core.queues.handling import (
        QueueState,
        dead_letter,
        queue_depth,
        queue_state,
        replay_dead_letters,
    )
    from etl.core.queues.uris import (
        POISON_SUFFIX,
        QUEUE_SCHEME,
        QueueLocation,
        parse_queue_uri,
        queue_name_problem,
    )

__all__ = [
    "POISON_SUFFIX",
    "QUEUE_SCHEME",
    "DeadLetter",
    "EventKind",
    "EventSchema",
    "NotAnEventError",
    "QueueLocation",
    "QueueState",
    "StorageEvent",
    "dead_letter",
    "encode_event",
    "parse_event",
    "parse_queue_uri",
    "queue_client",
    "queue_depth",
    "queue_error",
    "queue_name_problem",
    "queue_state",
    "read_dead_letter",
    "replay_dead_letters",
]

_LAZY = {
    "queue_client": "etl.core.queues.clients",
    "queue_error": "etl.core.queues.clients",
    "QueueState": "etl.core.queues.handling",
    "dead_letter": "etl.core.queues.handling",
    "queue_depth": "etl.core.queues.handling",
    "queue_state": "etl.core.queues.handling",
    "replay_dead_letters": "etl.core.queues.handling",
    "DeadLetter": "etl.core.queues.dead_letters",
    "read_dead_letter": "etl.core.queues.dead_letters",
    "EventKind": "etl.core.queues.event_types",
    "EventSchema": "etl.core.queues.event_types",
    "NotAnEventError": "etl.core.queues.events",
    "StorageEvent": "etl.core.queues.events",
    "encode_event": "etl.core.queues.events",
    "parse_event": "etl.core.queues.events",
    "POISON_SUFFIX": "etl.core.queues.uris",
    "QUEUE_SCHEME": "etl.core.queues.uris",
    "QueueLocation": "etl.core.queues.uris",
    "parse_queue_uri": "etl.core.queues.uris",
    "queue_name_problem": "etl.core.queues.uris",
}
__getattr__ = lazy_getattr(__name__, _LAZY)
