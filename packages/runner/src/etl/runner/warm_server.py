"""The warm task server: a process that has imported a command's code once, and forks per task.

A new ``etl-task`` process spends about half a second importing (pystac, pypgstac, psycopg, the
Azure SDK) before it does anything, and about a tenth of a second tearing down; on the local runner
that is paid by every pod, most of it on the run's critical path. The runner starts this server
once per run (``python -m etl.runner.warm_server FD ENTRIES``); it imports each entry point's
module and runs the module's ``warm_up()`` when it has one (an iterator of import steps), and
serves requests on the Unix socket ``FD`` from the start: a request that comes during the warm-up
is served between two steps, so a run's first task does not wait for the libraries only its later
tasks use (it imports what it lacks itself). Each request (argv, env, cwd, plus the write ends of an output pipe and a status
pipe) forks a child that becomes the task. The server writes the child's pid, and later its exit
code, to the status pipe (see :mod:`etl.runner.warm_start` for the runner's side).

The child is set up as the container says, like a new process would be: stdout and stderr on the
output pipe, stdin on ``/dev/null``, exactly the container's environment, its working directory,
``sys.argv``, default signal handlers. It then calls the entry point, ends the way the interpreter
ends a program (exit handlers run, streams flushed) and leaves with ``os._exit``, skipping the
object-by-object teardown that an ending process does not need. A command whose entry point did not
import here is exec'd instead: a cold start, which then reports its own import error.

The server is single-threaded, so forking it is safe; it ignores SIGINT (a Ctrl-C is the runner's to
handle: it stops the tasks) and ends when the runner closes the socket, after its children. The
runner says :data:`GOODBYE` before it closes the socket; a socket that closes without it means
the runner died (``kill -9``): nobody reads the tasks' output or records how they end, so the
server ends them (SIGTERM, SIGKILL :data:`ORPHAN_GRACE` seconds later) rather than leave them
running unseen.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import itertools
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn

__all__ = ["GOODBYE", "HEADER", "main"]

HEADER = struct.Struct("!I")
"""A request is this header (the JSON payload's length, sent with the two pipe ends), then the
payload: ``{"argv": [...], "env": {...}, "cwd": "..."}``."""
GOODBYE = HEADER.pack(0)
"""What the runner sends, without file descriptors, before it closes the socket on purpose."""

EntryPoint = Callable[[], Any]
ORPHAN_GRACE = 10.0
"""Seconds the tasks of a runner that died have between SIGTERM and SIGKILL."""


def main() -> None:
    """Entry point of the server process: ``python -m etl.runner.warm_server FD ENTRIES_JSON``."""
    control = socket.socket(fileno=int(sys.argv[1]))
    entries: dict[str, str] = json.loads(sys.argv[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    loaded = {command: _load(command, spec) for command, spec in entries.items()}
    mains = {command: entry for command, (entry, _) in loaded.items()}
    warming = itertools.chain.from_iterable(steps for _, steps in loaded.values())
    _Server(control, mains).serve(warming)
    sys.stderr.flush()
    os._exit(0)  # nothing to clean up: skip tearing down everything the warm-up imported


def _load(command: str, spec: str) -> tuple[EntryPoint | None, Iterator[object]]:
    """Import ``module:attribute``; with the steps of its module's ``warm_up()`` (none when it
    has none). ``None`` (and a warning) if the import fails: the command's tasks then start as
    new processes."""
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
        entry: EntryPoint = getattr(module, attribute)
        warm_up = getattr(module, "warm_up", None)
        steps = warm_up() if callable(warm_up) else None
    except Exception as exc:
        name = os.path.basename(command)
        print(f"warning: {name} tasks start cold ({spec}: {exc!r})", file=sys.stderr, flush=True)
        return None, iter(())
    return entry, iter(steps or ())


class _Server:
    def __init__(self, control: socket.socket, mains: Mapping[str, EntryPoint | None]) -> None:
        self.control = control
        self.mains = mains
        self.status_fds: dict[int, int] = {}
        self.wake_r, wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)

    def serve(self, warming: Iterator[object]) -> None:
        """Fork a task per request until the runner closes the socket; then wait for the tasks.
        Until ``warming`` ends, one step of it is taken whenever no request waits."""
        warm = True
        with selectors.DefaultSelector() as selector:
            selector.register(self.control, selectors.EVENT_READ)
            selector.register(self.wake_r, selectors.EVENT_READ)
            while True:
                if warm:
                    warm = _step(warming)
                for key, _ in selector.select(0 if warm else None):
                    if key.fileobj == self.wake_r:
                        with contextlib.suppress(BlockingIOError):
                            os.read(self.wake_r, 4096)
                        self._reap(block=False)
                    elif (served := self._serve_one()) is not True:
                        if served is None:
                            self._end_orphans()
                        self._reap(block=True)
                        return

    def _serve_one(self) -> bool | None:
        """Read one request and fork its task (``True``); ``False`` when the runner said
        goodbye, ``None`` when the socket closed without it (the runner died)."""
        header, fds, _, _ = socket.recv_fds(self.control, HEADER.size, 2)
        if not header:
            return None
        while len(header) < HEADER.size:
            header += self.control.recv(HEADER.size - len(header))
        if header == GOODBYE and not fds:
            return False
        (length,) = HEADER.unpack(header)
        payload = b""
        while len(payload) < length:
            payload += self.control.recv(length - len(payload))
        out_fd, status_fd = fds
        request = json.loads(payload)
        pid = os.fork()
        if pid == 0:
            try:
                os.close(status_fd)
                for fd in (self.control.fileno(), self.wake_r, *self.status_fds.values()):
                    os.close(fd)
                _become_task(request, out_fd, self.mains.get(request["argv"][0]))
            finally:
                os._exit(1)
        os.close(out_fd)
        self.status_fds[pid] = status_fd
        os.write(status_fd, f"{pid}\n".encode())
        return True

    def _end_orphans(self) -> None:
        """End the tasks of a runner that died: SIGTERM, then SIGKILL after the grace period."""
        for signum, wait in ((signal.SIGTERM, ORPHAN_GRACE), (signal.SIGKILL, 0.0)):
            for pid in list(self.status_fds):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signum)
            deadline = time.monotonic() + wait
            while self.status_fds and time.monotonic() < deadline:
                self._reap(block=False)
                time.sleep(0.05)

    def _reap(self, *, block: bool) -> None:
        """Collect ended children and write each one's exit code to its status pipe."""
        while self.status_fds:
            try:
                pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            status_fd = self.status_fds.pop(pid, None)
            if status_fd is not None:
                with contextlib.suppress(OSError):
                    os.write(status_fd, f"{os.waitstatus_to_exitcode(status)}\n".encode())
                os.close(status_fd)


