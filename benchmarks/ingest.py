"""Benchmark: the whole local ``process-items`` against raw ``pypgstac load`` and against the
pipeline a user would write by hand instead of etl, same items.

Two datasets (``--dataset``):

- ``trivial``: N empty asset files and a ``create_item`` that reads nothing (a ``pystac.Item``
  built from the asset's name);
- ``sidecars``: the sample dataset (``datasets/sample-sidecars``): N JSON scene sidecars (and
  their data files, from its ``generate.py``), a ``create_item`` that reads and parses each
  sidecar and builds a polygon item.

Every round loads the same N items three times, each time into a fresh migrated database:

- raw: ``pypgstac load items --method insert`` from a prepared ndjson file (the items only);
- hand: the hand-written pipeline (:data:`HAND_WRITTEN`, a 20-line script): list the asset files,
  call the same ``create_item`` on each in one process, write ndjson, ``pypgstac load items``;
- ours: ``etl dataset process-items --submit`` on the local runner: list the assets, cut
  chunks, make the items in the pods, write ndjson beside the chunks, load into PgSTAC (and
  record ``etl.item_sources``).

The raw side's ndjson holds the very items that ``create_item`` makes. raw and hand get their
collection created before the clock starts; ours creates its own.

All are timed as whole commands, start-up included; ratios are of medians (ours' throughput over
the other's). Peak RSS of ours (the runner and its task processes) is measured at N/5 and at N:
it must not grow with the item count (both sizes give every pod several full load batches, the
largest thing a pod holds).

    uv run python benchmarks/ingest.py --items 100000 [--rounds 3] [--dataset trivial|sidecars]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import orjson
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))

from pgstac_samples import make_collection  # noqa: E402

BIN = ROOT / ".venv" / "bin"
SAMPLE = ROOT / "datasets" / "sample-sidecars"
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
HAND_WRITTEN = """
import os, subprocess, sys
from importlib import import_module
from pathlib import Path

import orjson
from etl.core.storage import open_storage

code, spec, assets, out, dsn, pypgstac = sys.argv[1:]
sys.path.insert(0, code)
module, name = spec.split(":")
make = getattr(import_module(module), name).create_item
storage = open_storage(Path(assets).as_uri())
with open(out, "wb") as items:
    for folder, _, files in os.walk(assets):
        for file in sorted(f for f in files if f.endswith(".json")):
            item = make(Path(folder, file).as_uri(), storage)
            data = item.to_dict(include_self_link=False, transform_hrefs=False)
            items.write(orjson.dumps(data) + b"\\n")
