"""Named semaphores shared by every local run on this machine, as Argo shares a namespace's.

Semaphore ``NAME`` of namespace ``NS`` with ``limit`` places is ``limit`` slot files under
``STATE/semaphores/NS/NAME/``; holding a place is holding an exclusive ``flock`` on one of them.
Every local run (and every thread of one) takes its places from the same files, so two runs
together never exceed the limit, and a run that crashes or is killed frees its places with its
file descriptors: no place is ever left held.
"""

from __future__ import annotations

import fcntl
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["FileSemaphores", "SemaphoreStoppedError"]

POLL_SECONDS = 0.05


class SemaphoreStoppedError(Exception):
    """The wait for a place ended because the run was stopped."""


class FileSemaphores:
    """The named semaphores of one namespace under ``root``."""

    def __init__(self, root: Path, namespace: str) -> None:
        self.folder = root / "semaphores" / _safe(namespace)

    @contextmanager
    def held(self, name: str, limit: int, stopped: threading.Event) -> Iterator[int]:
        """Wait for a place in ``name`` (``limit`` places), hold it, and give the slot's number.

        Raises:
            SemaphoreStoppedError: ``stopped`` was set while waiting.
        """
        folder = self.folder / _safe(name)
        folder.mkdir(parents=True, exist_ok=True)
        while True:
            for slot in range(max(1, limit)):
                fd = os.open(folder / f"slot-{slot}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                try:
                    yield slot
                finally:
                    os.close(fd)
                return
            if stopped.wait(POLL_SECONDS):
                raise SemaphoreStoppedError(name)


def _safe(name: str) -> str:
    """``name`` as one folder name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "_"