def _step(warming: Iterator[object]) -> bool:
    """Take one step of the warm-up; ``False`` once it has ended (or failed: its tasks import
    what they lack themselves), after freezing what it made."""
    try:
        next(warming)
        return True
    except StopIteration:
        pass
    except Exception as exc:
        print(f"warning: warming up stopped ({exc!r})", file=sys.stderr, flush=True)
    gc.freeze()  # what the warm-up made is shared with every later child: keep the GC off it
    return False


def _become_task(request: dict[str, Any], out_fd: int, entry: EntryPoint | None) -> NoReturn:
    """In the forked child: set the process up as the container says and run the task."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.close(out_fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.chdir(request["cwd"])
    argv: list[str] = request["argv"]
    env: dict[str, str] = request["env"]
    if entry is None:
        os.execve(argv[0], argv, env)
    os.environ.clear()
    os.environ.update(env)
    time.tzset()
    sys.argv = list(argv)
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(  # noqa: SIM115
        2, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False
    )
    code = _run(entry)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _run(entry: EntryPoint) -> int:
    """Call ``entry`` as ``sys.exit(entry())`` would end a program: its exit code."""
    try:
        return _exit_code(entry())
    except SystemExit as exc:
        return _exit_code(exc.code)
    except BaseException:
        traceback.print_exc()
        return 1


def _exit_code(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    print(value, file=sys.stderr)
    return 1


if __name__ == "__main__":
    main()
