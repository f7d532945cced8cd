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
from etl.argo.compiling.dataset_dags import EXIT_HANDLER, DatasetTemplates
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
from etl.core.pod_contract import (
    COLLECTION_LABEL,
    DATASET_LABEL,
    WORKFLOW_NAME,
    argo_tag,
    label_value,
)
from etl.core.profiles.argo_urls import server_base_url, workflow_page_url
from etl.core.profiles.model import Profile, RunnerKind
from etl.core.profiles.storage_check import check_storage_uris
from etl.dataset.loader import LoadedDataset
from etl.dataset.model import CollectionConfig
from etl.dataset.run_outcome import run_targets

__all__ = ["CRON_STARTING_DEADLINE_SECONDS", "compile_workflow", "run_page_url", "storage_uris"]

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
    builder = DatasetTemplates(
        dataset=dataset,
        profile=profile,
        options=options,
        bundle=bundle or plan_bundle(dataset, profile),
        collections=selected,
    )
    templates = builder.templates()
    on_exit = None
    if run_targets(dataset.config, [c.id for c in selected], profile):
        templates.append(builder.exit_handler(run_url=run_page_url(profile)))
        on_exit = EXIT_HANDLER
    labels = {
        DATASET_LABEL: label_value(dataset.config.id),
        **version_labels(options.command.value),
    }
    if len(selected) == 1:
        labels[COLLECTION_LABEL] = label_value(selected[0].id)
    if options.schedule is None:
        name = generate_name(options.command.value, dataset.config.id)
        manifest = workflow_manifest(profile, name, labels, templates, uris, on_exit=on_exit)
        return manifest_dict(manifest)
    spec = workflow_spec(profile, templates, labels, uris, on_exit=on_exit)
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


def run_page_url(profile: Profile) -> str | None:
    """The run's page in the Argo UI (Argo fills in its name), for an Argo profile that names its
    server; ``None`` otherwise (the exit handler then links to the local run's folder)."""
    base = server_base_url(profile.argo)
    if profile.runner is not RunnerKind.ARGO or base is None:
        return None
    return workflow_page_url(
        base, profile.argo.namespace, argo_tag(WORKFLOW_NAME), quote_name=False
    )


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
