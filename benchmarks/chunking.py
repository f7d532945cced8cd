"""Benchmark: create-chunks against the raw Azure SDK listing of the same blobs on Azurite.

Seeds a dedicated container with ``--blobs`` tiny blobs over ~1,000 prefixes once (a marker blob
records that seeding finished; later runs reuse it, and the container is never deleted: deleting
~100k blobs stalls Azurite). Then, in several rounds, times:

(a) the raw SDK listing of the container, writing nothing: ``ContainerClient.list_blobs`` (with
    properties) and ``list_blob_names`` (names only);
(b) our ``create_chunk_set`` over the same listing, without ``since`` (names only) and with
    ``since`` (which needs properties). Chunks go to a local folder by default (``--chunks-uri``
    takes a ``blob://`` URI too): Azurite serves requests on one thread and rescans every blob for
    each listing page, so chunk uploads to it in the middle of the timed listing measure the
    emulator, not create-chunks (on Azure, uploads and listings do not queue behind each other).

Prints medians (and the best round, the least disturbed by other work on the machine), then the
peak RSS (VmHWM) of create-chunks in a fresh process at 10,000 and at all ``--blobs`` blobs, and
on its last line ``chunking: ours N blobs/s, raw SDK M blobs/s, ratio R`` where M is the raw call
giving the same information: names only, as create-chunks needs without ``since``.
``--blob-endpoint`` points it at a private Azurite, away from tests running on the shared one.

    uv run python benchmarks/chunking.py --blobs 100000 [--rounds 3] [--blob-endpoint URL]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import ContainerClient

from etl.core.profiles.local_services import azurite_blob_endpoint
from etl.core.profiles.model import AZURITE_KEY, Profile, StorageAccount
from etl.core.storage.opening import open_storage
from etl.core.storage.uris import file_uri
from etl.dataset.chunking.chunk_set import ChunkSource, create_chunk_set
from etl.dataset.chunking.filters import AssetFilter
from etl.dataset.layout import RunLayout

ACCOUNT = "devstoreaccount1"
PREFIXES = 1000
MARKER = "zz-seeded.marker"

_RSS_PROGRAM = """
import sys
from etl.core.profiles.model import AZURITE_KEY, Profile, StorageAccount
from etl.core.storage.opening import open_storage
from etl.core.storage.uris import file_uri
from etl.dataset.chunking.chunk_set import ChunkSource, create_chunk_set
from etl.dataset.layout import RunLayout
account = StorageAccount(account_url=sys.argv[5], key=AZURITE_KEY)
profile = Profile(storage={"devstoreaccount1": account})
manifest = create_chunk_set(
    [ChunkSource(open_storage(sys.argv[1], profile=profile))],
    open_storage(sys.argv[2], profile=profile), RunLayout(sys.argv[3]), collection="bench",
    limit=int(sys.argv[4]),
)
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(int(hwm.split()[1]))  # peak RSS in kB of this process image (reset by exec, unlike ru_maxrss)
"""


def _connection(endpoint: str) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={endpoint};"
    )


def _container(endpoint: str, name: str) -> ContainerClient:
    client = ContainerClient.from_connection_string(_connection(endpoint), name)
    with contextlib.suppress(ResourceExistsError):
        client.create_container()
    return client


def seed(endpoint: str, blobs: int) -> str:
    """The name of a container holding ``blobs`` tiny blobs over ~1,000 prefixes (seeded once)."""
    name = f"etl-bench-chunking-{blobs}"
    client = _container(endpoint, name)
    if client.get_blob_client(MARKER).exists():
        return name
    prefixes = min(PREFIXES, blobs)
    names = [f"p{i % prefixes:04d}/blob-{i:08d}.bin" for i in range(blobs)]
    started = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
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


def _peak_rss_mb(source_uri: str, chunks_uri: str, run_id: str, limit: int, endpoint: str) -> float:
    """Peak RSS (MB) of a fresh process running create-chunks over ``limit`` blobs."""
    command = [
        sys.executable,
        "-c",
        _RSS_PROGRAM,
        source_uri,
        chunks_uri,
        run_id,
        str(limit),
        endpoint,
    ]
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    return int(result.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blobs", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--chunks-uri", help="where chunk sets go (default: a temporary local folder)"
    )
    parser.add_argument(
        "--blob-endpoint",
        default=azurite_blob_endpoint(),
        help="Azurite's account endpoint (default: the one scripts/services runs)",
    )
    args = parser.parse_args()
    endpoint = args.blob_endpoint

    container = seed(endpoint, args.blobs)
    raw = ContainerClient.from_connection_string(_connection(endpoint), container)
    with tempfile.TemporaryDirectory(prefix="etl-bench-chunks-") as folder:
        run(args, endpoint, container, raw, args.chunks_uri or file_uri(folder))


def run(
    args: argparse.Namespace, endpoint: str, container: str, raw: ContainerClient, chunks_uri: str
) -> None:
    """The timed rounds and the RSS measurements, printing the results."""
    profile = Profile(storage={ACCOUNT: StorageAccount(account_url=endpoint, key=AZURITE_KEY)})
    source_uri = f"blob://{ACCOUNT}/{container}"
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
        best = args.blobs / min(seconds[name])
        print(f"{name:32s} median {rate:8,.0f} blobs/s   best {best:8,.0f} blobs/s")
    since_ratio = rates["ours create-chunks --since"] / rates["raw list_blobs (properties)"]
    print(
        f"with --since: ours {rates['ours create-chunks --since']:,.0f} blobs/s, "
        f"raw list_blobs {rates['raw list_blobs (properties)']:,.0f} blobs/s, ratio {since_ratio:.2f}"
    )
    small = min(10_000, args.blobs)
    rss_small = _peak_rss_mb(source_uri, chunks_uri, "bench-rss-small", small, endpoint)
    rss_all = _peak_rss_mb(source_uri, chunks_uri, "bench-rss-all", args.blobs, endpoint)
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
