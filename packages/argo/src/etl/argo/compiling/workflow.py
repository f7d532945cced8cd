"""Compile a dataset to an Argo ``Workflow`` (or ``CronWorkflow``) manifest with Hera's models.

One workflow per command; its templates come from :mod:`etl.argo.compiling.dataset_dags`. The
manifest never holds an asset URI, so its size and the number of nodes (at most
``workflow.max_pods`` fan-out pods in all, plus five per collection and one) do not depend on how
many assets there are. See ``docs/argo.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from etl.argo.bundle import CodeBundle, plan_bundle
from etl.argo.compiling.cluster_storage import check_cluster_storage
from etl.argo.compiling.dataset_dags import DatasetTemplates
from etl.argo.compiling.models import CronWorkflow, CronWorkflowSpec, ObjectMeta, WorkflowMetadata
from etl.argo.compiling.names import cron_workflow_name, generate_name
from etl.argo.compiling.spec import (
    API_VERSION,
    manifest_dict,
    version_labels,
    workflow_manifest,
    workflow_spec,
)
from etl.argo.options import RunRequest, WorkflowCommand
from etl.core.pod_contract import COLLECTION_LABEL, DATASET_LABEL, label_value
from etl.core.profiles.model import Profile
from etl.core.profiles.storage_check import check_storage_uris
from etl.dataset.loader import LoadedDataset
from etl.dataset.model import CollectionConfig

__all__ = ["CRON_STARTING_DEADLINE_SECONDS", "compile_workflow", "storage_uris"]

CRON_STARTING_DEADLINE_SECONDS = 600


def compile_workflow(
    dataset: LoadedDataset,
    request: RunRequest | WorkflowCommand,
    profile: Profile,
    *,
    bundle: CodeBundle | None = None,
) -> dict[str, Any]:
    """The Argo manifest (a ``Workflow``, or a ``CronWorkflow`` with a schedule) as a dict.

    Args:
        dataset: The loaded, templated dataset (``etl.dataset.load_dataset``).
        request: The command and its options (a bare command: no options, every collection).
        profile: The active profile (namespace, image fallback, service account, limits, secrets).
        bundle: The code bundle, when already planned (default: planned here, not uploaded).

    Raises:
        InputError: An unknown collection (exit 2).
        ConfigError: The dataset has no image, or its code files are missing, or on Argo its
            asset or chunk storage is a local path (located).
        ProfileError: The profile cannot run the workflow safely (e.g. a DSN with a password),
            has no credential that can work for a storage account the workflow uses, or on Argo
            its ``workflow.state_storage`` is a local path a collection uses.
    """
    options = request if isinstance(request, RunRequest) else RunRequest(request)
    selected = dataset.select_collections(options.collections or ())
    if options.command is not WorkflowCommand.INGEST_COLLECTION:
        check_cluster_storage(dataset, selected, profile)
    uris = list(storage_uris(selected, profile))
    check_storage_uris(profile, uris)
    templates = DatasetTemplates(
        dataset=dataset,
        profile=profile,
        options=options,
        bundle=bundle or plan_bundle(dataset, profile),
        collections=selected,
    ).templates()
    labels = {
        DATASET_LABEL: label_value(dataset.config.id),
        **version_labels(options.command.value),
    }
    if len(selected) == 1:
        labels[COLLECTION_LABEL] = label_value(selected[0].id)
    if options.schedule is None:
        name = generate_name(options.command.value, dataset.config.id)
        return manifest_dict(workflow_manifest(profile, name, labels, templates, uris))
    spec = workflow_spec(profile, templates, labels, uris)
    # The workflows the schedule starts carry the same labels (spec.workflowMetadata).
    spec.workflow_metadata = WorkflowMetadata(labels=labels)
    cron = CronWorkflow(
        api_version=API_VERSION,
        kind="CronWorkflow",
        metadata=ObjectMeta(
            name=cron_workflow_name(dataset.config.id, options.command.value),
            namespace=profile.argo.namespace,
            labels=labels,
        ),
        spec=CronWorkflowSpec(
            schedules=[options.schedule],
            timezone=options.timezone,
            concurrency_policy="Forbid",
            starting_deadline_seconds=CRON_STARTING_DEADLINE_SECONDS,
            workflow_spec=spec,
        ),
    )
    return manifest_dict(cron)


def storage_uris(
    collections: list[CollectionConfig], profile: Profile
) -> Iterator[tuple[str, bool]]:
    """Every storage URI the workflow uses, and whether the dataset gives a SAS token for it."""
    for collection in collections:
        yield from ((entry.uri, bool(entry.token)) for entry in collection.asset_storage)
        if collection.chunk_storage is not None:
            yield collection.chunk_storage.uri, bool(collection.chunk_storage.token)
    for uri in (profile.workflow.code_storage, profile.workflow.state_storage):
        if uri:
            yield uri, False