load = [pypgstac, "load", "items", out, "--dsn", dsn, "--method", "insert"]
subprocess.run(load, check=True, capture_output=True)
"""
"""The pipeline a user would write by hand instead of etl: one process, then ``pypgstac load``."""

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


@dataclass(frozen=True)
class Case:
    """One dataset of N items, as etl and the hand-written pipeline see it."""

    dataset: Path
    """The folder of its dataset.yaml."""
    args: tuple[str, ...]
    """Its ``-a KEY=VALUE`` arguments for etl."""
    assets: Path
    code: Path
    """The folder its collection class is imported from."""
    spec: str
    """Its collection class, ``module:Class``."""
    collection: str
    runs: Path | None = None
    """Where ours writes chunks and items inside the asset root (emptied after each run)."""


def trivial_case(work: Path, tmp: Path, count: int) -> Case:
    """``count`` empty asset files and the trivial ``create_item``."""
    assets = work / f"assets-{count}"
    make_assets(assets, count)
    folder = make_dataset(tmp / f"dataset-{count}", assets, tmp / f"chunks-{count}")
    return Case(folder, (), assets, folder, "bench_items:BenchItems", COLLECTION)


def sidecar_case(work: Path, count: int) -> Case:
    """``count`` sample sidecars (written once, reused) and the sample dataset."""
    root = work / f"sidecars-{count}"
    done = root / "generated"
    if not done.exists():
        generate = [sys.executable, str(SAMPLE / "generate.py"), "--count", str(count)]
        subprocess.run([*generate, str(root / "assets")], check=True, capture_output=True)
        done.touch()
    spec = "sample_sidecars.collection:SampleSidecarsCollection"
    args = ("-a", f"root={root}")
    return Case(SAMPLE, args, root / "assets", SAMPLE, spec, "sample-sidecars", root / "runs")


def write_raw_items(path: Path, case: Case) -> None:
    """The raw side's ndjson: the very items the dataset's ``create_item`` makes."""
    from importlib import import_module

    from etl.core.storage.opening import open_storage

    sys.path.insert(0, str(case.code))
    module, name = case.spec.split(":")
    make = getattr(import_module(module), name).create_item
    storage = open_storage(case.assets.as_uri())
    with path.open("wb") as out:
        for folder, _, files in os.walk(case.assets):
            for file in sorted(f for f in files if f.endswith(".json")):
                item = make(Path(folder, file).as_uri(), storage)
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


def _create_collection(dsn: str, collection: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "SELECT pgstac.create_collection(%s::jsonb)", [json.dumps(make_collection(collection))]
        )


def raw_load(dsn: str, ndjson: Path, collection: str) -> float:
    """Seconds for ``pypgstac load items`` into an empty collection (the collection made first)."""
    _create_collection(dsn, collection)
    started = time.perf_counter()
    subprocess.run(
        [BIN / "pypgstac", "load", "items", str(ndjson), "--dsn", dsn, "--method", "insert"],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def hand_written(dsn: str, case: Case, script: Path, out: Path) -> float:
    """Seconds of the hand-written pipeline (the collection made first)."""
    _create_collection(dsn, case.collection)
    command = [sys.executable, str(script), str(case.code), case.spec, str(case.assets)]
    command += [str(out), dsn, str(BIN / "pypgstac")]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def ours(
    dsn: str, case: Case, state: Path, extra_env: dict[str, str] | None = None
) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of ``etl dataset process-items --submit`` on the local runner
    (``extra_env``: more variables, e.g. secrets)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETL_", "ARGO_"))}
    env |= {
        "ETL_PGSTAC_DSN": dsn,
        "ETL_STATE_DIR": str(state),
        "ETL_CONFIG_DIR": str(state / "config"),
        "CI": "true",
        **(extra_env or {}),
    }
    command = [sys.executable, "-c", RSS_WRAPPER, str(BIN / "etl"), "dataset", "process-items"]
    command += ["-d", str(case.dataset), *case.args, "--submit"]
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"process-items failed:\n{result.stderr[-2000:]}")
    if case.runs is not None:
        shutil.rmtree(case.runs, ignore_errors=True)
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
    parser.add_argument("--dataset", choices=["trivial", "sidecars"], default="trivial")
    parser.add_argument("--admin-dsn", default="postgresql://postgres@127.0.0.1:55432/postgres")
    parser.add_argument("--work", type=Path, default=ROOT / ".state" / "bench-ingest")
    args = parser.parse_args()
    busy = _busy_share()
    if busy > 0.2:
        print(
            f"warning: the CPUs were {busy:.0%} busy before the start; other processes (a "
            "spinning Azurite, tests) take CPU from all sides and make the ratios noisy",
            flush=True,
        )

    small = max(1, args.items // 5)
    databases = Databases(args.admin_dsn)
    times: dict[str, list[float]] = {"raw": [], "hand": [], "ours": []}
    rss: dict[int, int] = {}
    try:
        with tempfile.TemporaryDirectory(
            dir=args.work.parent if args.work.parent.exists() else None
        ) as tmp:
            work = Path(tmp)
            cases = {
                count: trivial_case(args.work, work, count)
                if args.dataset == "trivial"
                else sidecar_case(args.work, count)
                for count in (small, args.items)
            }
            case = cases[args.items]
            ndjson = work / "items.ndjson"
            write_raw_items(ndjson, case)
            script = work / "hand_written.py"
            script.write_text(HAND_WRITTEN)

            dsn = databases.fresh()
            _, rss[small] = ours(dsn, cases[small], work / "state-small")
            for round_ in range(args.rounds):
                databases.settle()
                dsn = databases.fresh()
                times["raw"].append(raw_load(dsn, ndjson, case.collection))
                assert count_items(dsn) == args.items
                databases.settle()
                dsn = databases.fresh()
                times["hand"].append(hand_written(dsn, case, script, work / "hand.ndjson"))
                assert count_items(dsn) == args.items
                databases.settle()
                dsn = databases.fresh()
                seconds, peak = ours(dsn, case, work / f"state-{round_}")
                assert count_items(dsn) == args.items, "ours did not load every item"
                times["ours"].append(seconds)
                rss[args.items] = max(rss.get(args.items, 0), peak)
                print(
                    f"round {round_ + 1}: "
                    + ", ".join(
                        f"{side} {args.items / spent[-1]:,.0f} items/s ({spent[-1]:.1f} s)"
                        for side, spent in times.items()
                    )
                    + f", load average {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
    finally:
        databases.drop_all()

    rate = {side: args.items / statistics.median(spent) for side, spent in times.items()}
    print(
        f"peak RSS of ours: {rss[small] / 1024:.0f} MiB at {small:,} items, "
        f"{rss[args.items] / 1024:.0f} MiB at {args.items:,}"
    )
    print(
        f"ingest ({args.dataset}): ours {rate['ours']:,.0f} items/s, raw pypgstac "
        f"{rate['raw']:,.0f} items/s, hand-written {rate['hand']:,.0f} items/s; ratio to raw "
        f"{rate['ours'] / rate['raw']:.2f}, to hand-written {rate['ours'] / rate['hand']:.2f}"
    )


if __name__ == "__main__":
    main()
