"""Benchmark: the whole local ``process-items`` against raw ``pypgstac load``, same items.

Every round loads the same N synthetic items twice, each time into a fresh migrated database:

- raw: ``pypgstac load items --method insert`` from a prepared ndjson file (the items only);
- ours: ``etl dataset process-items --submit`` on the local runner: list N asset files, cut
  chunks, call a trivial ``create_item`` (a ``pystac.Item`` built from the asset's name, nothing
  is read), write ndjson beside the chunks, load into PgSTAC.

The raw side's ndjson holds the very items that ``create_item`` makes.

Both are timed as whole commands, start-up included. Peak RSS of ours (the runner and its task
processes) is measured at N/5 and at N: it must not grow with the item count (both sizes give
every pod several full load batches, the largest thing a pod holds).

    uv run python benchmarks/ingest.py --items 100000 [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import orjson
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from pgstac_samples import make_collection  # noqa: E402

BIN = ROOT / ".venv" / "bin"
COLLECTION = "bench-items"
COLLECTION_CODE = f"""
from datetime import datetime, timezone

import pystac

from etl.dataset import Collection


class BenchItems(Collection):
    @classmethod
    def create_item(cls, asset_uri, storage):
        n = int(asset_uri.rsplit("/", 1)[1].split(".")[0])
        x, y = (n % 360) - 180 + 0.5, ((n // 360) % 180) - 90 + 0.5
        item = pystac.Item(
            id=f"item-{{n:07d}}",
            geometry={{"type": "Point", "coordinates": [x, y]}},
            bbox=[x, y, x, y],
            datetime=datetime(2024, 1, 1, tzinfo=timezone.utc),
            properties={{"title": f"tile {{n}}"}},
            collection={COLLECTION!r},
        )
        item.add_asset("data", pystac.Asset(
            href=f"https://example.com/{COLLECTION}/{{n}}.tif",
            media_type="image/tiff; application=geotiff",
            roles=["data"],
        ))
        return item
"""
RSS_WRAPPER = (
    "import resource, subprocess, sys; "
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
)


def make_assets(folder: Path, count: int) -> None:
    """``count`` empty asset files named by number (made once, reused)."""
    folder.mkdir(parents=True, exist_ok=True)
    if len(os.listdir(folder)) == count:
        return
    for n in range(count):
        (folder / f"{n:07d}.json").touch()


def make_dataset(folder: Path, assets: Path, chunks: Path) -> Path:
    """The benchmark's dataset: a trivial collection class over the asset folder."""
    (folder / "collection").mkdir(parents=True, exist_ok=True)
    (folder / "bench_items.py").write_text(COLLECTION_CODE)
    (folder / "collection" / "template.json").write_text(json.dumps(make_collection(COLLECTION)))
    (folder / "dataset.yaml").write_text(
        textwrap.dedent(
            f"""\
            id: bench
            code:
              src: $<< local.path(./bench_items.py) >>
            collections:
              - id: {COLLECTION}
                class: bench_items:BenchItems
                template: $<< local.path(./collection) >>
                asset_storage:
                  - uri: {assets.as_uri()}
                chunk_storage:
                  uri: {chunks.as_uri()}
            """
        )
    )
    return folder


def write_raw_items(path: Path, dataset: Path, assets: Path, count: int) -> None:
    """The raw side's ndjson: the very items the dataset's ``create_item`` makes."""
    sys.path.insert(0, str(dataset))
    from bench_items import BenchItems  # type: ignore[import-not-found]

    with path.open("wb") as out:
        for n in range(count):
            item = BenchItems.create_item((assets / f"{n:07d}.json").as_uri(), None)
            data = item.to_dict(include_self_link=False, transform_hrefs=False)
            out.write(orjson.dumps(data) + b"\n")


class Databases:
    """Fresh migrated databases, cloned from one template migrated once."""

    def __init__(self, admin_dsn: str) -> None:
        self.admin_dsn = admin_dsn
        self.template = f"etl_bench_tpl_{uuid.uuid4().hex[:8]}"
        self.made: list[str] = []
        self._execute(f'CREATE DATABASE "{self.template}"')
        subprocess.run(
            [BIN / "pypgstac", "migrate", "--dsn", self.dsn(self.template)],
            check=True,
            capture_output=True,
        )

    def dsn(self, name: str) -> str:
        return self.admin_dsn.rsplit("/", 1)[0] + "/" + name

    def fresh(self) -> str:
        name = f"etl_bench_{uuid.uuid4().hex[:8]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.made.append(name)
        return self.dsn(name)

    def settle(self) -> None:
        """Drop the databases made so far (no autovacuum of them runs into the next timing) and
        write out dirty buffers, so that every timed load starts from the same quiet server."""
        for name in self.made:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.clear()
        self._execute("CHECKPOINT")

    def drop_all(self) -> None:
        self.settle()
        self._execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')

    def _execute(self, sql: str) -> None:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]


def count_items(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM pgstac.items").fetchone()
    return int(row[0]) if row else 0


def raw_load(dsn: str, ndjson: Path) -> float:
    """Seconds for ``pypgstac load items`` into an empty collection (the collection made first)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "SELECT pgstac.create_collection(%s::jsonb)", [json.dumps(make_collection(COLLECTION))]
        )
    started = time.perf_counter()
    subprocess.run(
        [BIN / "pypgstac", "load", "items", str(ndjson), "--dsn", dsn, "--method", "insert"],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def ours(dsn: str, dataset: Path, state: Path) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of ``etl dataset process-items --submit`` on the local runner."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETL_", "ARGO_"))}
    env |= {
        "ETL_PGSTAC_DSN": dsn,
        "ETL_STATE_DIR": str(state),
        "ETL_CONFIG_DIR": str(state / "config"),
        "CI": "true",
    }
    command = [sys.executable, "-c", RSS_WRAPPER, str(BIN / "etl"), "dataset", "process-items"]
    command += ["-d", str(dataset), "--submit"]
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"process-items failed:\n{result.stderr[-2000:]}")
    return seconds, int(result.stdout.strip().splitlines()[-1])


def _busy_share(seconds: float = 1.0) -> float:
    """How busy the machine's CPUs are (0..1), from ``/proc/stat`` over ``seconds``."""

    def ticks() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        return sum(values), values[3] + values[4]

    total, idle = ticks()
    time.sleep(seconds)
    total_after, idle_after = ticks()
    return 1 - (idle_after - idle) / max(1, total_after - total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--admin-dsn", default="postgresql://postgres@127.0.0.1:55432/postgres")
    parser.add_argument("--work", type=Path, default=ROOT / ".state" / "bench-ingest")
    args = parser.parse_args()
    busy = _busy_share()
    if busy > 0.2:
        print(
            f"warning: the CPUs were {busy:.0%} busy before the start; other processes (a "
            "spinning Azurite, tests) take CPU from both sides and make the ratio noisy",
            flush=True,
        )

    small = max(1, args.items // 5)
    databases = Databases(args.admin_dsn)
    try:
        with tempfile.TemporaryDirectory(
            dir=args.work.parent if args.work.parent.exists() else None
        ) as tmp:
            work = Path(tmp)
            datasets = {}
            for count in (small, args.items):
                make_assets(args.work / f"assets-{count}", count)
                datasets[count] = make_dataset(
                    work / f"dataset-{count}",
                    args.work / f"assets-{count}",
                    work / f"chunks-{count}",
                )
            ndjson = work / "items.ndjson"
            write_raw_items(
                ndjson, datasets[args.items], args.work / f"assets-{args.items}", args.items
            )

            rss: dict[int, int] = {}
            dsn = databases.fresh()
            _, rss[small] = ours(dsn, datasets[small], work / "state-small")
            raw_times: list[float] = []
            our_times: list[float] = []
            for round_ in range(args.rounds):
                databases.settle()
                dsn = databases.fresh()
                raw_times.append(raw_load(dsn, ndjson))
                assert count_items(dsn) == args.items
                databases.settle()
                dsn = databases.fresh()
                seconds, peak = ours(dsn, datasets[args.items], work / f"state-{round_}")
                assert count_items(dsn) == args.items, "ours did not load every item"
                our_times.append(seconds)
                rss[args.items] = max(rss.get(args.items, 0), peak)
                print(
                    f"round {round_ + 1}: raw {args.items / raw_times[-1]:,.0f} items/s ({raw_times[-1]:.1f} s), "
                    f"ours {args.items / seconds:,.0f} items/s ({seconds:.1f} s)",
                    flush=True,
                )
    finally:
        databases.drop_all()

    raw_rate = args.items / statistics.median(raw_times)
    our_rate = args.items / statistics.median(our_times)
    print(
        f"peak RSS of ours: {rss[small] / 1024:.0f} MiB at {small:,} items, {rss[args.items] / 1024:.0f} MiB at {args.items:,}"
    )
    print(
        f"ingest: ours {our_rate:,.0f} items/s, raw pypgstac {raw_rate:,.0f} items/s, ratio {our_rate / raw_rate:.2f}"
    )


if __name__ == "__main__":
    main()
