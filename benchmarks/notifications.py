"""Benchmark: ``etl dataset process-items --submit`` with item events sent to one queue target and
one webhook target, against the same ingest without notifications (issue 26, item 6).

Both load the same N items (``ingest.py``'s trivial dataset) into a fresh migrated database; the
notified run records an event per item in the load's transactions (``etl.outbox``, one COPY a
batch) and delivers them after each pod's commit: to an Azurite queue (CloudEvents batches of up
to 60 KiB a message) and to a local webhook receiver (a thread of this process that checks each
request's HMAC signature and counts its events). Rounds alternate plain and notified runs; the
ratio is of medians (notified seconds over plain seconds; aim: under 1.1x). Each notified round
checks that every item's event reached both targets.

    uv run python benchmarks/notifications.py --items 20000 [--rounds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import statistics
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ingest import ROOT, Databases, count_items, ours, trivial_case

from etl.core.notifications.cloud_event import EventType
from etl.core.profiles.local_services import azurite_queue_endpoint
from etl.core.profiles.model import Profile
from etl.core.queues.clients import queue_client
from etl.core.queues.uris import parse_queue_uri

SECRET = "benchmark-hook-secret"
ITEM_EVENT_TYPES = {EventType.ITEM_CREATED, EventType.ITEM_UPDATED, EventType.ITEM_DELETED}
ACCOUNT = "devstoreaccount1"


class Receiver:
    """Counts the events of every correctly signed request."""

    def __init__(self) -> None:
        self.events = 0
        self.bad = 0
        self.lock = threading.Lock()


@contextmanager
def receiver() -> Iterator[tuple[Receiver, str]]:
    """A webhook receiver on a free local port, and its URL."""
    counts = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            good = hmac.compare_digest(self.headers.get("X-Etl-Signature-256") or "", expected)
            with counts.lock:
                if good:
                    counts.events += item_events(json.loads(body))
                else:
                    counts.bad += 1
            self.send_response(200 if good else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield counts, f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def item_events(events: list[dict[str, Any]]) -> int:
    """How many of ``events`` are item events (the run's outcome, from its exit handler, is not)."""
    return sum(1 for event in events if event["type"] in ITEM_EVENT_TYPES)


def queued_events(uri: str) -> int:
    """How many events the queue's messages hold (messages consumed)."""
    client = queue_client(parse_queue_uri(uri), Profile.builtin_local())
    events = 0
    while messages := list(client.receive_messages(max_messages=32)):
        for message in messages:
            events += item_events(json.loads(message.content))
            client.delete_message(message)
    return events


def notified_copy(plain: Path, folder: Path, queue: str, hook: str) -> Path:
    """The plain dataset's folder copied with two notification targets added."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in plain.rglob("*"):
        target = folder / path.relative_to(plain)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.write_bytes(path.read_bytes())
    yaml_path = folder / "dataset.yaml"
    yaml_path.write_text(
        yaml_path.read_text() + f"notifications:\n  - queue: {queue}\n  - webhook: {hook}\n"
        "    secret: $<< secrets.BENCH_HOOK >>\n"
    )
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--admin-dsn", default="postgresql://postgres@127.0.0.1:55432/postgres")
    parser.add_argument("--work", type=Path, default=ROOT / ".state" / "bench-notifications")
    args = parser.parse_args()
    queue = f"queue://{ACCOUNT}/bench-{uuid.uuid4().hex[:12]}"
    client = queue_client(parse_queue_uri(queue), Profile.builtin_local())
    client.create_queue()
    port = azurite_queue_endpoint().rsplit(":", 1)[1].split("/")[0]
    databases = Databases(args.admin_dsn)
    plain_seconds: list[float] = []
    notified_seconds: list[float] = []
    try:
        with receiver() as (hook, url), tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            case = trivial_case(args.work, work, args.items)
            copied = notified_copy(case.dataset, work / "notified", queue, url)
            notified = replace(case, dataset=copied, code=copied)
            extra = {"ETL_SECRET_BENCH_HOOK": SECRET, "ETL_AZURITE_QUEUE_PORT": port}
            for round_ in range(args.rounds):
                for label, chosen, times in (
                    ("plain", case, plain_seconds),
                    ("notified", notified, notified_seconds),
                ):
                    databases.settle()
                    dsn = databases.fresh()
                    seconds, _ = ours(dsn, chosen, work / f"state-{label}-{round_}", extra)
                    assert count_items(dsn) == args.items
                    times.append(seconds)
                    line = f"round {round_ + 1} {label}: {seconds:.2f} s"
                    if chosen is notified:
                        sent = queued_events(queue)
                        with hook.lock:
                            got, hook.events = hook.events, 0
                        assert sent == args.items and got == args.items and not hook.bad, (
                            sent,
                            got,
                            hook.bad,
                        )
                        line += f" ({sent} events queued, {got} to the webhook)"
                    print(line, flush=True)
    finally:
        databases.drop_all()
        client.delete_queue()
    plain, with_events = statistics.median(plain_seconds), statistics.median(notified_seconds)
    print(
        f"{args.items} items: plain {plain:.2f} s, with a queue and a webhook {with_events:.2f} s "
        f"(medians of {args.rounds}): {with_events / plain:.2f}x"
    )


if __name__ == "__main__":
    main()
