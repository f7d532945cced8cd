"""Starting a container's command: warm (forked from :mod:`etl.runner.warm_server`) or cold.

:class:`TaskStarter` runs the commands it is given entry points for (the ``etl-task`` console
script of this installation) as forks of a warm server that has already imported their code, and
every other command as a new process. Either way the engine gets a :class:`TaskProcess`: the
command's output as a pipe, its exit code, and a way to signal it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Protocol

from etl.runner.warm_server import GOODBYE, HEADER

__all__ = ["TaskProcess", "TaskStarter", "console_script_entries"]

LOST = -int(signal.SIGKILL)
"""Exit code reported for a warm task whose server ended before telling how the task ended."""


class TaskProcess(Protocol):
    """A running command, as the engine sees it (what :class:`subprocess.Popen` offers)."""

    @property
    def stdout(self) -> IO[bytes] | None:
        """The command's stdout and stderr, merged."""

    def wait(self) -> int:
        """Wait for the end; the exit code, or minus the signal number that ended it."""

    def terminate(self) -> None:
        """Ask the command to end (SIGTERM)."""

    def kill(self) -> None:
        """End the command now (SIGKILL)."""


def console_script_entries(names: list[str]) -> dict[str, str]:
    """``{executable path: "module:attribute"}`` for those console scripts of this installation
    (beside ``sys.executable``) that ``names`` lists."""
    from importlib.metadata import entry_points

    folder = Path(sys.executable).parent
    return {
        str(folder / entry.name): entry.value
        for entry in entry_points(group="console_scripts")
        if entry.name in names and (folder / entry.name).exists()
    }


class TaskStarter:
    """Starts commands for the engine; one warm server per starter, started on first need."""

    def __init__(self, warm_entries: Mapping[str, str] | None = None) -> None:
        """``warm_entries`` maps an executable path to its ``module:attribute`` entry point."""
        self.warm_entries = dict(warm_entries or {})
        self._lock = threading.Lock()
        self._server: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None

    def start_server(self) -> None:
        """Start the warm server now (it imports while the caller goes on); idempotent."""
        with self._lock:
            self._start_server_locked()

    def start(self, argv: list[str], env: Mapping[str, str], cwd: Path) -> TaskProcess:
        """Start ``argv`` with exactly ``env`` in ``cwd``, warm when it has an entry point."""
        if argv[0] in self.warm_entries:
            process = self._start_warm(argv, env, cwd)
            if process is not None:
                return process
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def close(self) -> None:
        """Let the server end (after its tasks) and wait for it."""
        with self._lock:
            control, server = self._control, self._server
            self._control = self._server = None
        if control is not None:
            with contextlib.suppress(OSError):  # the server is gone
                control.sendall(GOODBYE)
            control.close()
        if server is not None:
            server.wait()

    def _start_server_locked(self) -> socket.socket | None:
        if self._control is None and self.warm_entries:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            with theirs:
                self._server = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "etl.runner.warm_server",
                        str(theirs.fileno()),
                        json.dumps(self.warm_entries),
                    ],
                    pass_fds=[theirs.fileno()],
                    stdin=subprocess.DEVNULL,
                )
            self._control = ours
        return self._control

    def _start_warm(self, argv: list[str], env: Mapping[str, str], cwd: Path) -> TaskProcess | None:
        """Fork the task from the server; ``None`` when the server is gone (start it cold)."""
        payload = json.dumps({"argv": argv, "env": dict(env), "cwd": str(cwd)}).encode()
        out_r, out_w = os.pipe()
        status_r, status_w = os.pipe()
        try:
            with self._lock:
                control = self._start_server_locked()
                if control is None:
                    return None
                socket.send_fds(control, [HEADER.pack(len(payload))], [out_w, status_w])
                control.sendall(payload)
        except OSError:
            for fd in (out_r, status_r):
                os.close(fd)
            return None
        finally:
            os.close(out_w)
            os.close(status_w)
        process = _WarmProcess(out_r, status_r)
        if process.pid == 0:
            process.wait()
            if process.stdout is not None:
                process.stdout.close()
            return None
        return process


class _WarmProcess:
    """A task forked by the warm server: output pipe, status pipe (pid, then exit code)."""

    def __init__(self, out_fd: int, status_fd: int) -> None:
        self.stdout: IO[bytes] | None = open(out_fd, "rb")  # noqa: SIM115
        self._status = open(status_fd, "rb")  # noqa: SIM115
        self._lock = threading.Lock()
        self.returncode: int | None = None
        line = self._status.readline()
        self.pid = int(line) if line.strip() else 0
        self._pidfd: int | None = None
        with contextlib.suppress(ProcessLookupError):
            self._pidfd = os.pidfd_open(self.pid) if self.pid else None

    def wait(self) -> int:
        if self.returncode is not None:
            return self.returncode
        line = self._status.readline()
        with self._lock:
            self.returncode = int(line) if line.strip() else LOST
            self._status.close()
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None
        return self.returncode

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, signum: int) -> None:
        with self._lock:
            if self._pidfd is not None:
                with contextlib.suppress(ProcessLookupError):
                    signal.pidfd_send_signal(self._pidfd, signum)
