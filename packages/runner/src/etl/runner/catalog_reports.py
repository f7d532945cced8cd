"""Where a dataset's catalog stands, and what a run would change in it: ``etl dataset status |
plan`` as library calls, beside :mod:`etl.runner.app`.

:func:`dataset_status` reads what PgSTAC holds (:func:`etl.pgstac.catalog_state.collection_state`),
the last successful run and the failed assets no later run fixed
(:func:`etl.dataset.run_history.collection_history`) and the runs in progress
(:func:`etl.runner.active_runs.active_runs`) and, for a collection with events, its queue and
consumers (:func:`etl.runner.event_status.event_status`), and the item events waiting undelivered
(:func:`etl.runner.notifications.notification_status`); the catalog page of ``etl serve`` shows
the same.
:func:`dataset_plan` lists the storage and makes every asset's items as a run would
(:func:`etl.task.plan.plan_collection`). Both use the profile's services on this machine
(:class:`etl.core.profile_services.ProfileServices`), write nothing and print nothing: each returns
the stable shape of its command's ``-o json``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from etl.core.profiles.model import Profile
    from etl.core.progress import ProgressReporter
    from etl.dataset.loader import LoadedDataset
    from etl.dataset.model import CollectionConfig
    from etl.runner.workflow_runner import WorkflowRunner

__all__ = ["ProgressSink", "dataset_plan", "dataset_status"]

ProgressSink = Callable[[str], AbstractContextManager["ProgressReporter"]]
"""Given a label, a context whose reporter is told the work done while the block runs."""


class _Unreported:
    """A :class:`~etl.core.progress.ProgressReporter` that shows nothing."""

    def advance(self, count: int = 1) -> None:
        """Nothing to show."""

    def note(self, text: str) -> None:
        """Nothing to show."""


@contextmanager
def _no_progress(_: str) -> Iterator[ProgressReporter]:
    yield _Unreported()


def dataset_status(
    loaded: LoadedDataset,
    selected: Sequence[CollectionConfig],
    profile: Profile,
    runner: WorkflowRunner,
) -> list[dict[str, Any]]:
    """One entry per selected collection, in the stable shape of ``etl dataset status -o json``
    (``collection``, ``pgstac``, ``last_success``, ``recent_runs``, ``outstanding_failures``,
    ``failed_assets``, ``runs_in_progress``, ``events``: ``None`` without events,
    ``notifications``: the item events waiting undelivered, per target).

    Raises:
        RemoteError: PgSTAC or the runner cannot be reached.
        StorageError: a chunk storage cannot be read.
    """
    from etl.core.profile_services import ProfileServices
    from etl.dataset.chunking.create import chunk_storage_of
    from etl.dataset.run_history import collection_history
    from etl.pgstac.catalog_state import collection_state
    from etl.pgstac.session import connect_pgstac
    from etl.runner.active_runs import active_runs
    from etl.runner.event_status import event_status
    from etl.runner.notifications import notification_status

    services = ProfileServices.for_profile(profile)
    running = active_runs(runner, loaded.config.id)
    names = {run.status.name for run in running}
    entries: list[dict[str, Any]] = []
    with connect_pgstac(services.pgstac_dsn()) as conn:
        for chosen in selected:
            storage = chunk_storage_of(chosen, profile=profile, secrets=services.secrets)
            entries.append(
                {
                    "collection": chosen.id,
                    "pgstac": collection_state(conn, chosen.id).to_json(),
                    **collection_history(storage, running=names).to_json(),
                    "runs_in_progress": [
                        run.status.to_json() for run in running if run.covers(chosen.id)
                    ],
                    "events": event_status(conn, chosen, profile),
                    "notifications": notification_status(conn, chosen.id),
                }
            )
    return entries


def dataset_plan(
    loaded: LoadedDataset,
    selected: Sequence[CollectionConfig],
    profile: Profile,
    *,
    deep: bool = False,
    progress: ProgressSink = _no_progress,
) -> list[dict[str, Any]]:
    """One entry per selected collection, in the stable shape of ``etl dataset plan -o json``:
    what a full ``process-items`` run would add, change, keep and remove (counts and examples).

    Args:
        loaded: The dataset.
        selected: Its collections to plan.
        profile: The active profile.
        deep: Make every asset's items; otherwise only those changed since they were loaded, or
            loaded by other code (another bundle digest).
        progress: Given ``"ID: assets planned"`` per collection; told the assets made.

    Raises:
        CollectionClassError: a collection class cannot be imported.
        StorageError: a listing fails.
        RemoteError: PgSTAC cannot be read.
    """
    from etl.argo.bundle import bundle_digest
    from etl.core.profile_services import ProfileServices
    from etl.task.plan import PlanSettings, plan_collection

    services = ProfileServices.for_profile(profile)
    settings = PlanSettings(
        tuple(loaded.code_search_path()),
        loaded.config.blob_hrefs,
        bundle=bundle_digest(loaded),
        deep=deep,
    )
    entries = []
    for chosen in selected:
        with progress(f"{chosen.id}: assets planned") as bar:
            plan = plan_collection(chosen, services, settings, on_assets=bar.advance)
        entries.append(plan.to_json())
    return entries
