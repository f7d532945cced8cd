"""Benchmark: ``etl dataset stream --submit`` on the local runner (issue 24, item 9): latency from a
blob's upload to its item in PgSTAC at a sustained event rate, a burst's throughput against batch
``process-items`` on the same assets, and peak memory.

The dataset: one collection of JSON sidecars on Azurite's blob storage (``create_item`` reads and
parses the blob, builds a point item), its ``events.queue`` on Azurite's queue service. Each phase
gets its own container, queue and freshly migrated PgSTAC database (dropped at the end).

- **sustained** (each of ``--rates``): a producer uploads a sidecar and puts its
  ``Microsoft.Storage.BlobCreated`` message, made by ``etl.core.queues.sending`` (the code of
  ``etl dataset send-events``), at the target rate for ``--warmup`` then ``--seconds`` seconds,
  while ``etl dataset stream --submit --until-idle 5`` runs as a subprocess. A poller reads
  ``pgstac.items`` for the pending ids at 20 Hz; latency = when an item is first readable minus
  when its blob's upload returned. The warm-up's events (the cold start and the backlog it left)
  are left out of the percentiles: the warm-up must outlast the cold start, which took 5-23 s on
  the shared 2-core machine (default 30 s, :data:`WARMUP`); the cold start is printed on its own
  (first upload to first item).
- **burst** (``--burst N``): N sidecars uploaded and their N events queued
  (``send_events`` over the prefix, as ``etl dataset send-events blob://.../`` does) before the
  clock starts; then ``etl dataset stream --submit --until-idle 5`` is timed from its start to the
  moment the N-th item is readable (the idle tail is not counted), and ``etl dataset process-items
  --submit --wait`` on the same blobs into a fresh database as a whole command. Ratio: stream
  throughput over batch throughput.
- **memory**: peak of the summed RSS (and PSS: forks of the runner's warm server share pages) of
  each command's process tree (the CLI, its runner, the warm server and the pods), sampled from
  ``/proc`` every 0.2 s.

- **queue service** (``--queue-service-pid PID``, the queue service's process): its CPU an event
  while the burst's stream ran, read from ``/proc``.

Only what a user can tune is tuned: ``events.batch_size`` / ``events.max_wait`` of the dataset
(``--batch-size``, ``--max-wait``), ``--polling`` and ``--max-consumers`` of the stream. The
machine is shared: the load average is printed before each phase; ``--names`` prefixes the
containers and queues (several runs at once on the same services).

    uv run python benchmarks/streaming.py [--seconds 60] [--warmup 30] [--rates 50,200] \
        [--burst 10000] [--batch-size 100] [--max-wait 1] [--polling 1] [--max-consumers N] \
        [--names bench-stream] [--queue-service-pid PID]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import ContainerClient, ContentSettings
from raw_pgstac import ADMIN_DSN, ROOT, make_collection, scratch_pgstac

from etl.core.env_names import AZURITE_PORT_ENV, AZURITE_QUEUE_PORT_ENV, PG_PORT_ENV
from etl.core.profiles.local_services import AZURITE_KEY, azurite_blob_endpoint
from etl.core.profiles.model import Profile
from etl.core.queues.clients import queue_client
from etl.core.queues.event_types import EventKind, EventSchema
from etl.core.queues.events import encode_event
from etl.core.queues.sending import event_document, send_events
from etl.core.queues.uris import parse_queue_uri
from etl.core.storage.base import ObjectInfo

ETL = str(ROOT / ".venv" / "bin" / "etl")
ACCOUNT = "devstoreaccount1"
COLLECTION = "bench-stream"
IDLE = 5
"""The stream's ``--until-idle`` (and so its consumers' ``--idle-exit``)."""
POLL_HZ = 20
WARMUP = 30.0
"""Default ``--warmup`` seconds: longer than the cold start measured here (5-23 s)."""
CONTENT_TYPE = "application/json"
PYCACHE = ROOT / ".state" / "bench-streaming-pycache"
"""Where etl's processes keep compiled modules (a machine may forbid writing them beside the
sources: ``PYTHONDONTWRITEBYTECODE``; an installation compiles them once, as this does)."""
COLLECTION_CODE = """
import json
from datetime import datetime, timezone

import pystac

from etl.dataset import Collection


class Sidecars(Collection):
    @classmethod
    def create_item(cls, asset_uri, storage):
        record = json.loads(storage.read_text(asset_uri))
        x, y = record["n"] % 360 - 180 + 0.5, record["n"] % 180 - 90 + 0.5
        return pystac.Item(
            id=record["id"],
            geometry={"type": "Point", "coordinates": [x, y]},
            bbox=[x, y, x, y],
            datetime=datetime(2024, 1, 1, tzinfo=timezone.utc),
            properties={"n": record["n"]},
            assets={"data": pystac.Asset(href=asset_uri)},
        )
