"""Benchmark: ``etl dataset process-items --submit`` with item events sent to one queue target and
one webhook target, against the same ingest without notifications (issue 26, item 6).

Both load the same N items (``ingest.py``'s trivial dataset) into a fresh migrated database; the
notified run records its events in the load's transactions (``etl.outbox``, one row a batch),
its pods deliver them while they load (to an Azurite queue, CloudEvents batches of up to 60 KiB a
message, and to a local webhook receiver, a thread of this process that checks each request's HMAC
signature and counts its events), and its exit handler sends the run's outcome. Rounds alternate
plain and notified runs; the ratio is of medians (notified seconds over plain seconds; aim: under
1.1x). Each notified round checks that every item's event reached both targets.

Each run is also measured in CPU seconds, which a busy machine disturbs less than wall time: the
run's own processes (``etl``, the runner, its pods) and the shared services' (PostgreSQL, the
Azurite queue; other work on them counts too). With two sizes or more (``--items 20000 100000``),
the wall time a notified run adds is split into a fixed part (the exit handler's pod, the last
batch's delivery) and a part per item, fitted over the sizes' medians.

    uv run python benchmarks/notifications.py --items 20000 100000 [--rounds 3]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import hmac
import json
import os
import resource
import statistics
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
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
ITEM_TYPE_FIELD = f'"type":"{EventType.ITEM_CREATED.rpartition(".")[0]}.'.encode()
"""How the webhook receiver counts item events: their ``type`` field in etl's compact JSON, found
in the body without parsing it (a receiver that checks the signature and queues the body for later
work parses nothing; parsing 35 MB a 100,000-item run cost it 0.6 CPU-seconds on the run's cores).
The queue's messages, read after the run, are parsed."""
ACCOUNT = "devstoreaccount1"


class Receiver:
    """Counts the item events of every correctly signed request (:data:`ITEM_TYPE_FIELD`)."""

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
                    counts.events += body.count(ITEM_TYPE_FIELD)
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


def queued_events(uri: str) -> tuple[int, int]:
    """How many item events the queue's messages hold, and how many messages (consumed)."""
    client = queue_client(parse_queue_uri(uri), Profile.builtin_local())
    events = count = 0
    while messages := list(client.receive_messages(max_messages=32)):
        count += len(messages)
        for message in messages:
            text = message.content
            if not text.startswith("["):  # compress: true
                text = gzip.decompress(base64.b64decode(text))
            events += item_events(json.loads(text))
            client.delete_message(message)
    return events, count


def notified_copy(plain: Path, folder: Path, queue: str, hook: str, *, compress: bool) -> Path:
    """The plain dataset's folder copied with two notification targets added (the queue's
    messages compressed with ``compress``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in plain.rglob("*"):
        target = folder / path.relative_to(plain)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.write_bytes(path.read_bytes())
    yaml_path = folder / "dataset.yaml"
    yaml_path.write_text(
        yaml_path.read_text()
        + f"notifications:\n  - queue: {queue}\n"
        + ("    compress: true\n" if compress else "")
        + f"  - webhook: {hook}\n    secret: $<< secrets.BENCH_HOOK >>\n"
    )
    return folder


def service_cpu(comm: str, marker: str = "") -> float:
    """CPU seconds of every process named ``comm`` (whose command line holds ``marker``), its
    waited-for children included: a service's processes, ended ones too (PostgreSQL's backends)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        name, _, rest = stat.partition(" (")[2].rpartition(")")
        if name == comm and marker in cmdline:
            fields = rest.split()
            total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / tick


@dataclass
class Measures:
    """One kind of run's measures over the rounds."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    """CPU seconds of the run's processes (``etl``, the runner, the pods)."""
    postgres: list[float] = field(default_factory=list)
    queue: list[float] = field(default_factory=list)
    receiver: list[float] = field(default_factory=list)
    """CPU seconds of this process meanwhile: the webhook receiver's thread."""

    def line(self) -> str:
        median = statistics.median
        return (
            f"{median(self.wall):.2f} s, CPU {median(self.cpu):.2f} s "
            f"(PostgreSQL {median(self.postgres):.2f} s, Azurite queue {median(self.queue):.2f} s, "
            f"webhook receiver {median(self.receiver):.2f} s)"
        )


