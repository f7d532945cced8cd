"""A consumer deletes a committed batch's messages while it receives and makes the next batch
(issue 24, the burst: the queue service has no batch delete, one request per message, and the
consumer used to wait for all of them before it received again, as long as its load took).

The queue service is reached through a stand-in that forwards TCP to Azurite's and holds each
message delete 0.2 s before forwarding it (a distant or busy queue service), noting whether a
receive came while a delete was held. One consumer streams three batches: every item is loaded
once, every message deleted (none dead-lettered, the queue empty), and a receive went out while a
delete was still on its way; on the old code none ever did (deletes, then the next receive).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from stream_dataset import MakeStream

pytestmark = pytest.mark.postgres

HOLD = 0.2
"""Seconds each message delete is held before it reaches the queue service."""


class SlowDeletes:
    """Forwards TCP to the queue service at ``upstream``; holds each ``DELETE`` request
    :data:`HOLD` seconds; counts the deletes and the receives sent while a delete was held or
    unanswered."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.deletes = 0
        self.receives_during_deletes = 0
        self._waiting = 0  # deletes sent and not yet answered
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        """Stop listening; close every connection."""
        self._server.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream))
            with self._lock:
                self._sockets += [client, upstream]
            deleting = threading.Event()  # this connection's request is a delete, unanswered
            threading.Thread(target=self._requests, args=(client, upstream, deleting),
                             daemon=True).start()  # fmt: skip
            threading.Thread(target=self._answers, args=(upstream, client, deleting),
                             daemon=True).start()  # fmt: skip

    def _requests(
        self, client: socket.socket, upstream: socket.socket, deleting: threading.Event
    ) -> None:
        try:
            while data := client.recv(65536):
                line = data.split(b"\r\n", 1)[0]
                if line.startswith(b"DELETE ") and b"popreceipt=" in line:
                    with self._lock:
                        self.deletes += 1
                        self._waiting += 1
                    deleting.set()
                    time.sleep(HOLD)
                elif line.startswith(b"GET ") and b"/messages?" in line and b"peekonly" not in line:
                    with self._lock:
                        self.receives_during_deletes += self._waiting > 0
                upstream.sendall(data)
        except OSError:
            return

    def _answers(
        self, upstream: socket.socket, client: socket.socket, deleting: threading.Event
    ) -> None:
        try:
            while data := upstream.recv(65536):
                if deleting.is_set():
                    deleting.clear()
                    with self._lock:
                        self._waiting -= 1
                client.sendall(data)
        except OSError:
            return


@pytest.fixture
def slow_deletes(azurite_queue_port: int) -> Iterator[SlowDeletes]:
    proxy = SlowDeletes(azurite_queue_port)
    yield proxy
    proxy.close()


def test_a_batchs_deletes_run_while_the_next_batch_is_received(
    stream_of: MakeStream, slow_deletes: SlowDeletes
) -> None:
    ds = stream_of(batch_size=10, visibility_timeout=60)
    uris = [ds.upload(f"assets/{n:02d}.json", id=f"item-{n:02d}", n=n) for n in range(30)]
    ds.send(*uris)
    ds.env["ETL_AZURITE_QUEUE_PORT"] = str(slow_deletes.port)

    result = ds.etl("dataset", "stream", "-d", str(ds.folder), "--submit", "--until-idle", "3",
                    "--polling", "0.5", "--max-consumers", "1", "-o", "json")  # fmt: skip

    assert result.returncode == 0, result.stderr
    totals = json.loads(result.stdout)
    assert (totals["events"], totals["loaded"], totals["dead_lettered"]) == (30, 30, 0), totals
    assert ds.item_ids() == [f"item-{n:02d}" for n in range(30)]
    left = ds.queue_client().get_queue_properties().approximate_message_count
    assert left == 0 and ds.peek(poison=True) == []  # hidden ones included: every one deleted
    assert slow_deletes.deletes == 30
    assert slow_deletes.receives_during_deletes > 0