"""


@dataclass(frozen=True)
class Tuning:
    """What a user can tune (the dataset's ``events``, the stream's options), and the run's own
    names and the queue service it watches."""

    batch_size: int
    max_wait: float
    polling: float
    max_consumers: int | None
    names: str = "bench-stream"
    """The prefix of the containers' and queues' names."""
    queue_service: int | None = None
    """The queue service's process, whose CPU is printed (``--queue-service-pid``)."""

    def stream_args(self) -> list[str]:
        extra = ["--polling", str(self.polling)]
        return extra + (["--max-consumers", str(self.max_consumers)] if self.max_consumers else [])


@dataclass
class Case:
    """One phase's container, queue, dataset folder and the environment etl runs in."""

    folder: Path
    container: ContainerClient
    queue: str
    dsn: str
    env: dict[str, str]

    def blob_uri(self, name: str) -> str:
        return f"blob://{ACCOUNT}/{self.container.container_name}/{name}"

    def etl(self, *args: str) -> subprocess.Popen[str]:
        command = [ETL, "dataset", *args, "-d", str(self.folder)]
        return subprocess.Popen(
            command, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )


@contextlib.contextmanager
def make_case(work: Path, dsn: str, tuning: Tuning) -> Iterator[Case]:
    """A dataset over a new container and queue (named ``tuning.names`` and a random tag); both
    deleted at the end."""
    tag = f"{tuning.names}-{uuid.uuid4().hex[:8]}"
    connection = (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={azurite_blob_endpoint()};"
    )
    container = ContainerClient.from_connection_string(connection, tag)
    container.create_container()
    queue = tag
    folder = work / f"dataset-{tag}"
    (folder / "collection").mkdir(parents=True)
    (folder / "sidecars.py").write_text(COLLECTION_CODE)
    (folder / "collection" / "template.json").write_text(json.dumps(make_collection(COLLECTION)))
    (folder / "dataset.yaml").write_text(
        textwrap.dedent(
            f"""\
            id: bench-stream
            code:
              src: $<< local.path(./sidecars.py) >>
            collections:
              - id: {COLLECTION}
                class: sidecars:Sidecars
                template: $<< local.path(./collection) >>
                asset_storage:
                  - uri: blob://{ACCOUNT}/{container.container_name}/assets
                    chunks:
                      options:
                        extensions: [.json]
                chunk_storage:
                  uri: {(folder / "chunks").as_uri()}
                events:
                  queue: queue://{ACCOUNT}/{queue}
                  batch_size: {tuning.batch_size}
                  max_wait: {tuning.max_wait}
            """
        )
    )
    ports = (PG_PORT_ENV, AZURITE_PORT_ENV, AZURITE_QUEUE_PORT_ENV)  # which services to reach
    env = {k: v for k, v in os.environ.items() if k in ports or not k.startswith(("ETL_", "ARGO_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules compiled once, not per run
    env |= {
        "PYTHONPYCACHEPREFIX": str(PYCACHE),
        "ETL_PGSTAC_DSN": dsn,
        "ETL_STATE_DIR": str(folder / "state"),
        "ETL_CONFIG_DIR": str(folder / "config"),
        "CI": "true",
    }
    try:
        yield Case(folder, container, queue, dsn, env)
    finally:
        container.delete_container()
        location = parse_queue_uri(f"queue://{ACCOUNT}/{queue}")
        for where in (location, location.poison):
            with contextlib.suppress(ResourceNotFoundError):
                queue_client(where, Profile.builtin_local()).delete_queue()


def upload(case: Case, n: int, prefix: str) -> ObjectInfo:
    """Upload sidecar ``n``; the blob as a listing with properties would give it."""
    name = f"assets/{prefix}-{n:06d}.json"
    data = json.dumps({"id": f"{prefix}-{n:06d}", "n": n}).encode()
    reply = case.container.get_blob_client(name).upload_blob(
        data, overwrite=True, content_settings=ContentSettings(content_type=CONTENT_TYPE)
    )
    uri = case.blob_uri(name)
    return ObjectInfo(uri, name, len(data), etag=str(reply["etag"]), content_type=CONTENT_TYPE)


class TreeMemory:
    """Peak summed RSS and PSS (KiB) of a process and its descendants, sampled from ``/proc``."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self.pid = pid
        self.rss = self.pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            rss = pss = 0
            for pid in self._tree():
                rss += _kib(f"/proc/{pid}/status", "VmRSS:")
                pss += _kib(f"/proc/{pid}/smaps_rollup", "Pss:")
            self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)

    def _tree(self) -> set[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError):
                    stat = Path(f"/proc/{entry}/stat").read_text()
                    parent = int(stat.rsplit(")", 1)[1].split()[1])
                    children.setdefault(parent, []).append(int(entry))
        tree, todo = set(), [self.pid]
        while todo:
            pid = todo.pop()
            tree.add(pid)
            todo.extend(children.get(pid, []))
        return tree


def _kib(path: str, key: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    return 0


@dataclass
class Watcher:
    """Polls ``pgstac.items`` for the pending ids at :data:`POLL_HZ`; when each was first seen."""

    dsn: str
    pending: set[str] = field(default_factory=set)
    seen: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    def expect(self, item_id: str) -> None:
        with self._lock:
            self.pending.add(item_id)

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self._stop.wait(1 / POLL_HZ):
                with self._lock:
                    ids = list(self.pending)
                if not ids:
                    continue
                rows = conn.execute(
                    "SELECT id FROM pgstac.items WHERE collection = %s AND id = ANY(%s)",
                    (COLLECTION, ids),
                ).fetchall()
                now = time.monotonic()
                with self._lock:
                    for (item_id,) in rows:
                        self.pending.discard(item_id)
                        self.seen[item_id] = now

    def stop(self) -> None:
        self._stop.set()


def _finish(process: subprocess.Popen[str], what: str) -> dict[str, object]:
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"{what} failed ({process.returncode}):\n{stderr[-3000:]}")
    return json.loads(stdout) if stdout.strip().startswith("{") else {}


def _percentiles(values: list[float]) -> str:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return (
        f"p50 {cuts[49]:.2f} s, p95 {cuts[94]:.2f} s, p99 {cuts[98]:.2f} s, max {max(values):.2f} s"
    )


def _children_cpu() -> float:
    """CPU seconds of the ended child processes (each command's whole tree, its pods included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _service_cpu(pid: int | None) -> float:
    """CPU seconds a service's process (``--queue-service-pid``) has used so far (0: none)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load() -> str:
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def sustained(work: Path, rate: int, seconds: float, warmup: float, tuning: Tuning) -> None:
    """Events at ``rate`` per second while the stream runs; latency percentiles."""
    print(f"sustained {rate} events/s for {seconds:.0f} s (+{warmup:.0f} s warm-up); {_load()}")
    with scratch_pgstac(ADMIN_DSN) as dsn, make_case(work, dsn, tuning) as case:
        location = parse_queue_uri(f"queue://{ACCOUNT}/{case.queue}")
        profile = Profile.builtin_local()
        client = queue_client(location, profile)
        client.create_queue()
        watcher = Watcher(dsn)
        uploaded: dict[str, float] = {}
        sent: list[float] = []

        def produce(n: int) -> None:
            blob = upload(case, n, f"r{rate}")
            done = time.monotonic()
            item_id = Path(blob.path).stem
            uploaded[item_id] = done
            watcher.expect(item_id)
            document = event_document(EventKind.CREATED, blob, EventSchema.EVENT_GRID, profile)
            client.send_message(encode_event(document))
            sent.append(time.monotonic())

        cpu = _children_cpu()
        stream = case.etl("stream", "--submit", "--until-idle", str(IDLE), "-o", "json",
                          *tuning.stream_args())  # fmt: skip
        memory = TreeMemory(stream.pid)
        polling = threading.Thread(target=watcher.run, daemon=True)
        polling.start()
        started = time.monotonic()
        total = int(rate * (warmup + seconds))
        with ThreadPoolExecutor(16) as pool:
            for n in range(total):
                time.sleep(max(0.0, started + n / rate - time.monotonic()))
                pool.submit(produce, n)
        ended = time.monotonic()
        while watcher.pending and time.monotonic() - ended < 120:
            time.sleep(0.1)
        watcher.stop()
        polling.join()
        totals = _finish(stream, "etl dataset stream")
        cpu = _children_cpu() - cpu
        memory.stop()
    measured = [
        watcher.seen[i] - uploaded[i]
        for i in watcher.seen
        if uploaded[i] - started >= warmup  # the warm-up's events: the cold start
    ]
    first = min(watcher.seen.values(), default=ended) - started
    achieved = len(sent) / max(1e-9, max(sent) - min(sent))
    print(f"  achieved {achieved:.1f} events/s; {len(watcher.pending)} items never seen; cold "
          f"start (stream started, first upload to first item) {first:.2f} s")  # fmt: skip
    print(f"  latency over {len(measured)} events after the warm-up: {_percentiles(measured)}")
    print(f"  stream: {totals}; CPU {cpu:.1f} s ({1000 * cpu / max(1, len(sent)):.1f} ms an "
          f"event); peak RSS {memory.rss / 1024:.0f} MiB (PSS {memory.pss / 1024:.0f} MiB); "
          f"{_load()}", flush=True)  # fmt: skip


def burst(work: Path, count: int, tuning: Tuning) -> None:
    """``count`` queued events: the stream to the last item, then batch process-items."""
    with scratch_pgstac(ADMIN_DSN) as dsn, make_case(work, dsn, tuning) as case:
        prepared = time.monotonic()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda n: upload(case, n, "burst"), range(count)))
        location = parse_queue_uri(f"queue://{ACCOUNT}/{case.queue}")
        send_events(location, [case.blob_uri("assets/")], kind=EventKind.CREATED,
                    schema=EventSchema.EVENT_GRID, profile=Profile.builtin_local())  # fmt: skip
        print(f"burst of {count:,} events: uploaded and queued in "
              f"{time.monotonic() - prepared:.0f} s; {_load()}", flush=True)  # fmt: skip

        started, cpu = time.monotonic(), _children_cpu()
        queue_cpu = _service_cpu(tuning.queue_service)
        stream = case.etl("stream", "--submit", "--until-idle", str(IDLE), "-o", "json",
                          *tuning.stream_args())  # fmt: skip
        memory = TreeMemory(stream.pid)
        last = None
        with psycopg.connect(dsn, autocommit=True) as conn:
            while stream.poll() is None or last is None:
                row = conn.execute("SELECT count(*) FROM pgstac.items").fetchone()
                if row and row[0] >= count:
                    last = time.monotonic()
                    break
                if stream.poll() is not None:
                    break
                time.sleep(0.1)
        totals = _finish(stream, "etl dataset stream")
        stream_cpu = _children_cpu() - cpu
        queue_cpu = _service_cpu(tuning.queue_service) - queue_cpu
        memory.stop()
        if last is None:
            raise SystemExit(f"the stream ended with fewer than {count} items: {totals}")
        stream_seconds = last - started
        stream_memory = memory

        with scratch_pgstac(ADMIN_DSN) as batch_dsn:
            case.env["ETL_PGSTAC_DSN"] = batch_dsn
            case.env["ETL_STATE_DIR"] = str(case.folder / "state-batch")
            started, cpu = time.monotonic(), _children_cpu()
            batch = case.etl("process-items", "--submit", "--wait")
            memory = TreeMemory(batch.pid)
            _finish(batch, "etl dataset process-items")
            batch_seconds = time.monotonic() - started
            batch_cpu = _children_cpu() - cpu
            memory.stop()
            with psycopg.connect(batch_dsn) as conn:
                row = conn.execute("SELECT count(*) FROM pgstac.items").fetchone()
            assert row and row[0] == count, f"process-items loaded {row}"
    stream_rate, batch_rate = count / stream_seconds, count / batch_seconds
    print(f"  stream: {stream_rate:,.0f} items/s ({stream_seconds:.1f} s to the last item; "
          f"{totals}); CPU {1000 * stream_cpu / count:.1f} ms an item; peak RSS "
          f"{stream_memory.rss / 1024:.0f} MiB (PSS "
          f"{stream_memory.pss / 1024:.0f} MiB)")  # fmt: skip
    if tuning.queue_service is not None:
        print(f"  queue service: CPU {1000 * queue_cpu / count:.2f} ms an event in the stream")
    print(f"  process-items: {batch_rate:,.0f} items/s ({batch_seconds:.1f} s); CPU "
          f"{1000 * batch_cpu / count:.1f} ms an item; peak RSS "
          f"{memory.rss / 1024:.0f} MiB (PSS {memory.pss / 1024:.0f} MiB)")  # fmt: skip
    print(f"  ratio stream / batch: {stream_rate / batch_rate:.2f} (CPU an item: "
          f"{stream_cpu / batch_cpu:.2f}); {_load()}", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=WARMUP, help="seconds left out first")
    parser.add_argument("--rates", default="50,200", help="events/s, comma-separated ('' none)")
    parser.add_argument("--burst", type=int, default=10_000, help="queued events (0: none)")
    parser.add_argument("--batch-size", type=int, default=100, help="events.batch_size")
    parser.add_argument("--max-wait", type=float, default=1.0, help="events.max_wait")
    parser.add_argument("--polling", type=float, default=1.0, help="stream --polling")
    parser.add_argument("--max-consumers", type=int, default=None, help="stream --max-consumers")
    parser.add_argument("--names", default="bench-stream", help="containers' and queues' prefix")
    parser.add_argument("--queue-service-pid", type=int, help="print this process's CPU")
    parser.add_argument("--work", type=Path, default=ROOT / ".state")
    args = parser.parse_args()
    tuning = Tuning(args.batch_size, args.max_wait, args.polling, args.max_consumers,
                    args.names, args.queue_service_pid)  # fmt: skip
    print(f"tuning: {tuning}; {os.cpu_count()} CPUs; {_load()}", flush=True)
    args.work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        for rate in [int(r) for r in args.rates.split(",") if r]:
            sustained(Path(tmp), rate, args.seconds, args.warmup, tuning)
        if args.burst:
            burst(Path(tmp), args.burst, tuning)


if __name__ == "__main__":
    main()
