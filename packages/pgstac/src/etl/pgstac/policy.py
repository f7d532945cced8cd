"""How a load behaves under faults and contention: retry policy and the concurrency bound."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["LoadConcurrency", "LoadRetryPolicy", "LockScope"]


@dataclass(frozen=True)
class LoadRetryPolicy:
    """Bounded retries of one batch after a dropped connection or another transient fault.

    Attributes:
        attempts: tries per batch, the first one included.
        first_delay: seconds before the first retry; doubled for each further retry.
        max_delay: upper bound of one wait, in seconds.
    """

    attempts: int = 5
    first_delay: float = 0.5
    max_delay: float = 10.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {self.attempts}")

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based), with +-25% jitter."""
        base = min(self.max_delay, self.first_delay * 2.0 ** (retry - 1))
        return base * random.uniform(0.75, 1.25)


class LockScope(StrEnum):
    """What one set of load slots guards."""

    COLLECTION = "collection"
    """Loads into the same collection share the slots."""
    DATABASE = "database"
    """All loads into the database share the slots."""


@dataclass(frozen=True)
class LoadConcurrency:
    """A bound on concurrent loaders, held as PostgreSQL advisory locks in the target database.

    Because the locks live in the database, the bound holds across threads, processes and pods.

    Attributes:
        slots: loaders allowed at the same time per scope.
        scope: per collection, or one bound for the whole database.
        wait_timeout: seconds to wait for a free slot before giving up; ``None`` waits forever.
        poll_interval: the longest a loader queues for one taken slot (it gets it the moment
            it is let go) before it looks at every slot again.
    """

    slots: int = 1
    scope: LockScope = LockScope.COLLECTION
    wait_timeout: float | None = 3600.0
    poll_interval: float = 0.2

    def __post_init__(self) -> None:
        if self.slots < 1:
            raise ValueError(f"slots must be at least 1, not {self.slots}")

    def lock_name(self, collection_id: str) -> str:
        """The text whose hash keys this scope's advisory locks."""
        return "etl.pgstac:" + (collection_id if self.scope is LockScope.COLLECTION else "*")
