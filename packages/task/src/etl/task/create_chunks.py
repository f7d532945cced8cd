"""``etl-task create-chunks``: list a collection's assets into the run's chunk set.

Writes ``{run_id}/chunks/00000.txt ...`` and ``manifest.json`` (last) to the collection's chunk
storage, then, with ``--outputs DIR``, the files Argo reads as output parameters: ``chunk-count``
(C) and ``batch-count`` (B = min(C, the profile's ``workflow.max_pods``)).
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from etl.core.counts import counted
from etl.core.pod_contract import (
    BATCH_COUNT_OUTPUT,
    CHUNK_COUNT_OUTPUT,
    CREATE_CHUNKS,
    LISTING_CONCURRENCY_ENV,
    Flag,
)
from etl.core.run_options import CREATE_CHUNKS_OPTIONS, LastSuccess, add_pod_arguments
from etl.task.bundle_fetch import add_bundle_arguments

if TYPE_CHECKING:
    from etl.core.progress import ProgressReporter
    from etl.dataset.chunking.manifest import ChunkManifest
    from etl.dataset.model import CollectionConfig
    from etl.task.environment import TaskEnvironment

__all__ = ["batch_count", "register", "run", "write_outputs"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``create-chunks`` subcommand."""
    parser = subparsers.add_parser(
        CREATE_CHUNKS.name,
        help="list a collection's assets into chunk files (one asset URI a line, as JSON)",
        description="List the assets of every asset_storage entry of a collection and write them "
        "as chunk files plus a manifest to its chunk storage, under the run's prefix.",
    )
    add_bundle_arguments(parser)
    parser.add_argument(Flag.RUN_ID, required=True, help="the run (workflow) name")
    add_pod_arguments(parser, CREATE_CHUNKS_OPTIONS)
    parser.add_argument(
        Flag.MAX_BATCHES,
        type=_positive,
        help="most fan-out pods (default: the profile's workflow.max_pods)",
    )
    parser.add_argument(
        Flag.CONCURRENCY,
        type=_positive,
        help=f"most listings at once per storage account (default: ${LISTING_CONCURRENCY_ENV} or 8)",
    )
    parser.add_argument(
        Flag.OUTPUTS,
        type=Path,
        help=f"write {CHUNK_COUNT_OUTPUT} and {BATCH_COUNT_OUTPUT} files here (Argo outputs)",
    )
    parser.set_defaults(subcommand=sys.modules[__name__])


def run(args: argparse.Namespace) -> int:
    """Create the chunk set; print its manifest's counts on stdout."""
    from etl.core.progress import report_progress
    from etl.dataset.chunking.create import create_chunks
    from etl.task.environment import TaskEnvironment
    from etl.task.last_success import read_last_success

    environment = TaskEnvironment()
    collection = _collection(args.dataset, args.collection, environment)
    incremental = args.since is LastSuccess.MARKER
    since = read_last_success(collection, environment) if incremental else args.since
    # a listing since the marker takes the earlier failures again; a full listing has them
    owed = _owed(collection, environment, args.run_id) if since and incremental else None
    with report_progress("assets listed") as bar:
        manifest = create_chunks(
            collection,
            run_id=args.run_id,
            profile=environment.profile,
            secrets=_LazySecrets(environment),
            limit=args.limit,
            since=since,
            concurrency=args.concurrency,
            progress=_BarProgress(bar),
            owed=owed,
        )
    batches = batch_count(
        manifest.chunk_count, args.max_batches or environment.profile.workflow.max_pods
    )
    if args.outputs is not None:
        write_outputs(args.outputs, manifest, batches)
    taken = manifest.options.get("owed")
    again = f" (with {taken} that failed in earlier runs)" if taken else ""
    print(
        f"{counted(manifest.asset_count, 'asset')}{again} in "
        f"{counted(manifest.chunk_count, 'chunk')} ({counted(batches, 'batch', 'batches')}) "
        f"in {manifest.listing_seconds:.1f}s"
    )
    return 0


def batch_count(chunk_count: int, max_pods: int) -> int:
    """How many fan-out pods share ``chunk_count`` chunks: ``min(C, max_pods)``."""
    return min(chunk_count, max_pods)


def write_outputs(folder: Path, manifest: ChunkManifest, batches: int) -> None:
    """The ``chunk-count`` and ``batch-count`` files Argo reads as output parameters."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CHUNK_COUNT_OUTPUT).write_text(str(manifest.chunk_count))
    (folder / BATCH_COUNT_OUTPUT).write_text(str(batches))


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive integer")
    return number


def _owed(collection: CollectionConfig, environment: TaskEnvironment, run_id: str) -> list[str]:
    """The collection's outstanding failed assets (as ``etl dataset status`` lists them): a
    ``--since last-success`` run takes them again, until they load or are dropped."""
    from etl.dataset.run_history import collection_history

    history = collection_history(environment.chunk_storage(collection), running={run_id})
    return [failure.asset for failure in history.outstanding]


def _collection(dataset: str, collection_id: str, environment: TaskEnvironment) -> CollectionConfig:
    """The collection from a bundle's ``dataset.json`` or, by hand, from a ``dataset.yaml``."""
    from etl.task.bundle_fetch import fetch_bundle

    return fetch_bundle(dataset, environment, with_code=False).collection(collection_id)


class _LazySecrets:
    """Opens the secret backend only if a storage token refers to a secret."""

    def __init__(self, environment: TaskEnvironment) -> None:
        self._environment = environment

    def get(self, name: str) -> str:
        return self._environment.secrets.get(name)


class _BarProgress:
    """Shows listed assets as the bar's count (with its rate), and the chunks written beside it."""

    def __init__(self, bar: ProgressReporter) -> None:
        self._bar = bar
        self._lock = threading.Lock()
        self._chunks = 0

    def listed(self, count: int) -> None:
        with self._lock:
            self._bar.advance(count)

    def chunk_written(self, index: int) -> None:
        with self._lock:
            self._chunks += 1
            self._bar.note(f"{counted(self._chunks, 'chunk')} written")
