"""Benchmark: create-chunks against the raw Azure SDK listing of the same blobs on Azurite.

Seeds a dedicated container with ``--blobs`` tiny blobs over ~1,000 prefixes once (a marker blob
records that seeding finished; later runs reuse it, and the container is never deleted: deleting
~100k blobs stalls Azurite). Then, in several rounds, times:

(a) the raw SDK listing of the container, writing nothing: ``ContainerClient.list_blobs`` (with
    properties) and ``list_blob_names`` (names only);
(b) our ``create_chunk_set`` over the same listing into a chunk container, without ``since``
    (names only) and with ``since`` (which needs properties).

Prints medians, then the peak RSS of create-chunks (in a fresh process) at 10,000 and at all
``--blobs`` blobs, and on its last line ``chunking: ours N blobs/s, raw SDK M blobs/s, ratio R``
where M is the raw call giving the same information: names only, as create-chunks needs without
``since``.

    uv run python benchmarks/chunking.py --blobs 100000 [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import ContainerClient

from etl.core.profiles.model import AZURITE_BLOB_ENDPOINT, AZURITE_KEY, Profile
from etl.core.storage import open_storage
from etl.dataset.chunking import AssetFilter, ChunkSource, create_chunk_set
from etl.dataset.layout import RunLayout

CONNECTION = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    f"AccountKey={AZURITE_KEY};BlobEndpoint={AZURITE_BLOB_ENDPOINT};"
)
PREFIXES = 1000
MARKER = "zz-seeded.marker"
CHUNKS_CONTAINER = "etl-bench-chunks"

_RSS_PROGRAM = """
import resource, sys
from etl.core.profiles.model import Profile
from etl.core.storage import open_storage
from etl.dataset.chunking import ChunkSource, create_chunk_set
from etl.dataset.layout import RunLayout
profile = Profile.builtin_local()
manifest = create_chunk_set(
    [ChunkSource(open_storage(sys.argv[1], profile=profile))],
    open_storage(sys.argv[2], profile=profile), RunLayout(sys.argv[3]), collection="bench",
    limit=int(sys.argv[4]),
)
print(manifest.asset_count)
"""


def _container(name: str) -> ContainerClient:
    client = ContainerClient.from_connection_string(CONNECTION, name)
    with contextlib.suppress(ResourceExistsError):
        client.create_container()
    return client


def seed(blobs: int) -> str:
    """The name of a container holding ``blobs`` tiny blobs over ~1,000 prefixes (seeded once)."""
    name = f"etl-bench-chunking-{blobs}"
    client = _container(name)
    if client.get_blob_client(MARKER).exists():
        return name
    prefixes = min(PREFIXES, blobs)
    names = [f"p{i % prefixes:04d}/blob-{i:08d}.bin" for i in range(blobs)]
    started = time.perf_counter()
    with ThreadPoolExecutor(64) as pool:
        for done, _ in enumerate(
            pool.map(lambda n: client.upload_blob(n, b"x", overwrite=True), names)
        ):
            if done % 10000 == 0:
                print(f"seeding {name}: {done}/{blobs}", file=sys.stderr, flush=True)
    client.upload_blob(MARKER, b"", overwrite=True)
    print(f"seeded {blobs} blobs in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    return name


def _timed(action: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    count = action()
    return time.perf_counter() - started, count


def _peak_rss_mb(source_uri: str, chunks_uri: str, run_id: str, limit: int) -> float:
    """Peak RSS (MB) of a fresh process running create-chunks over ``limit`` blobs."""
    process = subprocess.Popen(
        [sys.executable, "-c", _RSS_PROGRAM, source_uri, chunks_uri, run_id, str(limit)],
        stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"create-chunks for the RSS measurement failed (status {status})")
    return usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blobs", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    container = seed(args.blobs)
    raw = ContainerClient.from_connection_string(CONNECTION, container)
    _container(CHUNKS_CONTAINER)
    profile = Profile.builtin_local()
    source_uri = f"blob://devstoreaccount1/{container}"
    chunks_uri = f"blob://devstoreaccount1/{CHUNKS_CONTAINER}/{container}"
    assets = open_storage(source_uri, profile=profile)
    chunks = open_storage(chunks_uri, profile=profile)
    everything = datetime(1970, 1, 1, tzinfo=UTC)

    def ours(asset_filter: AssetFilter, run_id: str) -> Callable[[], int]:
        def run() -> int:
            manifest = create_chunk_set(
                [ChunkSource(assets, asset_filter)], chunks, RunLayout(run_id), collection="bench"
            )
            return manifest.asset_count

        return run

    cases: dict[str, Callable[[], int]] = {
        "raw list_blobs (properties)": lambda: sum(1 for _ in raw.list_blobs()),
        "raw list_blob_names (names)": lambda: sum(1 for _ in raw.list_blob_names()),
        "ours create-chunks": ours(AssetFilter(), "bench-plain"),
        "ours create-chunks --since": ours(AssetFilter(since=everything), "bench-since"),
    }
    seconds: dict[str, list[float]] = {name: [] for name in cases}
    for round_index in range(args.rounds):
        for name, case in cases.items():
            elapsed, count = _timed(case)
            if count < args.blobs:
                raise SystemExit(f"{name} listed {count} blobs, expected at least {args.blobs}")
            seconds[name].append(elapsed)
            print(
                f"round {round_index + 1} {name}: {count / elapsed:,.0f} blobs/s", file=sys.stderr
            )

    rates = {name: args.blobs / statistics.median(times) for name, times in seconds.items()}
    for name, rate in rates.items():
        print(f"{name:32s} median {rate:8,.0f} blobs/s")
    since_ratio = rates["ours create-chunks --since"] / rates["raw list_blobs (properties)"]
    print(
        f"with --since: ours {rates['ours create-chunks --since']:,.0f} blobs/s, "
        f"raw list_blobs {rates['raw list_blobs (properties)']:,.0f} blobs/s, ratio {since_ratio:.2f}"
    )
    small = min(10_000, args.blobs)
    rss_small = _peak_rss_mb(source_uri, chunks_uri, "bench-rss-small", small)
    rss_all = _peak_rss_mb(source_uri, chunks_uri, "bench-rss-all", args.blobs)
    print(
        f"peak RSS: {rss_small:.0f} MB at {small:,} blobs, {rss_all:.0f} MB at {args.blobs:,} "
        f"blobs ({(rss_all / rss_small - 1) * 100:+.1f}%)"
    )
    ours_rate = rates["ours create-chunks"]
    raw_rate = rates["raw list_blob_names (names)"]
    print(
        f"chunking: ours {ours_rate:,.0f} blobs/s, raw SDK {raw_rate:,.0f} blobs/s, "
        f"ratio {ours_rate / raw_rate:.2f}"
    )


if __name__ == "__main__":
    main()
