"""A burst of queued events through ``etl dataset stream --submit --until-idle`` (issue 24, the
burst aim): the consumer deletes each message once its items committed, signed (Azurite checks
the shared key), retried when the queue service answers ``503 ServerBusy``. Every request goes through a forwarding proxy (``HTTP_PROXY``, as
the pods see it) that counts them and answers the first delete of every message ``503``.

Countable: every message is deleted (one successful ``DELETE`` per message, after one refused),
no message is received twice (the events counted equal the events sent), every item is in PgSTAC
once with its ``etl.item_sources`` row, and the queue and its dead-letter queue end empty.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from urllib.parse import urlsplit

import pytest
from stand_in_http import StandInHandler, serving
from stream_dataset import MakeStream

pytestmark = pytest.mark.postgres

SIDECARS = 40
AGAIN = 8
"""Sidecars whose event is sent twice (Event Grid may deliver an event more than once)."""
_HOP_HEADERS = {"connection", "proxy-connection", "keep-alive", "transfer-encoding"}


class _BusyOnFirstDelete(StandInHandler):
    """A forward proxy that forwards every request and records it; the first ``DELETE`` of each
    queue message is answered ``503 ServerBusy`` instead (a transient refusal)."""

    requests: Counter[tuple[str, str]] = Counter()
    lock = threading.Lock()

    def do_HEAD(self) -> None:  # noqa: N802 (http.server names its methods so)
        self._serve()

    def _serve(self) -> None:
        url = urlsplit(self.path)
        key = (self.command, url.path)
        with self.lock:
            self.requests[key] += 1
            first = self.requests[key] == 1
            refuse = first and self.command == "DELETE" and "/messages/" in url.path
        if refuse:
            self._answer(503, [("x-ms-error-code", "ServerBusy")], b"")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
        upstream = http.client.HTTPConnection(url.hostname or "", url.port, timeout=60)
        target = f"{url.path}?{url.query}" if url.query else url.path
        upstream.request(self.command, target, body=body, headers=headers)
        answer = upstream.getresponse()
        self._answer(answer.status, answer.getheaders(), answer.read())
        upstream.close()

    def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response_only(status)
        for name, value in headers:
            if name.lower() not in _HOP_HEADERS | {"content-length"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def test_a_burst_is_loaded_once_and_every_message_deleted_through_busy_answers(
    stream_of: MakeStream,
) -> None:
    ds = stream_of(batch_size=16, visibility_timeout=120)
    for n in range(SIDECARS):
        ds.upload(f"assets/s{n:03d}.json", id=f"s{n:03d}", n=n)
    ds.send(ds.blob("assets/"))  # one event per blob of the prefix, as a backfill sends them
    ds.send(*(ds.blob(f"assets/s{n:03d}.json") for n in range(AGAIN)))
    _BusyOnFirstDelete.requests.clear()

    with serving(_BusyOnFirstDelete) as proxy:
        ds.env |= {"HTTP_PROXY": proxy, "http_proxy": proxy, "NO_PROXY": "", "no_proxy": ""}
        result = ds.etl("dataset", "stream", "-d", str(ds.folder), "--submit", "--until-idle",
                        "3", "--polling", "0.5", "-o", "json")  # fmt: skip

    assert result.returncode == 0, result.stderr
    totals = json.loads(result.stdout)
    events = SIDECARS + AGAIN
    assert totals["events"] == events, totals  # none received twice: each deleted in time
    assert totals["dead_lettered"] == 0 and totals["failed_consumers"] == [], totals
    assert ds.item_ids() == [f"s{n:03d}" for n in range(SIDECARS)]
    assert len(ds.source_rows()) == SIDECARS
    assert ds.peek() == [] and ds.peek(poison=True) == []
    deletes = {
        path: count
        for (method, path), count in _BusyOnFirstDelete.requests.items()
        if method == "DELETE" and path.startswith(f"/devstoreaccount1/{ds.queue}/messages/")
    }
    assert len(deletes) == events, deletes  # every message deleted...
    assert set(deletes.values()) == {2}, deletes  # ...once refused busy, then once more
