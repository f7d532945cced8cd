"""Compile ``etl ingest collection | items`` to a one-step Argo ``Workflow``.

The workflow's ``main`` DAG runs one container: ``etl-task ingest-collection --file SOURCE`` or
``etl-task ingest-items SOURCE... --collection ID --method M``. The manifest names the files, never
the items; past :data:`~etl.argo.ingest_sources.INLINE_SOURCES` files it names only a list file of
them (``--sources-file URI``), so its size stays the same however many files are loaded. Image, pod environment,
retries and workflow settings are those of the dataset workflows (:mod:`etl.argo.compiling.spec`); an
``ingest-items`` step holds the PgSTAC semaphore like every step that loads items. See
``docs/argo.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from etl.argo.compiling.containers import ContainerTemplates
from etl.argo.compiling.names import generate_name
from etl.argo.compiling.pod_environment import pod_env
from etl.argo.compiling.spec import (
    ENTRYPOINT,
    dag_task,
    dag_template,
    manifest_dict,
    task_image,
    version_labels,
    workflow_manifest,
)
from etl.argo.compiling.task_command import ingest_collection_file_command, ingest_items_command
from etl.argo.ingest_sources import IngestSource, SourceList
from etl.core.errors import InputError, OptionError, ProfileError
from etl.core.pod_contract import (
    COLLECTION_LABEL,
    INGEST_COLLECTION,
    INGEST_ITEMS,
    LoadMethod,
    label_value,
)
from etl.core.profiles.model import Profile
from etl.core.profiles.storage_check import check_storage_uris
from etl.dataset.model import TaskConfig

__all__ = ["compile_ingest_collection", "compile_ingest_items"]


def _retries(retries: int | None, method: LoadMethod) -> TaskConfig | None:
    """``insert`` is not retried by default: a retry would meet the batches it already loaded."""
    if retries is not None and retries < 0:
        raise OptionError("retries", f"{retries}: give 0 or more")
    if retries is None and method is LoadMethod.INSERT:
        retries = 0
    return None if retries is None else TaskConfig(retries=retries)


def _workflow(
    command: str,
    args: list[str],
    profile: Profile,
    *,
    config: TaskConfig | None,
    collection_id: str | None,
    loads_items: bool,
    sources: list[str],
) -> dict[str, Any]:
    image = task_image(profile)
    if not image:
        raise ProfileError(f"profile {profile.name!r}: set workflow.image (the etl-task image)")
    containers = ContainerTemplates(image, tuple(pod_env(profile, ())))
    templates = [
        dag_template(ENTRYPOINT, [dag_task(command, command)]),
        containers.template(command, args, config, ingests_into_pgstac=loads_items),
    ]
    labels = version_labels(command)
    if collection_id is not None:
        labels[COLLECTION_LABEL] = label_value(collection_id)
    name = generate_name(command, collection_id, subject_first=False)
    storage_uris = [(uri, False) for uri in sources]
    return manifest_dict(workflow_manifest(profile, name, labels, templates, storage_uris))


def compile_ingest_collection(
    source: IngestSource, profile: Profile, *, retries: int | None = None
) -> dict[str, Any]:
    """The ``Workflow`` that upserts the collection JSON file ``source`` into PgSTAC.

    Args:
        source: The planned file (:func:`etl.argo.plan_sources`).
        profile: The active profile (namespace, image, service account, limits, PgSTAC DSN).
        retries: Retries of the step (default 3, with backoff).

    Raises:
        InputError: ``retries`` is negative.
        ProfileError: The profile has no image for an Argo runner, a DSN with a password, or
            no credential that can work for the storage account of a source.
    """
    check_storage_uris(profile, [(source.uri, False)])
    return _workflow(
        INGEST_COLLECTION.name,
        ingest_collection_file_command(source.uri),
        profile,
        config=_retries(retries, LoadMethod.UPSERT),
        collection_id=None,
        loads_items=False,
        sources=[source.uri],
    )


def compile_ingest_items(
    sources: Sequence[IngestSource],
    collection_id: str,
    profile: Profile,
    *,
    method: LoadMethod = LoadMethod.UPSERT,
    retries: int | None = None,
    source_list: SourceList | None = None,
) -> dict[str, Any]:
    """The ``Workflow`` that loads the ndjson files ``sources`` into collection ``collection_id``.

    Args:
        sources: The planned files (:func:`etl.argo.plan_sources`), loaded in this order.
        source_list: The list file naming ``sources`` (:func:`etl.argo.plan_source_list`), which
            the pod then reads instead of taking them as arguments.
        collection_id: The collection every item must belong to; it must exist in PgSTAC.
        profile: The active profile (namespace, image, service account, limits, PgSTAC DSN).
        method: ``upsert`` (replace existing ids), ``insert`` (fail on them), ``ignore`` (keep them).
        retries: Retries of the step (default 3 with backoff; 0 for ``insert``).

    Raises:
        InputError: No sources, an unknown method, an empty collection id, or negative retries.
        ProfileError: The profile has no image for an Argo runner, a DSN with a password, or
            no credential that can work for the storage account of a source.
    """
    if not sources:
        raise InputError("give at least one ndjson file to load")
    try:
        method = LoadMethod(method)
    except ValueError:
        raise OptionError("method", f"{method!r}: use one of {', '.join(LoadMethod)}") from None
    if not collection_id.strip():
        raise OptionError("collection", ": give the id of the collection to load into")
    uris = [source.uri for source in sources]
    list_uri = source_list.uri if source_list is not None else None
    read = [*uris, list_uri] if list_uri else uris
    check_storage_uris(profile, [(uri, False) for uri in read])
    return _workflow(
        INGEST_ITEMS.name,
        ingest_items_command(uris, collection_id, method, sources_file=list_uri),
        profile,
        config=_retries(retries, method),
        collection_id=collection_id,
        loads_items=True,
        sources=read,
    )
