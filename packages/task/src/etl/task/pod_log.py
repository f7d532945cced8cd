"""``etl-task`` keeps its own log where the run's records are, for after its pod is gone.

On Argo, ``podGC: OnPodSuccess`` deletes a pod that succeeded, and the Argo Server streams logs
from live pods only. So a task of a run (it has ``--run-id``) started in a pod (``ETL_PROFILE_JSON``
is set) copies everything it writes to stdout and stderr, as it goes on, into a buffer, and at
exit writes the buffer in one piece to ``{chunk storage}/{run_id}/logs/{pod}.log``
(:meth:`etl.dataset.layout.RunLayout.log_path`). ``pod`` is the pod's workflow node id
(:data:`~etl.core.pod_contract.NODE_ID_ENV`), unique per pod and try, which ``etl workflow logs``
maps back to the pod's name through the workflow's nodes; never ``HOSTNAME``, the pod's name cut to
63 characters, which every batch pod of a run with long names shares (used only when no node id
is set). The buffer keeps the first :data:`HEAD_BYTES` and the last :data:`TAIL_BYTES` of the
output. A task killed before it exits keeps no log; a log that cannot be written is a warning, never
the task's failure. ``etl workflow logs`` reads these files for pods it cannot read live.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO, cast

from etl.core.pod_contract import NODE_ID_ENV, PROFILE_JSON_ENV

__all__ = ["HEAD_BYTES", "TAIL_BYTES", "kept_log"]

HEAD_BYTES = 1 << 20
TAIL_BYTES = 7 << 20


class _Buffer:
    """The output so far: its head, and a tail that drops its oldest text past the limit."""

    def __init__(self) -> None:
        self.head = io.StringIO()
        self.tail: list[str] = []
        self.tail_size = 0
        self.dropped = 0
        self.lock = threading.Lock()

    def add(self, text: str) -> None:
        with self.lock:
            room = HEAD_BYTES - self.head.tell()
            if room > 0:
                self.head.write(text[:room])
                text = text[room:]
            self.tail.append(text)
            self.tail_size += len(text)
            while self.tail_size > TAIL_BYTES and len(self.tail) > 1:
                old = self.tail.pop(0)
                self.tail_size -= len(old)
                self.dropped += len(old)

    def text(self) -> str:
        with self.lock:
            gap = f"[... {self.dropped} characters left out ...]\n" if self.dropped else ""
            return self.head.getvalue() + gap + "".join(self.tail)


class _Tee(io.TextIOBase):
    """A text stream that writes to ``stream`` and to the buffer."""

    def __init__(self, stream: TextIO, buffer: _Buffer) -> None:
        self.stream = stream
        self.buffer_ = buffer

    def write(self, text: str) -> int:
        self.buffer_.add(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()


@contextmanager
def kept_log(args: argparse.Namespace) -> Iterator[None]:
    """Run the block with stdout and stderr kept, then store them, when ``args`` is a run's task
    in a pod; otherwise just run it."""
    run_id, dataset, collection = (
        getattr(args, k, None) for k in ("run_id", "dataset", "collection")
    )
    if not (run_id and dataset and collection and os.environ.get(PROFILE_JSON_ENV)):
        yield
        return
    buffer = _Buffer()
    streams = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, _Tee(sys.stdout, buffer))
    sys.stderr = cast(TextIO, _Tee(sys.stderr, buffer))
    handlers = _point_handlers(streams, sys.stderr)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = streams
        _point_handlers((), sys.stderr, handlers)
        _store(buffer.text(), dataset, collection, run_id)


def _point_handlers(
    old: tuple[TextIO, ...],
    stream: TextIO,
    handlers: list[logging.StreamHandler[TextIO]] | None = None,
) -> list[logging.StreamHandler[TextIO]]:
    """Make the root logger's handlers on ``old`` streams (or ``handlers``) write to ``stream``."""
    if handlers is None:
        handlers = [
            h
            for h in logging.getLogger().handlers
            if isinstance(h, logging.StreamHandler) and h.stream in old
        ]
    for handler in handlers:
        handler.setStream(stream)
    return handlers


def _store(text: str, dataset: str, collection_id: str, run_id: str) -> None:
    """Write ``text`` as this pod's log in the collection's chunk storage."""
    try:
        from etl.dataset.chunking.create import chunk_storage_of
        from etl.dataset.layout import RunLayout
        from etl.task.bundle_fetch import fetch_bundle
        from etl.task.environment import TaskEnvironment

        environment = TaskEnvironment()
        collection = fetch_bundle(dataset, environment, with_code=False).collection(collection_id)
        storage = chunk_storage_of(
            collection, profile=environment.profile, secrets=environment.secrets
        )
        pod = os.environ.get(NODE_ID_ENV) or os.environ.get("HOSTNAME") or socket.gethostname()
        storage.write_text(RunLayout(run_id).log_path(pod), text)
    except Exception as exc:  # the log is a convenience: never the task's failure
        print(f"warning: this pod's log was not kept: {exc}", file=sys.stderr)
