"""How long the preflight of a local ``--submit`` takes, against asking the same services by hand.

The preflight (``etl.runner.preflight``) of the built-in ``local`` profile and a dataset whose
assets are in an Azurite container (chunks in a local folder, one secret in ``ETL_SECRET_*``):
PgSTAC connected and its version read, the container listed (one name), the secret read. The raw
baseline asks the same services the same questions one after another: a bare ``psycopg.connect``
plus ``SELECT pgstac.get_version()``, and one ``list_blob_names`` page of one name from the same
container (its client made once, as the preflight's are). Imports are paid before timing.

    uv run python benchmarks/preflight.py [-n 20]

Needs the services of ``scripts/services`` (PostgreSQL with pgstac on 55432, Azurite on 10000).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from etl.core.profiles.local_services import azurite_blob_endpoint
from etl.core.profiles.model import AZURITE_ACCOUNT, AZURITE_KEY, Profile
from etl.dataset.loader import load_dataset
from etl.runner.preflight import preflight

DATASET = """\
id: bench
image: etl-task:bench
environment:
  API_TOKEN: $<< secrets.api-token >>
collections:
  - id: bench
    class: bench:Bench
    template: {template}
    asset_storage:
      - uri: blob://{account}/{container}/assets
    chunk_storage:
      uri: {chunks}
"""


def paired_ms(ours: Callable[[], object], raw: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds of ``runs`` pairs, ours then raw in turn (so drift hits both), after one
    warm-up of each: ``[ours, raw, ours, raw, ...]``."""
    ours()
    raw()
    times = []
    for _ in range(runs):
        for call in (ours, raw):
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    """Measure both and print one line each, the summary last."""
    import psycopg
    from azure.storage.blob import BlobServiceClient, ContainerClient

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=20, help="runs of each (default 20)")
    runs = parser.parse_args().runs
    profile = Profile.builtin_local()
    dsn = str(profile.pgstac.dsn)
    os.environ["ETL_SECRET_API_TOKEN"] = "bench"
    connection = (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={azurite_blob_endpoint()};"
    )
    container = f"bench-preflight-{uuid.uuid4().hex[:8]}"
    service = BlobServiceClient.from_connection_string(connection)
    service.create_container(container)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "template.json").write_text("{}")
            (folder / "dataset.yaml").write_text(
                DATASET.format(
                    template=folder / "template.json",
                    account=AZURITE_ACCOUNT,
                    container=container,
                    chunks=(folder / "chunks").as_uri(),
                )
            )
            loaded = load_dataset(folder, profile=profile)
            report = preflight(profile, dataset=loaded)
            assert not report.problems, report.problems
            blobs = ContainerClient.from_connection_string(connection, container)

            def raw() -> None:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute("SELECT pgstac.get_version()").fetchone()
                pages = blobs.list_blob_names(name_starts_with="assets/", results_per_page=1)
                next(pages.by_page(), None)

            times = paired_ms(lambda: preflight(profile, dataset=loaded), raw, runs)
    finally:
        service.delete_container(container)
    ours, baseline = statistics.median(times[0::2]), statistics.median(times[1::2])
    ratio = statistics.median(a / b for a, b in zip(times[0::2], times[1::2], strict=True))
    print(f"preflight ({len(report.checks)} checks): median {ours:.1f} ms over {runs} runs")
    print(f"raw psycopg connect + version, one blob list page: median {baseline:.1f} ms")
    print(f"preflight: ours {ours:.1f} ms, raw {baseline:.1f} ms, ratio {ratio:.2f} (pairwise)")


if __name__ == "__main__":
    main()
