"""Benchmark: ``etl dataset plan`` against loading the same items with the raw ``pypgstac load``.

Creates its own database through the admin DSN, generates N sample sidecars on local disk, loads
them with ``etl dataset process-items --submit`` (local runner; this records ``etl.item_sources``),
then times ``etl dataset plan -o json`` (wall time of the command, start-up included) against an
unchanged source and against a source with 1% of the sidecars changed and 1% deleted, and checks
its counts. The reference is ``pypgstac load items`` of the run's own item ndjson into a fresh
collection (its start-up, timed as loading one item, subtracted). Prints each plan as a ratio to
that load. Drops the database at the end.

    uv run python benchmarks/plan.py --items 100000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from pgstac_samples import make_collection  # noqa: E402

from etl.pgstac import PgstacWriter  # noqa: E402

ETL = str(ROOT / ".venv/bin/etl")
PYPGSTAC = str(ROOT / ".venv/bin/pypgstac")
SAMPLE = ROOT / "datasets" / "sample-sidecars"


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - started, done.stdout


def _plan(root: Path, env: dict[str, str]) -> tuple[float, dict[str, object]]:
    command = [ETL, "dataset", "plan", "-d", str(SAMPLE), "-a", f"root={root}", "-o", "json"]
    seconds, out = _timed(command, env)
    collection: dict[str, object] = json.loads(out)["collections"][0]
    return seconds, collection


def _raw_load(root: Path, dsn: str, env: dict[str, str]) -> float:
    """Seconds ``pypgstac load items`` takes for the run's items, without its start-up."""
    with tempfile.TemporaryDirectory() as tmp:
        items = Path(tmp) / "items.ndjson"
        tiny = Path(tmp) / "tiny.ndjson"
        with items.open("wb") as out:
            for part in sorted((root / "runs").glob("*/items/*.ndjson")):
                out.write(part.read_bytes())
        text = items.read_text().replace('"sample-sidecars"', '"raw-copy"')
        items.write_text(text)
        tiny.write_text(text.split("\n", 1)[0].replace('"raw-copy"', '"raw-tiny"') + "\n")
        with PgstacWriter(dsn) as writer:
            writer.upsert_collection(make_collection("raw-copy"))
            writer.upsert_collection(make_collection("raw-tiny"))
        load = [PYPGSTAC, "load", "items", "--dsn", dsn, "--method", "upsert"]
        startup, _ = _timed([*load, str(tiny)], env)
        gross, _ = _timed([*load, str(items)], env)
    return gross - startup


def _change_source(assets: Path, share: float) -> tuple[int, int]:
    sidecars = sorted(assets.rglob("*.json"))
    step = round(1 / share)
    changed = sidecars[::step]
    removed = sidecars[step // 2 :: step]
    for path in changed:
        record = json.loads(path.read_text())
        record["cloud_cover"] = 99.25
        path.write_text(json.dumps(record))
    for path in removed:
        path.unlink()
    return len(changed), len(removed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--admin-dsn", default="postgresql://postgres@127.0.0.1:55432/postgres")
    args = parser.parse_args()

    database = f"etl_bench_{uuid.uuid4().hex[:8]}"
    dsn = args.admin_dsn.rsplit("/", 1)[0] + "/" + database
    with psycopg.connect(args.admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')  # type: ignore[arg-type]
    try:
        subprocess.run([PYPGSTAC, "migrate", "--dsn", dsn], check=True, capture_output=True)
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "root"
            state = Path(tmp) / "state"
            env = dict(os.environ, ETL_PGSTAC_DSN=dsn, CI="true", ETL_STATE_DIR=str(state))
            env["ETL_CONFIG_DIR"] = str(Path(tmp) / "config")
            generate = [sys.executable, str(SAMPLE / "generate.py"), "--count", str(args.items)]
            subprocess.run([*generate, str(root / "assets")], check=True, capture_output=True)
            run = [ETL, "dataset", "process-items", "-d", str(SAMPLE), "-a", f"root={root}"]
            loaded, _ = _timed([*run, "--submit"], env)
            print(f"process-items (local runner): {args.items} items in {loaded:.1f}s", flush=True)
            raw = _raw_load(root, dsn, env)
            print(f"raw pypgstac load: {args.items} items in {raw:.2f}s", flush=True)
            unchanged, plan = _plan(root, env)
            assert plan["unchanged"] == args.items, plan
            changed, removed = _change_source(root / "assets", 0.01)
            after, moved = _plan(root, env)
            assert (moved["changed"], moved["removed"]) == (changed, removed), moved
        print(f"plan, unchanged source: {unchanged:.2f}s, ratio to raw load {unchanged / raw:.2f}")
        print(
            f"plan, 1% changed ({changed}) and 1% removed ({removed}): {after:.2f}s, "
            f"ratio to raw load {after / raw:.2f}"
        )
    finally:
        with psycopg.connect(args.admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
