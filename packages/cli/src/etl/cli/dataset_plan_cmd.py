"""``etl dataset plan | status | forget-failures``: what a run would change, where a catalog
stands, and the failed assets a user stops owing.

``plan`` and ``status`` run here, with the active profile's credentials, and write nothing: each
makes one call, :func:`etl.runner.catalog_reports.dataset_plan` (the storage listed; only assets changed since they were
loaded, or loaded by other code, made as a run would, all with ``--deep``) or :func:`~etl.runner.catalog_reports.dataset_status` (PgSTAC, the
chunk storage and the runner read; the catalog page of ``etl serve`` shows the same), and prints.
``forget-failures`` records, in the chunk storage, that the failed assets ``status`` lists
are no longer owed (:mod:`etl.dataset.dropped_failures`). The commands join the ``etl dataset``
group.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from etl.cli.options import ArgOption, CollectionOption, DatasetOption, OutputOption, command_group
from etl.cli.output import OutputFormat, print_result
from etl.cli.selection import load_selection
from etl.cli.state import active_profile, active_runner

__all__ = ["app"]

app = command_group("What a run would change, and where a catalog stands.")

_SHOWN_FAILURES = 10
"""Failed assets the status table shows per collection (``-o json`` has them all)."""


@app.command()
def plan(
    ctx: typer.Context,
    *,
    dataset: DatasetOption = Path("."),
    collection: CollectionOption = None,
    arg: ArgOption = None,
    output: OutputOption = OutputFormat.TABLE,
    deep: Annotated[
        bool,
        typer.Option(
            "--deep",
            help="Make every asset's items, also those loaded by the current code after the "
            "asset last changed (needed when create_item reads data other than its asset).",
        ),
    ] = False,
) -> None:
    """Show what a process-items run would add, change, keep and remove in PgSTAC, making the
    items here without writing anything."""
    import gc

    # What the imports made lives as long as the command: the collections the plan's rows and
    # listed assets set off need not walk it again (2% of a plan's instructions).
    gc.freeze()
    from etl.core.progress import report_progress
    from etl.runner.catalog_reports import dataset_plan

    loaded, selected = load_selection(ctx, dataset, collection, arg)
    entries = dataset_plan(
        loaded, selected, active_profile(ctx), deep=deep, progress=report_progress
    )
    if output is not OutputFormat.TABLE:
        print_result({"dataset": loaded.config.id, "deep": deep, "collections": entries}, output)
        return
    counts = ("assets", "made", "added", "changed", "unchanged", "removed", "failed")
    print_result(
        [{"collection": c["collection"], **{k: c[k] for k in counts}} for c in entries],
        OutputFormat.TABLE,
    )
    for entry in entries:
        for outcome, examples in entry["examples"].items():
            if examples and outcome != "unchanged":
                print(f"{entry['collection']}: {outcome}: {', '.join(examples)}")


@app.command()
def status(
    ctx: typer.Context,
    dataset: DatasetOption = Path("."),
    collection: CollectionOption = None,
    arg: ArgOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Show each collection's items and extent in PgSTAC, its last successful run, the failed
    assets no later run fixed, its runs in progress, with events, its queue's depth, oldest
    message, events per second and dead letters, and the item events waiting undelivered."""
    from etl.runner.catalog_reports import dataset_status

    loaded, selected = load_selection(ctx, dataset, collection, arg)
    entries = dataset_status(loaded, selected, active_profile(ctx), active_runner(ctx))
    if output is not OutputFormat.TABLE:
        print_result({"dataset": loaded.config.id, "collections": entries}, output)
        return
    for entry in entries:
        _print_status(entry, f"-d {dataset}")


def _print_status(entry: dict[str, Any], dataset: str) -> None:
    success = entry["last_success"]
    runs = entry["runs_in_progress"]
    summary = {
        "collection": entry["collection"],
        "items": entry["pgstac"]["items"],
        "extent": entry["pgstac"]["extent"],
        "last_success": f"{success['run_id']} (started {success['started_at']})"
        if success
        else entry["last_success_error"],
        "next_since": success["started_at"] if success else None,
        "outstanding_failures": entry["outstanding_failures"],
        "runs_in_progress": ", ".join(f"{r['name']} ({r['phase']})" for r in runs) or None,
    }
    if entry["events"] is not None:
        from etl.runner.event_status import event_status_line

        summary["events"] = event_status_line(entry["events"])
    if entry["notifications"]:
        from etl.runner.notifications import notification_status_line

        summary["undelivered_events"] = notification_status_line(entry["notifications"], dataset)
    print_result(summary, OutputFormat.TABLE)
    for failure in entry["failed_assets"][:_SHOWN_FAILURES]:
        print(f"  {failure['asset']}: {failure['error']} (run {failure['run_id']})")
    hidden = entry["outstanding_failures"] - _SHOWN_FAILURES
    if hidden > 0:
        print(f"  ... {hidden} more (etl dataset status -o json lists them all)")
    print(file=sys.stdout)


@app.command("forget-failures")
def forget_failures(
    ctx: typer.Context,
    *,
    dataset: DatasetOption = Path("."),
    collection: CollectionOption = None,
    arg: ArgOption = None,
    asset: Annotated[
        list[str] | None,
        typer.Option("--asset", metavar="URI", help="A failed asset to forget (repeatable)."),
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Forget every outstanding failed asset.")
    ] = False,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Stop owing failed assets: etl dataset status no longer lists them and --since
    last-success runs no longer take them again (until they fail again)."""
    from etl.core.counts import counted
    from etl.core.errors import InputError, OptionError
    from etl.core.profile_services import ProfileServices
    from etl.dataset.chunking.create import chunk_storage_of
    from etl.dataset.dropped_failures import drop_failures
    from etl.dataset.run_history import collection_history
    from etl.runner.active_runs import active_runs

    if bool(asset) == every:
        raise OptionError("asset", "URI (repeatable) or --all: give one of the two")
    loaded, selected = load_selection(ctx, dataset, collection, arg)
    profile = active_profile(ctx)
    secrets = ProfileServices.for_profile(profile).secrets
    running = {run.status.name for run in active_runs(active_runner(ctx), loaded.config.id)}
    chosen_assets = []
    for chosen in selected:
        storage = chunk_storage_of(chosen, profile=profile, secrets=secrets)
        history = collection_history(storage, running=running)
        owed = dict.fromkeys(failure.asset for failure in history.outstanding)
        forgotten = list(owed) if every else [uri for uri in owed if uri in set(asset or ())]
        chosen_assets.append((chosen.id, storage, forgotten))
    unknown = set(asset or ()).difference(*(forgotten for _, _, forgotten in chosen_assets))
    if unknown:
        raise InputError(
            f"not an outstanding failure of {', '.join(c.id for c in selected)}: "
            f"{', '.join(sorted(unknown))} (etl dataset status lists them)"
        )
    for _, storage, forgotten in chosen_assets:
        if forgotten:
            drop_failures(storage, forgotten)
    entries = [{"collection": cid, "forgotten": forgotten} for cid, _, forgotten in chosen_assets]
    if output is not OutputFormat.TABLE:
        print_result({"dataset": loaded.config.id, "collections": entries}, output)
        return
    for entry in entries:
        count = len(entry["forgotten"])
        print(f"{entry['collection']}: {counted(count, 'failed asset')} forgotten")
        for uri in entry["forgotten"]:
            print(f"  {uri}")
