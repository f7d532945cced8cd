"""What the PgSTAC benchmarks share: a scratch database and the raw ``pypgstac load`` they compare to.

Imported by ``benchmarks/pgstac_load.py`` and ``benchmarks/catalog.py`` (run from the repository
root: ``uv run python benchmarks/NAME.py``).
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))

from pgstac_samples import make_collection, make_items  # noqa: E402

__all__ = [
    "ADMIN_DSN",
    "PYPGSTAC",
    "ROOT",
    "make_collection",
    "raw_load",
    "scratch_pgstac",
    "timed",
    "write_ndjson",
]

PYPGSTAC = str(ROOT / ".venv/bin/pypgstac")
ADMIN_DSN = "postgresql://postgres@127.0.0.1:55432/postgres"
"""The local services' admin DSN (``scripts/services start``)."""


@contextmanager
def scratch_pgstac(admin_dsn: str) -> Iterator[str]:
    """The DSN of a new database migrated with ``pypgstac migrate``, dropped at the end."""
    database = f"etl_bench_{uuid.uuid4().hex[:8]}"
    dsn = admin_dsn.rsplit("/", 1)[0] + "/" + database
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')  # type: ignore[arg-type]
    try:
        subprocess.run([PYPGSTAC, "migrate", "--dsn", dsn], check=True, capture_output=True)
        yield dsn
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')  # type: ignore[arg-type]


def write_ndjson(
    path: Path,
    collection_id: str,
    count: int,
    shape: Callable[[dict[str, Any]], dict[str, Any]] = lambda item: item,
) -> None:
    """``count`` synthetic items of ``collection_id`` (three months of them) as ndjson."""
    with path.open("wb") as out:
        for item in make_items(collection_id, 0, count, months=3):
            out.write(orjson.dumps(shape(item)) + b"\n")


def timed(action: Callable[[], Any]) -> float:
    """Seconds ``action`` takes."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def raw_load(path: Path, dsn: str, batch_size: int | None = None) -> float:
    """Seconds the ``pypgstac load items`` CLI takes for one ndjson file (upsert), start-up included."""
    command = [PYPGSTAC, "load", "items", str(path), "--dsn", dsn, "--method", "upsert"]
    if batch_size is not None:
        command += ["--chunksize", str(batch_size)]
    return timed(lambda: subprocess.run(command, check=True, capture_output=True))
