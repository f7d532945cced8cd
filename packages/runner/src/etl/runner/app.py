"""The application layer of the dataset work commands: one call per command line.

``etl dataset render | process-items | create-chunks | ingest-collection`` parse their options
into one :class:`etl.argo.RunRequest` and call :func:`run_dataset_work`, which does the rest in
order: warm the local runner's task server (while the dataset loads and compiles), compile,
then upload and submit (and follow the run to its end: :mod:`etl.runner.following`), or upload
and schedule; the CLI prints what it returns. A test or another front end calls the same
function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from etl.runner.following import NOT_FOLLOWED, Following, RunEnd, follow_submitted
from etl.runner.work import (
    PreparedWork,
    cron_client,
    prepare_dataset_work,
    schedule_work,
    submit_work,
    upload_work,
)

if TYPE_CHECKING:
    from etl.argo.options import RunRequest
    from etl.core.profiles.model import Profile
    from etl.dataset.loader import LoadedDataset
    from etl.runner.argo_server.cron import CronApplied
    from etl.runner.workflow_runner import WorkflowRunner
    from etl.runner.workflow_status import SubmittedWorkflow

__all__ = ["DatasetWork", "run_dataset_work"]


@dataclass(frozen=True)
class DatasetWork:
    """What :func:`run_dataset_work` did.

    Attributes:
        prepared: The compiled manifest and its code bundle.
        submitted: The workflow submitted to the runner, if one was.
        scheduled: The ``CronWorkflow`` created or updated, if the request has a schedule.
        ended: How the submitted workflow ended and what it did, if it was followed.
    """

    prepared: PreparedWork
    submitted: SubmittedWorkflow | None = None
    scheduled: CronApplied | None = None
    ended: RunEnd | None = None


def run_dataset_work(
    load: Callable[[], LoadedDataset],
    request: RunRequest,
    profile: Profile,
    *,
    runner: WorkflowRunner | None = None,
    upload: bool = False,
    report: Callable[[str], None] = lambda line: None,
    following: Following = NOT_FOLLOWED,
) -> DatasetWork:
    """Compile the workflow ``request`` asks for, and with a ``runner`` submit or schedule it.

    Args:
        load: Loads the dataset (called once the runner's warm-up has started).
        request: The command and its options.
        profile: The active profile.
        runner: The profile's runner: submit the workflow (a schedule: create the
            ``CronWorkflow`` on its Argo Server). ``None``: compile only.
        upload: Without a runner, upload what the pods read all the same (``--upload-bundle``).
        report: Gets one line per upload.
        following: How a submitted workflow is followed (:func:`etl.runner.following.
            follow_submitted`: with ``wait``, or on a runner that runs to completion).

    Raises:
        InputError: A schedule on the local runner, a preflight problem, an unknown collection.
        ConfigError: The dataset cannot compile (located).
        StorageError: An upload failed (nothing was submitted).
        RemoteError: The runner or the Argo Server refused or could not be reached.
    """
    client = None
    if runner is not None and request.schedule is not None:
        client = cron_client(runner, "--schedule with --submit")
    elif runner is not None:
        runner.prepare()  # the local runner warms its task server while the dataset compiles
    prepared = prepare_dataset_work(load(), request, profile)
    if client is not None:
        return DatasetWork(
            prepared, scheduled=schedule_work(prepared, client, profile, report=report)
        )
    if runner is not None:
        submitted = submit_work(prepared, runner, profile, report=report)
        ended = follow_submitted(runner, profile, submitted, following)
        return DatasetWork(prepared, submitted=submitted, ended=ended)
    if upload:
        upload_work(prepared, profile, report=report)
    return DatasetWork(prepared)
