"""``etl-task ingest-collection``, ``ingest-items`` and ``mark-success``: the small subcommands."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from etl.core.counts import counted
from etl.core.errors import InputError
from etl.core.pod_contract import INGEST_COLLECTION, INGEST_ITEMS, MARK_SUCCESS, Flag, LoadMethod
from etl.task.bundle_fetch import add_bundle_arguments, fetch_bundle
from etl.task.environment import TaskEnvironment

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``ingest-collection``, ``ingest-items`` and ``mark-success``."""
    collection = subparsers.add_parser(
        INGEST_COLLECTION.name,
        help="create or update a collection in PgSTAC (from its template, or a collection JSON)",
        description="With --dataset and --collection: build the collection from its template "
        "(template.json + description.md, or a collection JSON file) and upsert it into PgSTAC. "
        "With --file: upsert the collection JSON file as it is (--collection, if given, is the "
        "id it must have).",
    )
    add_bundle_arguments(collection, required=False)
    collection.add_argument(
        Flag.FILE, metavar="URI_OR_PATH", help="a collection JSON file (local path or blob URI)"
    )
    items = subparsers.add_parser(
        INGEST_ITEMS.name,
        help="load ndjson item files into PgSTAC",
        description="Load ndjson item files (local paths or blob URIs) into a PgSTAC collection.",
    )
    items.add_argument("sources", nargs="*", metavar="SOURCE", help="ndjson files")
    items.add_argument(
        Flag.SOURCES_FILE,
        metavar="URI_OR_PATH",
        help="a file naming the ndjson files, one a line (instead of SOURCE arguments)",
    )
    items.add_argument(Flag.COLLECTION, required=True, help="the collection id")
    items.add_argument(
        Flag.METHOD,
        choices=[method.value for method in LoadMethod],
        default=LoadMethod.UPSERT.value,
    )
    success = subparsers.add_parser(
        MARK_SUCCESS.name,
        help="record a run as the collection's last success (for --since last-success)",
        description="Move the collection's last-success marker to this run when its listing "
        "covered every asset modified since the marker (no --limit, no storage limit, a since at "
        "or before the marker) and it started after the marker's run: later create-chunks runs "
        "with --since last-success list only assets modified since this run started. Otherwise "
        "keep it; either way, say so.",
    )
    add_bundle_arguments(success)
    success.add_argument(Flag.RUN_ID, required=True, help="the run (workflow) name")
    success.add_argument(Flag.STARTED_AT, required=True, help="when the run started (ISO 8601)")
    for parser in (collection, items, success):
        parser.set_defaults(subcommand=sys.modules[__name__])


def run(args: argparse.Namespace) -> int:
    """Run the subcommand ``args.command`` names."""
    from etl.task.ingest import ingest_items
    from etl.task.last_success import mark_success

    environment = TaskEnvironment()
    if args.command == INGEST_ITEMS.name:
        sources = _item_sources(args, environment)
        count = ingest_items(sources, args.collection, args.method, environment)
        print(f"{counted(count, 'item')} loaded into {args.collection} ({args.method})")
        return 0
    if args.command == INGEST_COLLECTION.name:
        document = _ingest_collection(args, environment)
        print(json.dumps({"collection": document["id"], "title": document.get("title")}))
        return 0
    bundle = fetch_bundle(args.dataset, environment)
    collection = bundle.collection(args.collection)
    outcome = mark_success(collection, environment, run_id=args.run_id, started_at=args.started_at)
    print(outcome.line())
    return 0


def _ingest_collection(args: argparse.Namespace, environment: TaskEnvironment) -> dict[str, Any]:
    """``ingest-collection``: from a collection JSON file (``--file``), or the dataset's template."""
    from etl.task.ingest import ingest_collection, ingest_collection_file

    if args.file is not None:
        if args.dataset is not None:
            raise InputError("ingest-collection: give --file or --dataset, not both")
        return ingest_collection_file(args.file, environment, expected_id=args.collection)
    if args.dataset is None or args.collection is None:
        raise InputError("ingest-collection: give --dataset and --collection, or --file")
    return ingest_collection(fetch_bundle(args.dataset, environment), args.collection, environment)


def _item_sources(args: argparse.Namespace, environment: TaskEnvironment) -> list[str]:
    """``ingest-items``' files: its SOURCE arguments, or the lines of ``--sources-file``."""
    from etl.task.ingest import read_source_text

    if bool(args.sources) == (args.sources_file is not None):
        raise InputError("ingest-items: give SOURCE arguments or --sources-file, one of the two")
    if args.sources:
        return list(args.sources)
    lines = read_source_text(args.sources_file, environment).splitlines()
    return [line.strip() for line in lines if line.strip()]
