"""``etl-task run-outcome``: the exit handler that tells a dataset's targets how a run ended.

The compiler makes it ``spec.onExit`` of every dataset workflow whose collections have
notification targets, so Argo (and the local runner, as Argo does) runs it once the run has ended,
however it ended, with ``{{workflow.status}}`` and ``{{workflow.failures}}``. It builds one
CloudEvent, ``dev.etl.run.succeeded`` or ``dev.etl.run.failed`` (the contract is in
docs/notifications.md): the dataset, the run's name, status and URL, each collection's counts
(:mod:`etl.dataset.run_outcome`), the failed assets' count and where to read them, and the failed
steps. It records the event in the outbox, owed to every target (the event id the same on every
try of this handler), then delivers what waits for those targets. Delivery never fails the
handler, so a target that is down never turns a succeeded run Failed: its events stay in the
outbox for ``etl dataset status`` and the next delivery. A failure to record (PgSTAC unreachable)
is transient: the handler's retries try again.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from etl.core.notifications.cloud_event import CloudEvent, EventType, event_id, run_event_source
from etl.core.paths import RUNS_FOLDER, state_dir
from etl.core.pod_contract import PROCESS_ITEMS_COMMAND, RUN_OUTCOME, STATE_DIR_ENV, Flag
from etl.core.workflow_failures import FailedNode, parse_failures
from etl.dataset.run_outcome import CollectionOutcome
from etl.task.bundle_fetch import fetch_bundle
from etl.task.environment import TaskEnvironment

__all__ = ["register", "run"]

SUCCEEDED = "Succeeded"
"""The ``{{workflow.status}}`` of a run whose every step succeeded."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``run-outcome`` subcommand."""
    parser = subparsers.add_parser(
        RUN_OUTCOME.name,
        help="the exit handler: send the run's outcome to the dataset's notification targets",
        description="Record the run's outcome event (status, counts, failed assets, URL) in the "
        "outbox and deliver it to the targets of the run's collections.",
    )
    parser.add_argument(Flag.DATASET, required=True, help="the bundle's resolved dataset.json")
    parser.add_argument(
        Flag.COLLECTIONS, required=True, help="the run's collection ids, comma-separated"
    )
    parser.add_argument(Flag.RUN_ID, required=True, help="the run (workflow) name")
    parser.add_argument(Flag.COMMAND, required=True, help="the run's command (process-items, ...)")
    parser.add_argument(
        Flag.STATUS, required=True, help="how the run ended: Succeeded, Failed or Error"
    )
    parser.add_argument(
        Flag.FAILURES,
        type=_failures,
        default=(),
        help="Argo's {{workflow.failures}}: the nodes that failed",
    )
    parser.add_argument(Flag.RUN_URL, help="the run's page (default: the local run's folder)")
    parser.set_defaults(subcommand=sys.modules[__name__])


def _failures(text: str) -> tuple[FailedNode, ...]:
    try:
        return parse_failures(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    """Record the outcome event for every target, then deliver what waits for them."""
    from etl.dataset.layout import RunLayout
    from etl.dataset.run_outcome import collection_outcome, run_targets
    from etl.pgstac.outbox import OutboxBatch, ensure_outbox, record_events
    from etl.pgstac.session import connect_pgstac
    from etl.task.notify_delivery import PodNotifications

    environment = TaskEnvironment()
    bundle = fetch_bundle(args.dataset, environment, with_code=False)
    ids = [c for c in args.collections.split(",") if c]
    targets = run_targets(bundle.dataset, ids, environment.profile)
    if not targets:
        print(f"run outcome of {args.run_id}: no notification targets")
        return 0
    layout = RunLayout(args.run_id)
    processes = args.command == PROCESS_ITEMS_COMMAND
    outcomes = []
    for collection_id in ids:
        storage = environment.chunk_storage(bundle.collection(collection_id))
        outcomes.append(collection_outcome(collection_id, storage, layout, processes=processes))
    event = _outcome_event(
        dataset=bundle.dataset.id,
        run=args.run_id,
        command=args.command,
        status=args.status,
        url=args.run_url or _local_run_url(environment.profile.name, args.run_id, environment.env),
        collections=outcomes,
        failed_steps=args.failures,
    )
    owed: dict[str, list[str]] = {}
    for target, first in targets:
        owed.setdefault(first, []).append(target.key)
    with connect_pgstac(environment.pgstac_dsn()) as conn:
        ensure_outbox(conn)
        with conn.transaction():
            for collection_id, keys in owed.items():
                batch = OutboxBatch(collection_id, tuple(keys), [event.to_json()])
                record_events(conn, batch)
    print(
        f"run outcome of {args.run_id}: {event.type} "
        f"({event.data['failed_assets']} failed assets) recorded for {len(targets)} target(s)"
    )
    PodNotifications(environment, tuple(target for target, _ in targets), None).deliver()
    return 0


def _outcome_event(
    *,
    dataset: str,
    run: str,
    command: str,
    status: str,
    url: str | None,
    collections: Sequence[CollectionOutcome],
    failed_steps: Sequence[FailedNode],
) -> CloudEvent:
    """The run's outcome event. Its id is that of this outcome: the same on every try of the
    exit handler, another after a retry of the run (its failed steps end at other times)."""
    kind = EventType.RUN_SUCCEEDED if status == SUCCEEDED else EventType.RUN_FAILED
    steps = [
        {
            "step": n.display_name,
            "template": n.template_name,
            "phase": n.phase,
            "message": n.message,
        }
        for n in failed_steps
    ]
    data: dict[str, Any] = {
        "dataset": dataset,
        "run": run,
        "command": command,
        "status": status,
        "url": url,
        "items": sum(c.items for c in collections),
        "removed": sum(c.removed for c in collections),
        "failed_assets": sum(c.failed_assets for c in collections),
        "collections": [c.to_json() for c in collections],
        "failed_steps": steps,
    }
    ended = ",".join(f"{n.display_name}@{n.finished_at}" for n in failed_steps)
    return CloudEvent(
        id=event_id(str(kind), dataset, run, status, ended),
        source=run_event_source(dataset),
        type=kind,
        subject=run,
        time=datetime.now(UTC),
        data=data,
    )


def _local_run_url(profile: str, run_id: str, env: Mapping[str, str]) -> str | None:
    """On the local runner (which gives its state folder): the run's page on the ``etl serve``
    of the profile, when one runs, else the run's folder (``etl workflow get`` reads it)."""
    from etl.core.serve_address import run_page_url

    if not env.get(STATE_DIR_ENV):
        return None
    return run_page_url(profile, run_id, env) or (state_dir(env) / RUNS_FOLDER / run_id).as_uri()
