"""Where a dataset's collections stand (``etl dataset status`` and the catalog page of ``etl
serve``): what PgSTAC holds (:func:`etl.pgstac.catalog_state.collection_state`), the last
successful run and the failed assets no later run fixed (:func:`etl.dataset.run_history.
collection_history`), and the runs in progress (:func:`etl.runner.active_runs.active_runs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from etl.core.profiles.model import Profile
    from etl.dataset.loader import LoadedDataset
    from etl.dataset.model import CollectionConfig
    from etl.runner.workflow_runner import WorkflowRunner

__all__ = ["dataset_status"]


def dataset_status(
    loaded: LoadedDataset,
    selected: Sequence[CollectionConfig],
    profile: Profile,
    runner: WorkflowRunner,
) -> list[dict[str, Any]]:
    """One entry per selected collection, in the stable shape of ``etl dataset status -o json``
    (``collection``, ``pgstac``, ``last_success``, ``recent_runs``, ``outstanding_failures``,
    ``failed_assets``, ``runs_in_progress``).

    Raises:
        RemoteError: PgSTAC or the runner cannot be reached.
        StorageError: a chunk storage cannot be read.
    """
    from etl.dataset.chunking.create import chunk_storage_of
    from etl.dataset.run_history import collection_history
    from etl.pgstac.catalog_state import collection_state
    from etl.pgstac.session import connect_pgstac
    from etl.runner.active_runs import active_runs
    from etl.task.environment import TaskEnvironment

    environment = TaskEnvironment.for_profile(profile)
    running = active_runs(runner, loaded.config.id)
    names = {run.status.name for run in running}
    entries: list[dict[str, Any]] = []
    with connect_pgstac(environment.pgstac_dsn()) as conn:
        for chosen in selected:
            storage = chunk_storage_of(chosen, profile=profile, secrets=environment.secrets)
            entries.append(
                {
                    "collection": chosen.id,
                    "pgstac": collection_state(conn, chosen.id).to_json(),
                    **collection_history(storage, running=names).to_json(),
                    "runs_in_progress": [
                        run.status.to_json() for run in running if run.covers(chosen.id)
                    ],
                }
            )
    return entries
