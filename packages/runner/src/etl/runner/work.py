"""The work commands as library calls: prepare a workflow (compile it), then submit it.

:func:`prepare_dataset_work`, :func:`prepare_collection_ingest` and :func:`prepare_items_ingest`
compile a manifest and plan what must be uploaded for it to run (the dataset's code bundle, local
files to ingest); nothing is written. :func:`upload_work` uploads those (the one upload path);
:func:`submit_work` then hands the manifest to a runner, :func:`schedule_work` creates or updates a
``CronWorkflow`` on the Argo Server (:func:`cron_client`). The CLI (``etl dataset process-items``, ``etl ingest items``, ...) is a thin shell over
these; waiting for the end is :meth:`etl.runner.workflow_runner.WorkflowRunner.wait`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from etl.core.profiles.model import Profile, RunnerKind
from etl.runner.workflow_runner import WorkflowRunner
from etl.runner.workflow_status import SubmittedWorkflow

if TYPE_CHECKING:
    from etl.argo.bundle import CodeBundle
    from etl.argo.ingest_sources import IngestSource, SourceList
    from etl.argo.options import RunRequest
    from etl.core.pod_contract import LoadMethod
    from etl.dataset.loader import LoadedDataset
    from etl.runner.argo_server.client import ArgoClient
    from etl.runner.argo_server.cron import CronApplied

__all__ = [
    "LOCAL_HAS_NO_CRON",
    "PreparedWork",
    "cron_client",
    "prepare_collection_ingest",
    "prepare_dataset_work",
    "prepare_items_ingest",
    "schedule_work",
    "submit_work",
    "upload_work",
]

LOCAL_HAS_NO_CRON = (
    "the local runner has no cron: run `etl dataset process-items --submit` from your own "
    "scheduler, or use a profile with runner argo (a CronWorkflow on the Argo Server)"
)


@dataclass(frozen=True)
class PreparedWork:
    """A compiled manifest and what must be uploaded before its pods can run.

    Attributes:
        manifest: The Argo ``Workflow`` (or ``CronWorkflow``) manifest.
        bundle: The dataset's code bundle, for dataset work.
        sources: The files to ingest, for ``etl ingest`` work (some to upload).
        source_list: The list file naming many ``sources`` for the pod (to upload).
        dataset: The dataset of dataset work, and its ``collections`` (``None``: all), which
            the preflight checks.
    """

    manifest: dict[str, Any]
    bundle: CodeBundle | None = None
    sources: tuple[IngestSource, ...] = ()
    source_list: SourceList | None = None
    dataset: LoadedDataset | None = None
    collections: tuple[str, ...] | None = None


def prepare_dataset_work(
    dataset: LoadedDataset, request: RunRequest, profile: Profile
) -> PreparedWork:
    """Plan the dataset's code bundle and compile the workflow ``request`` asks for
    (:func:`etl.argo.compile_workflow`).

    Raises:
        InputError: An unknown collection.
        ConfigError: The dataset has no image, or its code files are missing (located).
        ProfileError: The profile cannot run the workflow (e.g. nowhere to put the bundle).
    """
    from etl.argo.bundle import plan_bundle
    from etl.argo.compiling.workflow import compile_workflow

    bundle = plan_bundle(dataset, profile)
    manifest = compile_workflow(dataset, request, profile, bundle=bundle)
    return PreparedWork(manifest, bundle=bundle, dataset=dataset, collections=request.collections)


def prepare_collection_ingest(
    path: str, profile: Profile, *, retries: int | None = None
) -> PreparedWork:
    """A one-step workflow that upserts the collection JSON file at ``path``.

    Raises:
        InputError: ``path`` is missing, unreadable by the profile's pods, or of another scheme.
    """
    from etl.argo.compiling.ingest import compile_ingest_collection
    from etl.argo.ingest_sources import plan_sources

    sources = plan_sources([path], profile)
    manifest = compile_ingest_collection(sources[0], profile, retries=retries)
    return PreparedWork(manifest, sources=sources)


def prepare_items_ingest(
    paths: Sequence[str],
    collection: str,
    profile: Profile,
    *,
    method: LoadMethod,
    retries: int | None = None,
) -> PreparedWork:
    """A one-step workflow that loads the ndjson files ``paths`` into ``collection``.

    Raises:
        InputError: A file is missing, unreadable by the profile's pods, or of another scheme.
    """
    from etl.argo.compiling.ingest import compile_ingest_items
    from etl.argo.ingest_sources import plan_source_list, plan_sources

    sources = plan_sources(paths, profile)
    source_list = plan_source_list(sources, profile)
    manifest = compile_ingest_items(
        sources, collection, profile, method=method, retries=retries, source_list=source_list
    )
    return PreparedWork(manifest, sources=sources, source_list=source_list)


def upload_work(
    work: PreparedWork, profile: Profile, *, report: Callable[[str], None] = lambda line: None
) -> None:
    """Upload what the pods of ``work`` read: the code bundle, local files to ingest and their
    list; ``report`` gets one line per upload. The one upload path of a submit, a schedule and
    ``--upload-bundle``.

    Raises:
        StorageError: An upload failed.
    """
    from etl.argo.bundle import upload_bundle
    from etl.argo.ingest_sources import upload_source_list, upload_sources

    if work.bundle is not None:
        report(f"uploading the code bundle to {work.bundle.uri}")
        upload_bundle(work.bundle, profile)
    for source in upload_sources(work.sources, profile):
        report(f"uploaded {source.given} to {source.uri}")
    if work.source_list is not None and upload_source_list(work.source_list, profile):
        report(f"uploaded the list of {len(work.sources)} sources to {work.source_list.uri}")


def submit_work(
    work: PreparedWork,
    runner: WorkflowRunner,
    profile: Profile,
    *,
    report: Callable[[str], None] = lambda line: None,
) -> SubmittedWorkflow:
    """Upload what ``work`` needs (:func:`upload_work`), then submit its manifest to ``runner``.

    ``report`` gets one line per upload. On a runner that runs to completion
    (:attr:`~etl.runner.workflow_runner.WorkflowRunner.runs_to_completion`) this returns once the workflow
    has ended.

    Dataset work on the local runner is preceded by one preflight (:mod:`etl.runner.preflight`):
    every service and secret the run needs, asked in seconds.

    Raises:
        InputError: The preflight found a configuration problem (a missing secret, a refused
            credential); nothing was submitted.
        StorageError: An upload failed (nothing was submitted).
        RemoteError: The runner refused the workflow or could not be reached, or the preflight
            found a service not reachable.
    """
    if work.dataset is not None and runner.kind == RunnerKind.LOCAL:
        from etl.runner.preflight import preflight

        preflight(profile, dataset=work.dataset, collections=work.collections).raise_for_problems()
    upload_work(work, profile, report=report)
    return runner.submit(work.manifest)


def cron_client(runner: WorkflowRunner, what: str) -> ArgoClient:
    """``runner`` as the Argo client that holds cron workflows; the local runner is refused.

    Raises:
        InputError: The profile runs workflows locally (``what`` names what asked).
    """
    from etl.core.errors import InputError
    from etl.runner.argo_server.client import ArgoClient

    if not isinstance(runner, ArgoClient):
        raise InputError(f"{what}: {LOCAL_HAS_NO_CRON}")
    return runner


def schedule_work(
    work: PreparedWork,
    client: ArgoClient,
    profile: Profile,
    *,
    report: Callable[[str], None] = lambda line: None,
) -> CronApplied:
    """Upload what the ``CronWorkflow`` of ``work`` needs (:func:`upload_work`), then create it,
    or update the one of its name.

    Raises:
        RemoteError: The server is older than v3.6, or refused the request.
        StorageError: An upload failed (nothing was created).
    """
    client.check_version()  # before uploading anything for a server that would be refused
    upload_work(work, profile, report=report)
    return client.apply_cron(work.manifest)
