"""How many pods may run at once: the workflow's ``parallelism`` and the templates' named
semaphores (``synchronization.semaphore``), as a cluster's ``etl-semaphores`` config map sizes them."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext

__all__ = ["PodSlots"]


class PodSlots:
    """The workflow's slots for running pods, and its named semaphores.

    A semaphore that ``limits`` does not size gets ``default_limit`` places.
    """

    def __init__(self, parallelism: int, limits: Mapping[str, int], default_limit: int) -> None:
        self._slots = threading.BoundedSemaphore(parallelism)
        self._semaphores = {name: threading.BoundedSemaphore(n) for name, n in limits.items()}
        self._default_limit = default_limit
        self._lock = threading.Lock()

    @contextmanager
    def held(self, semaphore: str | None) -> Iterator[None]:
        """Wait for a place in ``semaphore`` (if a name is given), then for a workflow slot."""
        with self._semaphore(semaphore) or nullcontext(), self._slots:
            yield

    def _semaphore(self, name: str | None) -> threading.BoundedSemaphore | None:
        if name is None:
            return None
        with self._lock:
            if name not in self._semaphores:
                self._semaphores[name] = threading.BoundedSemaphore(self._default_limit)
            return self._semaphores[name]
