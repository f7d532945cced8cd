"""How many pods may run at once: the workflow's ``parallelism`` (this run's own) and the
templates' named semaphores (``synchronization.semaphore``), shared with every local run of the
namespace as Argo shares them, sized as a cluster's ``etl-semaphores`` config map sizes them."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from etl.runner.semaphores import FileSemaphores

__all__ = ["PodSlots"]


class PodSlots:
    """The workflow's slots for running pods, and the namespace's named semaphores.

    A semaphore that ``limits`` does not size gets ``default_limit`` places.
    """

    def __init__(
        self,
        parallelism: int,
        limits: Mapping[str, int],
        default_limit: int,
        *,
        state_root: Path,
        namespace: str,
    ) -> None:
        self._slots = threading.BoundedSemaphore(parallelism)
        self._limits = dict(limits)
        self._default_limit = default_limit
        self._semaphores = FileSemaphores(state_root, namespace)

    @contextmanager
    def semaphore(self, name: str | None, stopped: threading.Event) -> Iterator[None]:
        """Hold a place in ``name`` (if a name is given) for as long as the block runs: a node
        holds it across its tries and the backoffs between them, as Argo's retry node does.

        Raises:
            SemaphoreStoppedError: the run was stopped while waiting.
        """
        if name is None:
            yield
            return
        with self._semaphores.held(name, self._limits.get(name, self._default_limit), stopped):
            yield

    @contextmanager
    def running(self) -> Iterator[None]:
        """Hold one of the workflow's slots while a process runs (a backoff holds none)."""
        with self._slots:
            yield