def measured(run: Callable[[], tuple[float, int]], into: Measures) -> str:
    """Run ``run()`` (``ours``: its wall seconds and peak RSS), keep its measures, describe them."""
    before, own = (
        resource.getrusage(resource.RUSAGE_CHILDREN),
        resource.getrusage(resource.RUSAGE_SELF),
    )
    postgres, queue = service_cpu("postgres"), service_cpu("node", "azurite-queue")
    seconds, _ = run()
    after, own_after = (
        resource.getrusage(resource.RUSAGE_CHILDREN),
        resource.getrusage(resource.RUSAGE_SELF),
    )
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    into.receiver.append(own_after.ru_utime + own_after.ru_stime - own.ru_utime - own.ru_stime)
    into.wall.append(seconds)
    into.cpu.append(cpu)
    into.postgres.append(service_cpu("postgres") - postgres)
    into.queue.append(service_cpu("node", "azurite-queue") - queue)
    return (
        f"{seconds:.2f} s, CPU {cpu:.2f} s (PostgreSQL {into.postgres[-1]:.2f} s, "
        f"Azurite queue {into.queue[-1]:.2f} s, webhook receiver {into.receiver[-1]:.2f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--compress",
        action="store_true",
        help="the queue target with compress: true (messages: base64 of the batch's gzip)",
    )
    parser.add_argument(
        "--queue-prefix", default="bench", help="the start of the Azurite queue's name"
    )
    parser.add_argument("--admin-dsn", default="postgresql://postgres@127.0.0.1:55432/postgres")
    parser.add_argument("--work", type=Path, default=ROOT / ".state" / "bench-notifications")
    args = parser.parse_args()
    queue = f"queue://{ACCOUNT}/{args.queue_prefix}-{uuid.uuid4().hex[:12]}"
    client = queue_client(parse_queue_uri(queue), Profile.builtin_local())
    client.create_queue()
    port = azurite_queue_endpoint().rsplit(":", 1)[1].split("/")[0]
    databases = Databases(args.admin_dsn)
    results: dict[int, tuple[Measures, Measures]] = {}
    try:
        with receiver() as (hook, url), tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            extra = {"ETL_SECRET_BENCH_HOOK": SECRET, "ETL_AZURITE_QUEUE_PORT": port}
            for items in args.items:
                case = trivial_case(args.work, work, items)
                copied = notified_copy(
                    case.dataset, work / f"notified-{items}", queue, url, compress=args.compress
                )
                notified = replace(case, dataset=copied, code=copied)
                plain_runs, notified_runs = results[items] = Measures(), Measures()
                for round_ in range(args.rounds):
                    for label, chosen, runs in (
                        ("plain", case, plain_runs),
                        ("notified", notified, notified_runs),
                    ):
                        databases.settle()
                        dsn = databases.fresh()
                        state = work / f"state-{label}-{items}-{round_}"
                        line = measured(partial(ours, dsn, chosen, state, extra), runs)
                        assert count_items(dsn) == items
                        line = f"{items} items, round {round_ + 1} {label}: {line}"
                        if chosen is notified:
                            sent, messages = queued_events(queue)
                            with hook.lock:
                                got, hook.events = hook.events, 0
                            assert sent == items and got == items and not hook.bad, (
                                sent,
                                got,
                                hook.bad,
                            )
                            line += (
                                f"; {sent} events queued in {messages} messages, "
                                f"{got} to the webhook"
                            )
                        print(line, flush=True)
    finally:
        databases.drop_all()
        client.delete_queue()
    median = statistics.median
    for items, (plain, with_events) in results.items():
        ratio = median(with_events.wall) / median(plain.wall)
        cpu_ratio = median(with_events.cpu) / median(plain.cpu)
        print(
            f"{items} items (medians of {args.rounds}): plain {plain.line()}; "
            f"with a queue and a webhook {with_events.line()}: {ratio:.2f}x "
            f"(CPU of the run's processes {cpu_ratio:.2f}x)"
        )
    if len(results) > 1:
        sizes = sorted(results)
        added = {n: median(results[n][1].wall) - median(results[n][0].wall) for n in sizes}
        per_item = (added[sizes[-1]] - added[sizes[0]]) / (sizes[-1] - sizes[0])
        fixed = added[sizes[0]] - per_item * sizes[0]
        print(
            f"what notifications add, fitted over {sizes[0]} and {sizes[-1]} items: "
            f"{fixed:.2f} s a run and {per_item * 1e6:.0f} us an item"
        )


if __name__ == "__main__":
    main()
