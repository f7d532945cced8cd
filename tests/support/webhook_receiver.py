"""A webhook receiver on a local port, in a thread, as a downstream consumer of etl's events runs
one: every POST must carry ``X-Etl-Signature-256`` matching the HMAC-SHA256 of its body under the
shared secret (a request without a right signature is answered 401 and kept out of ``events``),
the batch content type, and a JSON array of CloudEvents that pass etl's schema.

``answer`` is the status it gives (set 503 to play a target that is down). With ``holding`` set,
a request is held unanswered (and its events not taken) until ``release``: the sender is then
known by :meth:`WebhookReceiver.held_sender`, the pid of the process whose socket it is.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cloud_events import check_events
from stand_in_http import StandInHandler, serving

BATCH_TYPE = "application/cloudevents-batch+json; charset=utf-8"


@dataclass
class WebhookReceiver:
    """What the receiver got: the events of every accepted request, and its refusals."""

    url: str
    secret: str
    answer: int = 200
    events: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    holding: bool = False
    released: threading.Event = field(default_factory=threading.Event)
    held_ports: list[int] = field(default_factory=list)

    def held_sender(self, timeout: float = 120) -> int:
        """The pid of the process whose request is held (waited for)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                ports = list(self.held_ports)
            for port in ports:
                pid = _pid_of_local_port(port)
                if pid is not None:
                    return pid
            time.sleep(0.1)
        raise AssertionError("no request was held")

    def unique(self) -> dict[str, dict[str, Any]]:
        """The events by id (duplicates dropped, as a consumer does)."""
        with self.lock:
            return {event["id"]: event for event in self.events}


def _handler(receiver: WebhookReceiver) -> type[StandInHandler]:
    class Handler(StandInHandler):
        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.lock:
                receiver.requests += 1
            problem = _problem(self.command, self.headers, body, receiver.secret)
            if receiver.holding and not problem:
                with receiver.lock:
                    receiver.held_ports.append(self.client_address[1])
                receiver.released.wait(300)
                self.close_connection = True
                return
            status = 401 if problem else receiver.answer
            if problem:
                with receiver.lock:
                    receiver.refused.append(problem)
            elif status < 300:
                events = check_events(json.loads(body))
                with receiver.lock:
                    receiver.events.extend(events)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


def _problem(method: str, headers: Any, body: bytes, secret: str) -> str | None:
    if method != "POST":
        return f"method {method}"
    if headers.get("Content-Type") != BATCH_TYPE:
        return f"content type {headers.get('Content-Type')!r}"
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(headers.get("X-Etl-Signature-256") or "", expected):
        return "bad signature"
    if secret.encode() in body or any(secret in str(v) for v in headers.values()):
        return "the secret was sent"
    return None


def _pid_of_local_port(port: int) -> int | None:
    """The pid of the process holding the TCP socket whose local port is ``port`` (``/proc``)."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inode = fields[9]
    if inode is None:
        return None
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return int(pid)
        except OSError:
            continue
    return None


@contextmanager
def webhook_receiver(secret: str) -> Iterator[WebhookReceiver]:
    """A receiver on a free port of 127.0.0.1 for the block's length."""
    receiver = WebhookReceiver("", secret)
    with serving(_handler(receiver)) as base:
        receiver.url = f"{base}/hooks/stac"
        try:
            yield receiver
        finally:
            receiver.released.set()  # a held request returns before the server shuts down
