"""Whether a local run's runner is alive, and signalling it only when it is provably that process.

The process that runs a local workflow (``etl ... --submit``, ``etl workflow retry``) holds an
exclusive ``flock`` on the run's :data:`RUNNER_LOCK` file from before it records the run until it
has recorded the run's end. The kernel drops the lock with the process, however it ends (``kill
-9`` included), and no other process inherits it (the file is opened close-on-exec and the runner's
children are exec'd or forked by the warm server, never from the runner itself). So a run whose
record is unfinished and whose lock nobody holds has lost its runner: reading commands show it
ended (:meth:`etl.runner.records.RunRecord.runner_gone`), and ``retry`` and ``stop`` may take the
lock and record that.

A pid alone proves nothing once its process has ended: the number is reused. The record keeps,
beside the runner's pid, its :func:`process_identity` (the boot id and the process's start time,
field 22 of ``/proc/PID/stat``); :func:`signal_if_same` signals a pid only while it is still the
process of that identity, through a pidfd, so the pid cannot be reused between check and signal.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["RUNNER_LOCK", "RunnerLock", "RunnerLockHeldError", "process_identity", "signal_if_same"]

RUNNER_LOCK = "runner.lock"
"""The file in a run's folder its runner holds locked."""
ACQUIRE_SECONDS = 1.0
"""How long taking the lock waits out readers, which hold it shared for an instant."""
POLL_SECONDS = 0.02
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


class RunnerLockHeldError(Exception):
    """Another process holds the run's lock: its runner is alive."""


class RunnerLock:
    """The runner lock of the run folder ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / RUNNER_LOCK

    def held(self) -> bool:
        """Whether a runner holds the lock now (a missing file: no runner ever took it)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock for the block (the run's folder is made if missing).

        Raises:
            RunnerLockHeldError: another process holds it.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            deadline = time.monotonic() + ACQUIRE_SECONDS
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise RunnerLockHeldError(str(self.path)) from None
                    time.sleep(POLL_SECONDS)
            yield
        finally:
            os.close(fd)


def process_identity(pid: int) -> str | None:
    """``BOOT_ID:START_TIME`` of process ``pid``, which no other process of any boot shares;
    ``None`` when there is no such process (or no ``/proc`` to tell)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = BOOT_ID.read_text().strip()
    except OSError:
        return None
    # field 2 (the command) is in parentheses and may hold spaces; field 22 is the 20th after it
    fields = stat.rpartition(")")[2].split()
    return f"{boot}:{fields[19]}" if len(fields) > 19 else None


def signal_if_same(pid: int, identity: str | None, signum: signal.Signals) -> bool:
    """Send ``signum`` to ``pid`` if it is the process of ``identity``; whether it was sent."""
    if identity is None:
        return False
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:  # no such process
        return False
    try:
        if process_identity(pid) != identity:
            return False
        signal.pidfd_send_signal(pidfd, signum)
    except ProcessLookupError:
        return False
    finally:
        os.close(pidfd)
    return True
