"""Benchmark: the cost of keeping a catalog current, as ratios to loading the same items.

Section ``extent``: loads N synthetic items (three months, monthly partitions) with the raw
``pypgstac load items`` CLI (start-up subtracted, as in ``pgstac_load.py``), then times
``etl.pgstac.extents.update_collection_extent`` (pgstac's ``collection_extent(id, true)``: every
partition's statistics recomputed) on that collection; prints the extent's time over the load's.

Section ``sources``: loads the same items with ``PgstacWriter.load_items`` into two fresh
collections, without and with ``etl.item_sources`` rows (content hashes included); prints the
ratio of the two loads.

Section ``reads``: loads N synthetic items with the raw ``pypgstac load items`` CLI, records an
``etl.item_sources`` row for each and as many rows of items no longer in PgSTAC (a collection
deleted by hand and loaded again), then times the reads that keep only rows whose items exist:
``item_sources_of`` (all rows, as ``etl dataset plan`` and removals read them) and
``count_item_sources`` (``etl dataset status``), right after the load (pgstac's new partitions
not analyzed yet, unless autovacuum came first) and analyzed; prints each over the load (start-up
subtracted).

Section ``validation``: the cost of full STAC validation (``etl.task.stac_validation``: the core
item schema with one reused validator, schemas from the local cache) of the same N items, as
pystac writes them (STAC 1.1.0, a collection link), in full and sampled at 1%, over the raw
``pypgstac load items`` of those items (start-up subtracted); one thread, as each of a pod's
``create_item`` threads validates its own items.

Section ``plan``: generates N sample sidecars on local disk, loads them with ``etl dataset
process-items --submit`` (the local runner; this records ``etl.item_sources``), then times ``etl
dataset plan -o json`` and ``--deep`` (the command's wall time, start-up included; and its CPU
time) on the unchanged source and on the source with 1% of the sidecars changed and 1% deleted,
checking their counts. Each round is an interleaved triple: the raw ``pypgstac load items`` of the
run's own items into a fresh collection (start-up subtracted), the plan, ``--deep``; prints every
round's ratios with the load average, then the median and best ratio of the rounds.

The other sections: best of the rounds. Creates its own database through the admin DSN and
drops it at the end.

    uv run python benchmarks/catalog.py --items 100000 [--rounds 3] \
        [--section extent|sources|reads|plan|validation|all]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from raw_pgstac import (
    ADMIN_DSN,
    ROOT,
    make_collection,
    raw_load,
    scratch_pgstac,
    timed,
    write_ndjson,
)

from etl.pgstac.extents import update_collection_extent
from etl.pgstac.item_sources import (
    ItemSource,
    content_hash,
    count_item_sources,
    ensure_item_sources,
    item_sources_of,
    record_item_sources,
)
from etl.pgstac.policy import LoadConcurrency
from etl.pgstac.session import connect_pgstac
from etl.pgstac.writer import PgstacWriter
from etl.task.stac_validation import ItemValidation

ETL = str(ROOT / ".venv/bin/etl")
SAMPLE = ROOT / "datasets" / "sample-sidecars"


def _as_pystac_writes(item: dict[str, Any]) -> dict[str, Any]:
    link = {"rel": "collection", "href": "../collection.json", "type": "application/json"}
    return {**item, "stac_version": "1.1.0", "links": [link]}


def extent_round(
    writer: PgstacWriter, dsn: str, tmp: Path, name: str, count: int
) -> tuple[float, float]:
    """(raw load seconds net of the CLI's start-up, extent seconds) for one collection."""
    writer.upsert_collection(make_collection(name), partition_trunc="month")
    writer.upsert_collection(make_collection(f"{name}-tiny"))
    path, tiny = tmp / f"{name}.ndjson", tmp / f"{name}-tiny.ndjson"
    write_ndjson(path, name, count)
    write_ndjson(tiny, f"{name}-tiny", 1)
    load = raw_load(path, dsn) - raw_load(tiny, dsn)
    assert writer.count_items(name) == count
    with connect_pgstac(dsn) as conn:
        extent = timed(
            lambda: update_collection_extent(
                conn, name, keep_template=False, concurrency=LoadConcurrency()
            )
        )
    return load, extent


def sources_round(writer: PgstacWriter, tmp: Path, name: str, count: int) -> tuple[float, float]:
    """(load seconds without item sources, with them)."""
    seconds = []
    for suffix, with_sources in (("plain", False), ("sources", True)):
        collection_id = f"{name}-{suffix}"
        writer.upsert_collection(make_collection(collection_id), partition_trunc="month")
        path = tmp / f"{collection_id}.ndjson"
        write_ndjson(path, collection_id, count)

        def rows(items: list[dict[str, Any]], cid: str = collection_id) -> list[ItemSource]:
            return [
                ItemSource(cid, i["id"], f"blob://a/{i['id']}", content_hash(i), "r") for i in items
            ]

        result = writer.load_items(path, collection_id, sources=rows if with_sources else None)
        seconds.append(result.seconds)
    return seconds[0], seconds[1]


def reads_round(
    writer: PgstacWriter, dsn: str, tmp: Path, name: str, count: int
) -> tuple[float, float, float, float, float]:
    """(raw load seconds net of the CLI's start-up, then ``item_sources_of`` and
    ``count_item_sources`` seconds right after the load, then both analyzed)."""
    writer.upsert_collection(make_collection(name), partition_trunc="month")
    writer.upsert_collection(make_collection(f"{name}-tiny"))
    path, tiny = tmp / f"{name}.ndjson", tmp / f"{name}-tiny.ndjson"
    write_ndjson(path, name, count)
    write_ndjson(tiny, f"{name}-tiny", 1)
    load = raw_load(path, dsn) - raw_load(tiny, dsn)
    ids = [orjson.loads(line)["id"] for line in path.read_bytes().splitlines()]
    stale = [f"{name}-gone-{n}" for n in range(count)]
    with connect_pgstac(dsn) as conn:
        record_item_sources(
            conn, [ItemSource(name, i, f"file:///a/{i}.json", "0" * 64, "r") for i in ids + stale]
        )
        conn.execute("ANALYZE etl.item_sources")
        timings = []
        for analyze in (False, True):
            if analyze:
                conn.execute("ANALYZE items")
            rows = timed(lambda: assert_count(len(list(item_sources_of(conn, name))), count))
            counted = timed(lambda: assert_count(count_item_sources(conn, name), count))
            timings += [rows, counted]
    return load, timings[0], timings[1], timings[2], timings[3]


def assert_count(found: int, expected: int) -> None:
    assert found == expected, (found, expected)


def validation_round(
    writer: PgstacWriter, dsn: str, tmp: Path, name: str, count: int
) -> tuple[float, float, float]:
    """(raw load seconds net of the CLI's start-up, full validation seconds, sampled at 1%)."""
    writer.upsert_collection(make_collection(name), partition_trunc="month")
    writer.upsert_collection(make_collection(f"{name}-tiny"))
    path, tiny = tmp / f"{name}.ndjson", tmp / f"{name}-tiny.ndjson"
    write_ndjson(path, name, count, _as_pystac_writes)
    write_ndjson(tiny, f"{name}-tiny", 1, _as_pystac_writes)
    load = raw_load(path, dsn) - raw_load(tiny, dsn)
    assert writer.count_items(name) == count
    items = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    timings = []
    for rate in (1.0, 0.01):
        validation = ItemValidation(rate)
        validation.check(items[0], items[0]["id"])  # schemas loaded, validator compiled
        timings.append(timed(lambda v=validation: [v.check(i, i["id"]) for i in items]))
    return load, timings[0], timings[1]


def _plan(root: Path, env: dict[str, str], *extra: str) -> tuple[float, float, dict[str, Any]]:
    """Wall and CPU seconds (user + system) of ``etl dataset plan -o json`` on the sample
    sidecars, and its one collection."""
    command = [ETL, "dataset", "plan", "-d", str(SAMPLE), "-a", f"root={root}", "-o", "json"]
    command += extra
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    collection: dict[str, Any] = json.loads(done.stdout)["collections"][0]
    return seconds, _children_cpu() - cpu, collection


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _change_source(assets: Path, share: float) -> tuple[int, int]:
    """Change ``share`` of the sidecars and delete as many others: (changed, removed)."""
    sidecars = sorted(assets.rglob("*.json"))
    step = round(1 / share)
    changed, removed = sidecars[::step], sidecars[step // 2 :: step]
    for path in changed:
        path.write_text(json.dumps({**json.loads(path.read_text()), "cloud_cover": 99.25}))
    for path in removed:
        path.unlink()
    return len(changed), len(removed)


class RawCopies:
    """Raw ``pypgstac load items`` of a run's own items, each into a fresh collection, start-up
    subtracted (a one-item load timed beside it)."""

    def __init__(self, writer: PgstacWriter, dsn: str, tmp: Path, text: str) -> None:
        self.writer, self.dsn, self.tmp, self.text, self.loads = writer, dsn, tmp, text, 0

    def seconds(self) -> float:
        self.loads += 1
        name, tiny = f"raw-copy-{self.loads}", f"raw-tiny-{self.loads}"
        items, one = self.tmp / f"{name}.ndjson", self.tmp / f"{tiny}.ndjson"
        items.write_text(self.text.replace('"sample-sidecars"', f'"{name}"'))
        one.write_text(self.text.split("\n", 1)[0].replace('"sample-sidecars"', f'"{tiny}"') + "\n")
        self.writer.upsert_collection(make_collection(name))
        self.writer.upsert_collection(make_collection(tiny))
        return raw_load(items, self.dsn) - raw_load(one, self.dsn)


def _rounds(
    root: Path, env: dict[str, str], raw: RawCopies, rounds: int, expected: tuple[int, int, int]
) -> list[dict[str, float]]:
    """Interleaved rounds: a raw load, the fast plan, ``--deep``; checks (unchanged, changed,
    removed); each round's seconds, CPU seconds of the plans and load average."""
    measured = []
    for _ in range(rounds):
        load = raw.seconds()
        fast, fast_cpu, fast_plan = _plan(root, env)
        deep, deep_cpu, deep_plan = _plan(root, env, "--deep")
        for planned in (fast_plan, deep_plan):
            found = (planned["unchanged"], planned["changed"], planned["removed"])
            assert found == expected, (found, expected)
        measured.append(
            {"load": load, "fast": fast, "fast_cpu": fast_cpu, "deep": deep,
             "deep_cpu": deep_cpu, "loadavg": os.getloadavg()[0]}
        )  # fmt: skip
    return measured


def plan_rounds(
    writer: PgstacWriter, dsn: str, tmp: Path, count: int, rounds: int
) -> tuple[list[dict[str, float]], list[dict[str, float]], int, int]:
    """Interleaved rounds (see :func:`_rounds`) on the unchanged source, then on the source with
    1% changed and 1% removed; and how many were changed and removed."""
    root = tmp / "plan"
    env = dict(os.environ, ETL_PGSTAC_DSN=dsn, CI="true", ETL_STATE_DIR=str(tmp / "state"))
    env["ETL_CONFIG_DIR"] = str(tmp / "config")
    generate = [sys.executable, str(SAMPLE / "generate.py"), "--count", str(count)]
    subprocess.run([*generate, str(root / "assets")], check=True, capture_output=True)
    run = [ETL, "dataset", "process-items", "-d", str(SAMPLE), "-a", f"root={root}", "--submit"]
    subprocess.run(run, env=env, check=True, capture_output=True)
    text = "".join(p.read_text() for p in sorted((root / "runs").glob("*/items/*.ndjson")))
    raw = RawCopies(writer, dsn, tmp, text)
    same = _rounds(root, env, raw, rounds, (count, 0, 0))
    changed, removed = _change_source(root / "assets", 0.01)
    moved = _rounds(root, env, raw, rounds, (count - changed - removed, changed, removed))
    return same, moved, changed, removed


def _print_plan_rounds(source: str, count: int, measured: list[dict[str, float]]) -> None:
    for n, m in enumerate(measured, 1):
        print(
            f"catalog plan, {source}, round {n} (load average {m['loadavg']:.1f}): raw pypgstac "
            f"load of {count:,} items {m['load']:.2f}s; plan {m['fast']:.2f}s (ratio "
            f"{m['fast'] / m['load']:.2f}, CPU {m['fast_cpu']:.2f}s), --deep {m['deep']:.2f}s "
            f"(ratio {m['deep'] / m['load']:.2f}, CPU {m['deep_cpu']:.2f}s)",
            flush=True,
        )
    for kind in ("fast", "deep"):
        ratios = [m[kind] / m["load"] for m in measured]
        print(
            f"catalog plan ({'fast' if kind == 'fast' else '--deep'}), {source}: {count:,} items, "
            f"ratio to the raw load: median {statistics.median(ratios):.2f}, best "
            f"{min(ratios):.2f} of {len(ratios)} interleaved pairs",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--section",
        choices=["extent", "sources", "reads", "plan", "validation", "all"],
        default="all",
    )
    parser.add_argument("--admin-dsn", default=ADMIN_DSN)
    args = parser.parse_args()

    with scratch_pgstac(args.admin_dsn) as dsn:
        with connect_pgstac(dsn) as conn:
            ensure_item_sources(conn)
        with PgstacWriter(dsn) as writer, tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            if args.section in ("extent", "all"):
                runs = [
                    extent_round(writer, dsn, tmp, f"e{r}", args.items) for r in range(args.rounds)
                ]
                load, extent = min(r[0] for r in runs), min(r[1] for r in runs)
                print(
                    f"catalog extent: {args.items:,} items, extent {extent:.2f}s, raw pypgstac load "
                    f"{load:.2f}s, ratio {extent / load:.3f}",
                    flush=True,
                )
            if args.section in ("sources", "all"):
                runs = [sources_round(writer, tmp, f"s{r}", args.items) for r in range(args.rounds)]
                plain, tracked = min(r[0] for r in runs), min(r[1] for r in runs)
                print(
                    f"catalog sources: {args.items:,} items, load {plain:.2f}s, with item_sources "
                    f"{tracked:.2f}s, ratio {tracked / plain:.2f}",
                    flush=True,
                )
            if args.section in ("reads", "all"):
                read = [
                    reads_round(writer, dsn, tmp, f"r{r}", args.items) for r in range(args.rounds)
                ]
                load, *best = (min(r[i] for r in read) for i in range(5))
                print(
                    f"catalog reads: {args.items:,} items with a row each and {args.items:,} rows "
                    f"of items gone, raw pypgstac load {load:.2f}s; right after the load: "
                    f"item_sources_of {best[0]:.2f}s (ratio {best[0] / load:.3f}), "
                    f"count_item_sources {best[1]:.2f}s (ratio {best[1] / load:.3f}); analyzed: "
                    f"item_sources_of {best[2]:.2f}s (ratio {best[2] / load:.3f}), "
                    f"count_item_sources {best[3]:.2f}s (ratio {best[3] / load:.3f})",
                    flush=True,
                )
            if args.section in ("validation", "all"):
                checked = [
                    validation_round(writer, dsn, tmp, f"v{r}", args.items)
                    for r in range(args.rounds)
                ]
                load = min(r[0] for r in checked)
                full, sample = min(r[1] for r in checked), min(r[2] for r in checked)
                print(
                    f"catalog validation: {args.items:,} items, raw pypgstac load {load:.2f}s, "
                    f"full {full:.2f}s (ratio {full / load:.2f}), sample 1% {sample:.2f}s "
                    f"(ratio {sample / load:.3f})",
                    flush=True,
                )
            if args.section in ("plan", "all"):
                same, moved, changed, removed = plan_rounds(
                    writer, dsn, tmp, args.items, args.rounds
                )
                _print_plan_rounds("unchanged source", args.items, same)
                _print_plan_rounds(f"{changed} changed and {removed} removed", args.items, moved)


if __name__ == "__main__":
    main()
