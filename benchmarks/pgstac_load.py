"""Benchmark: etl.pgstac's PgstacWriter against the raw ``pypgstac load items`` CLI.

Creates its own database through the admin DSN, migrates it, and in each round loads the same
synthetic items (one ndjson file per round) into a fresh collection twice: once with the CLI,
once with ``PgstacWriter.load_items`` reading the same kind of file. Method ``upsert`` for both.
The CLI's wall time includes its start-up (Python, imports, connecting, looking up the collection);
each round also times the CLI loading a single item, and the headline ``raw`` figure subtracts
that. Best of the rounds (the least disturbed by other work on the machine). The gross figure is
printed too. Drops the database at the end.

    uv run python benchmarks/pgstac_load.py --items 20000 [--rounds 5] [--batch-size 10000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from raw_pgstac import ADMIN_DSN, make_collection, raw_load, scratch_pgstac, write_ndjson

from etl.pgstac.writer import PgstacWriter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=10000)
    parser.add_argument("--admin-dsn", default=ADMIN_DSN)
    args = parser.parse_args()

    ours: list[float] = []
    raw: list[float] = []
    startup: list[float] = []
    with (
        scratch_pgstac(args.admin_dsn) as dsn,
        PgstacWriter(dsn) as writer,
        tempfile.TemporaryDirectory() as tmp,
    ):
        for round_ in range(args.rounds):
            for name, times in (("raw", raw), ("ours", ours)):
                collection_id = f"{name}-{round_}"
                writer.upsert_collection(make_collection(collection_id))
                path = Path(tmp) / f"{collection_id}.ndjson"
                write_ndjson(path, collection_id, args.items)
                if name == "raw":
                    tiny_id = f"tiny-{round_}"
                    writer.upsert_collection(make_collection(tiny_id))
                    tiny = Path(tmp) / f"{tiny_id}.ndjson"
                    write_ndjson(tiny, tiny_id, 1)
                    startup.append(raw_load(tiny, dsn, args.batch_size))
                    times.append(raw_load(path, dsn, args.batch_size))
                else:
                    load = writer.load_items(
                        path, collection_id, method="upsert", batch_size=args.batch_size
                    )
                    times.append(load.seconds)
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


if __name__ == "__main__":
    main()
