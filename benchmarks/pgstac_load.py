"""Benchmark: etl.pgstac's PgstacWriter against the raw ``pypgstac load items`` CLI.

Creates its own database through the admin DSN, migrates it, and in each round loads the same
synthetic items (one ndjson file per round) into a fresh collection twice: once with the CLI,
once with ``PgstacWriter.load_items`` reading the same kind of file. Method ``upsert`` for both.
The CLI's wall time includes its start-up (Python, imports, connecting, looking up the collection);
each round also times the CLI loading a single item, and the headline ``raw`` figure subtracts
that. Best of the rounds (the least disturbed by other work on the machine). The gross figure is
printed too. Drops the
database at the end.

    uv run python benchmarks/pgstac_load.py --items 20000 [--rounds 5] [--batch-size 10000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from pgstac_samples import make_collection, make_items  # noqa: E402

from etl.pgstac import PgstacWriter  # noqa: E402

PYPGSTAC = str(ROOT / ".venv/bin/pypgstac")


def _write_ndjson(path: Path, collection_id: str, count: int) -> None:
    with path.open("wb") as out:
        for item in make_items(collection_id, 0, count, months=3):
            out.write(orjson.dumps(item) + b"\n")


def _cli_load(path: Path, dsn: str, batch_size: int) -> float:
    """Seconds the ``pypgstac load items`` CLI takes for one ndjson file, start-up included."""
    command = [PYPGSTAC, "load", "items", str(path), "--dsn", dsn]
    command += ["--method", "upsert", "--chunksize", str(batch_size)]
    return _timed(lambda: subprocess.run(command, check=True))


def _timed(action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=10000)
    parser.add_argument("--admin-dsn", default="postgresql://postgres@127.0.0.1:55432/postgres")
    args = parser.parse_args()

    database = f"etl_bench_{uuid.uuid4().hex[:8]}"
    dsn = args.admin_dsn.rsplit("/", 1)[0] + "/" + database
    with psycopg.connect(args.admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')  # type: ignore[arg-type]
    try:
        subprocess.run([PYPGSTAC, "migrate", "--dsn", dsn], check=True, capture_output=True)
        ours: list[float] = []
        raw: list[float] = []
        startup: list[float] = []
        with PgstacWriter(dsn) as writer, tempfile.TemporaryDirectory() as tmp:
            for round_ in range(args.rounds):
                for name, times in (("raw", raw), ("ours", ours)):
                    collection_id = f"{name}-{round_}"
                    writer.upsert_collection(make_collection(collection_id))
                    path = Path(tmp) / f"{collection_id}.ndjson"
                    _write_ndjson(path, collection_id, args.items)
                    if name == "raw":
                        tiny_id = f"tiny-{round_}"
                        writer.upsert_collection(make_collection(tiny_id))
                        tiny = Path(tmp) / f"{tiny_id}.ndjson"
                        _write_ndjson(tiny, tiny_id, 1)
                        startup.append(_cli_load(tiny, dsn, args.batch_size))
                        times.append(_cli_load(path, dsn, args.batch_size))
                    else:
                        times.append(
                            writer.load_items(
                                path, collection_id, method="upsert", batch_size=args.batch_size
                            ).seconds
                        )
                    assert writer.count_items(collection_id) == args.items, collection_id
                print(
                    f"round {round_ + 1}: ours {ours[-1]:.2f}s, raw CLI {raw[-1]:.2f}s"
                    f" (1 item: {startup[-1]:.2f}s)",
                    flush=True,
                )
        ours_rate = args.items / min(ours)
        raw_gross = args.items / min(raw)
        raw_net = min(raw) - min(startup)
        if raw_net <= 0:
            sys.exit("the raw CLI's start-up outweighed its load; use more --items or --rounds")
        raw_rate = args.items / raw_net
        print(f"raw CLI with its start-up: {raw_gross:,.0f} items/s")
        print(
            f"pgstac_load: ours {ours_rate:,.0f} items/s, raw {raw_rate:,.0f} items/s, "
            f"ratio {ours_rate / raw_rate:.2f}"
        )
    finally:
        with psycopg.connect(args.admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
