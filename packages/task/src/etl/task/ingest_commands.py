"""``etl-task ingest-collection``, ``ingest-items`` and ``mark-success``: the small subcommands."""

from __future__ import annotations

import argparse
import json
import sys

from etl.task.bundle_fetch import add_bundle_arguments, fetch_bundle
from etl.task.environment import TaskEnvironment

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``ingest-collection``, ``ingest-items`` and ``mark-success``."""
    collection = subparsers.add_parser(
        "ingest-collection",
        help="create or update a collection in PgSTAC from its template",
        description="Build the collection from its template (template.json + description.md, or "
        "a collection JSON file) and upsert it into PgSTAC.",
    )
    add_bundle_arguments(collection)
    items = subparsers.add_parser(
        "ingest-items",
        help="load ndjson item files into PgSTAC",
        description="Load ndjson item files (local paths or blob URIs) into a PgSTAC collection.",
    )
    items.add_argument("sources", nargs="+", metavar="SOURCE", help="ndjson files")
    items.add_argument("--collection", required=True, help="the collection id")
    items.add_argument("--method", choices=["upsert", "insert", "ignore"], default="upsert")
    success = subparsers.add_parser(
        "mark-success",
        help="record a run as the collection's last success (for --since last-success)",
        description="Write the collection's last-success marker: later create-chunks runs with "
        "--since last-success list only assets modified since this run started.",
    )
    add_bundle_arguments(success)
    success.add_argument("--run-id", required=True, help="the run (workflow) name")
    success.add_argument("--started-at", required=True, help="when the run started (ISO 8601)")
    for parser in (collection, items, success):
        parser.set_defaults(subcommand=sys.modules[__name__])


def run(args: argparse.Namespace) -> int:
    """Run the subcommand ``args.command`` names."""
    from etl.task.ingest import ingest_collection, ingest_items
    from etl.task.last_success import write_last_success
    from etl.task.process_chunks import find_collection

    environment = TaskEnvironment()
    if args.command == "ingest-items":
        count = ingest_items(args.sources, args.collection, args.method, environment)
        print(f"{count} items loaded into {args.collection} ({args.method})")
        return 0
    bundle = fetch_bundle(args.dataset, environment)
    if args.command == "ingest-collection":
        document = ingest_collection(bundle, args.collection, environment)
        print(json.dumps({"collection": document["id"], "title": document.get("title")}))
        return 0
    collection = find_collection(bundle, args.collection)
    uri = write_last_success(
        collection, environment, run_id=args.run_id, started_at=args.started_at
    )
    print(f"last success of {args.collection}: {args.run_id} (started {args.started_at}) at {uri}")
    return 0
