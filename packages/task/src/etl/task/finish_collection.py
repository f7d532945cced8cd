"""``etl-task finish-collection``: the last step of a collection's ``process-items`` run.

Once every ``process-chunks`` pod has loaded its items, it (1) finds the items whose assets the
run did not list (``--missing report|remove``, or the collection's ``missing_items``) and reports
or removes them, refusing to remove more than ``max_removals``, and (2) makes the collection's
extent in PgSTAC follow its items (``extent: items|template``). Both once per run, never per batch.
What it did is written to ``{run_id}/finish-collection.json`` (:mod:`etl.dataset.finish_summary`),
which the end of the run shows.
"""

from __future__ import annotations

import argparse
import json
import sys

from etl.core.errors import TaskError
from etl.core.pod_contract import FINISH_COLLECTION, Flag
from etl.core.run_options import FINISH_COLLECTION_OPTIONS, MaxRemovals, add_pod_arguments
from etl.core.storage.base import Storage
from etl.dataset.chunking.manifest import read_manifest
from etl.dataset.finish_summary import (
    SHOWN_IDS,
    ExtentResult,
    FinishSummary,
    Removal,
    RemovalAction,
    write_finish_summary,
)
from etl.dataset.layout import RunLayout
from etl.dataset.model import CollectionConfig, ExtentSource, MissingItems
from etl.pgstac.item_events import ItemEventSpec
from etl.pgstac.item_sources import Connection
from etl.task.bundle_fetch import add_bundle_arguments, fetch_bundle
from etl.task.environment import TaskEnvironment
from etl.task.missing_items import MissingItem, RemovalRefusedError
from etl.task.notify_delivery import PodNotifications

__all__ = ["register", "run"]

_LOGGED = 100
"""Missing items named in the pod's output; all of them are in the run's ``missing.ndjson``."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``finish-collection`` subcommand."""
    parser = subparsers.add_parser(
        FINISH_COLLECTION.name,
        help="after the loads: report or remove items whose assets are gone, update the extent",
        description="Report or remove the items whose assets this run did not list (a full "
        "listing only), then set the collection's extent in PgSTAC from its items.",
    )
    add_bundle_arguments(parser)
    parser.add_argument(Flag.RUN_ID, required=True, help="the run (workflow) name")
    add_pod_arguments(parser, FINISH_COLLECTION_OPTIONS)
    parser.set_defaults(subcommand=sys.modules[__name__])


def run(args: argparse.Namespace) -> int:
    """Handle missing items, then the extent; record what was done as the run's summary; then
    send the collection's waiting item events (this run's, and any a killed pod left)."""
    environment = TaskEnvironment()
    bundle = fetch_bundle(args.dataset, environment)
    collection = bundle.collection(args.collection)
    notifications = PodNotifications.of(environment, bundle.dataset, collection.id, args.run_id)
    try:
        return _finish(args, environment, collection, notifications)
    finally:
        notifications.deliver()


def _finish(
    args: argparse.Namespace,
    environment: TaskEnvironment,
    collection: CollectionConfig,
    notifications: PodNotifications,
) -> int:
    from etl.pgstac.extents import update_collection_extent
    from etl.pgstac.item_sources import ensure_item_sources
    from etl.pgstac.policy import LoadConcurrency
    from etl.pgstac.session import connect_pgstac

    mode = args.missing or collection.missing_items
    max_removals = args.max_removals or MaxRemovals(collection.max_removals)
    storage = environment.chunk_storage(collection)
    layout = RunLayout(args.run_id)
    removal = None
    with connect_pgstac(environment.pgstac_dsn()) as conn:
        ensure_item_sources(conn)
        if mode is not MissingItems.KEEP:
            removal = _handle_missing(
                conn,
                collection,
                storage,
                layout,
                mode=mode,
                max_removals=max_removals,
                events=notifications.spec,
            )
        if removal is not None and removal.action is RemovalAction.REFUSED:
            write_finish_summary(storage, layout, FinishSummary(collection.id, None, removal))
            refused = f"{_summary(collection, removal)}; nothing removed: {removal.reason}"
            raise RemovalRefusedError(refused)
        update = update_collection_extent(
            conn,
            collection.id,
            keep_template=collection.extent is ExtentSource.TEMPLATE,
            concurrency=LoadConcurrency(),
        )
    print(f"extent of {collection.id}: {update.reason}; {json.dumps(update.stored)}")
    extent = ExtentResult(update.changed, update.reason, update.stored)
    write_finish_summary(storage, layout, FinishSummary(collection.id, extent, removal))
    return 0


def _handle_missing(
    conn: Connection,
    collection: CollectionConfig,
    storage: Storage,
    layout: RunLayout,
    *,
    mode: MissingItems,
    max_removals: MaxRemovals,
    events: ItemEventSpec | None,
) -> Removal:
    """Find the items whose assets the run did not list; report them, or remove them unless the
    guard refuses (the caller raises then)."""
    from etl.dataset.chunking.create import partial_listing
    from etl.pgstac.item_sources import item_sources_of
    from etl.pgstac.policy import LoadConcurrency
    from etl.pgstac.removals import remove_items
    from etl.task.missing_items import find_missing, listed_assets

    manifest = read_manifest(storage, layout)
    if manifest is None:
        raise TaskError(f"no chunk set at {storage.uri_of(layout.chunks_prefix)}: nothing listed")
    options = manifest.options
    partial = partial_listing(collection, limit=options.get("limit"), since=options.get("since"))
    if partial is not None:
        print(f"missing items of {collection.id}: not looked for, the run listed part ({partial})")
        return Removal(RemovalAction.NOT_LOOKED_FOR, reason=partial)
    listed = listed_assets(storage, manifest)
    missing, tracked, refusal = find_missing(
        item_sources_of(conn, collection.id), listed, max_removals
    )
    remove = mode is MissingItems.REMOVE and refusal is None
    if mode is not MissingItems.REMOVE:
        action = RemovalAction.REPORTED
    else:
        action = RemovalAction.REMOVED if remove else RemovalAction.REFUSED
    storage.write_text(layout.missing_path, _ndjson(missing, action))
    verb = "removed" if remove else "would be removed"
    for item in missing[:_LOGGED]:
        print(f"missing: {item.item_id} (asset {item.asset} not listed): {verb}")
    if len(missing) > _LOGGED:
        print(f"missing: {len(missing) - _LOGGED} more, see {storage.uri_of(layout.missing_path)}")
    examples = tuple(sorted(item.item_id for item in missing)[:SHOWN_IDS])
    removal = Removal(action, len(missing), tracked, examples, refusal)
    if action is RemovalAction.REFUSED:
        return removal
    if refusal is not None:
        print(f"{_summary(collection, removal)}; a removal would be refused: {refusal}")
    elif not remove:
        print(f"{_summary(collection, removal)} (report only: --remove-missing removes them)")
    else:
        ids = [item.item_id for item in missing]
        deleted = remove_items(
            conn, collection.id, ids, concurrency=LoadConcurrency(), events=events
        )
        print(f"{_summary(collection, removal)}; {deleted} removed")
    return removal


def _summary(collection: CollectionConfig, removal: Removal) -> str:
    return (
        f"{removal.missing} of {removal.tracked} items of {collection.id} have assets no longer "
        "listed"
    )


def _ndjson(missing: list[MissingItem], action: RemovalAction) -> str:
    return "".join(
        json.dumps({"item_id": m.item_id, "asset": m.asset, "action": action.value}) + "\n"
        for m in missing
    )
