"""A line while storage keeps a request waiting: a hung service is never silent.

Every blob request goes through :func:`waiting_on` (the retry policy of
:mod:`etl.core.storage.blob_clients` wraps each call, its retries included). One daemon thread per
process watches the calls in flight; while the oldest call on a place (``blob://ACCOUNT/CONTAINER``)
has had no answer for ``notice`` seconds, it logs one warning per place every ``notice`` seconds::

    WARNING etl.storage: waiting on blob://acct/container: no answer for 30 s (8 requests)

A pod's log and the CLI's stderr carry it (``etl.core.log_setup``). Registering a call is a dict
insert under a lock: nothing is started per request, and the thread is woken only when a call would
be due before it wakes anyway (a process makes thousands of requests a minute: waking it for each
held the GIL through a thread switch per request).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["waiting_on"]

_log = logging.getLogger("etl.storage")


@dataclass(frozen=True)
class _Call:
    place: str
    started: float
    notice: float


class _Watch:
    """The calls in flight and the thread that tells about the slow ones."""

    def __init__(self) -> None:
        self._calls: dict[int, _Call] = {}
        self._told: dict[str, float] = {}
        self._ids = itertools.count()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._wake_at: float | None = None
        """When the thread wakes next (``None``: not waiting yet)."""
        self._notice = 0.0
        """The last call's ``notice``: how long the thread sleeps while nothing is in flight."""

    def add(self, call: _Call) -> int:
        with self._changed:
            key = next(self._ids)
            self._calls[key] = call
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="etl-storage-waiting", daemon=True
                )
                self._thread.start()
            self._notice = call.notice
            if self._wake_at is None or call.started + call.notice < self._wake_at:
                self._changed.notify()  # only when the thread would wake too late for this call
            return key

    def remove(self, key: int) -> None:
        with self._changed:
            call = self._calls.pop(key)
            if not any(other.place == call.place for other in self._calls.values()):
                self._told.pop(call.place, None)

    def _run(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                next_at = self._tell(now)
                idle = now + self._notice
                self._wake_at = max(now + 0.05, idle if next_at is None else next_at)
                self._changed.wait(self._wake_at - now)

    def _tell(self, now: float) -> float | None:
        """Log the places due a line; when the next one may be due (``None``: nothing waits)."""
        oldest: dict[str, _Call] = {}
        counts: dict[str, int] = {}
        for call in self._calls.values():
            counts[call.place] = counts.get(call.place, 0) + 1
            if call.place not in oldest or call.started < oldest[call.place].started:
                oldest[call.place] = call
        next_at: float | None = None
        for place, call in oldest.items():
            due = max(call.started, self._told.get(place, call.started)) + call.notice
            if now >= due:
                count = counts[place]
                many = f" ({count} requests)" if count > 1 else ""
                _log.warning("waiting on %s: no answer for %d s%s", place, now - call.started, many)
                self._told[place] = now
                due = now + call.notice
            next_at = due if next_at is None else min(next_at, due)
        return next_at


_watch = _Watch()


@contextmanager
def waiting_on(place: str, *, notice: float) -> Iterator[None]:
    """Watch the call made inside: past ``notice`` seconds, and every ``notice`` seconds after,
    a warning names ``place`` and how long it has waited."""
    key = _watch.add(_Call(place, time.monotonic(), notice))
    try:
        yield
    finally:
        _watch.remove(key)
