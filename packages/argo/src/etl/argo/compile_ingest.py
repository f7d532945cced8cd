"""Compile ``etl ingest collection | items`` to a one-step Argo ``Workflow``.

The workflow's ``main`` DAG runs one container: ``etl-task ingest-collection --file SOURCE`` or
``etl-task ingest-items SOURCE... --collection ID --method M``. The manifest names the files, never
the items, so its size grows with the number of SOURCE arguments only. Image, pod environment,
retries and workflow settings are those of the dataset workflows (:mod:`etl.argo.compile`); an
``ingest-items`` step holds the PgSTAC semaphore like every step that loads items. See
``docs/argo.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from etl.argo._hera_models import hera_models
from etl.argo.compile import ENTRYPOINT, etl_version, task_image, workflow_spec
from etl.argo.compile_names import dns_label, label_value
from etl.argo.compile_templates import ContainerTemplates
from etl.argo.ingest_sources import IngestSource
from etl.argo.pod_environment import pod_env
from etl.argo.task_command import ingest_collection_file_command, ingest_items_command
from etl.core.errors import InputError, OptionError, ProfileError
from etl.core.pod_contract import INGEST_COLLECTION, INGEST_ITEMS, LoadMethod
from etl.core.profiles.model import Profile
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
) -> dict[str, Any]:
    m = hera_models()
    image = task_image(profile)
    if not image:
        raise ProfileError(f"profile {profile.name!r}: set workflow.image (the etl-task image)")
    containers = ContainerTemplates(m, image, tuple(pod_env(m, profile, ())))
    templates = [
        m.Template(
            name=ENTRYPOINT,
            dag=m.DAGTemplate(tasks=[m.DAGTask(name=command, template=command)]),
        ),
        containers.template(command, args, config, ingests_into_pgstac=loads_items),
    ]
    labels = {"etl.dev/command": command, "etl.dev/version": label_value(etl_version())}
    name = command
    if collection_id is not None:
        labels["etl.dev/collection"] = label_value(collection_id)
        name = f"{command}-{dns_label(collection_id)}"
    manifest = m.Workflow(
        api_version="argoproj.io/v1alpha1",
        kind="Workflow",
        metadata=m.ObjectMeta(
            generate_name=f"{name}-", namespace=profile.argo.namespace, labels=labels
        ),
        spec=workflow_spec(m, profile, templates, labels),
    )
    result: dict[str, Any] = manifest.model_dump(mode="json", by_alias=True, exclude_none=True)
    return result


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
        ProfileError: The profile has no image for an Argo runner, or a DSN with a password.
    """
    return _workflow(
        INGEST_COLLECTION.name,
        ingest_collection_file_command(source.uri),
        profile,
        config=_retries(retries, LoadMethod.UPSERT),
        collection_id=None,
        loads_items=False,
    )


def compile_ingest_items(
    sources: Sequence[IngestSource],
    collection_id: str,
    profile: Profile,
    *,
    method: LoadMethod = LoadMethod.UPSERT,
    retries: int | None = None,
) -> dict[str, Any]:
    """The ``Workflow`` that loads the ndjson files ``sources`` into collection ``collection_id``.

    Args:
        sources: The planned files (:func:`etl.argo.plan_sources`), loaded in this order.
        collection_id: The collection every item must belong to; it must exist in PgSTAC.
        profile: The active profile (namespace, image, service account, limits, PgSTAC DSN).
        method: ``upsert`` (replace existing ids), ``insert`` (fail on them), ``ignore`` (keep them).
        retries: Retries of the step (default 3 with backoff; 0 for ``insert``).

    Raises:
        InputError: No sources, an unknown method, an empty collection id, or negative retries.
        ProfileError: The profile has no image for an Argo runner, or a DSN with a password.
    """
    if not sources:
        raise InputError("give at least one ndjson file to load")
    try:
        method = LoadMethod(method)
    except ValueError:
        raise OptionError("method", f"{method!r}: use one of {', '.join(LoadMethod)}") from None
    if not collection_id.strip():
        raise OptionError("collection", ": give the id of the collection to load into")
    return _workflow(
        INGEST_ITEMS.name,
        ingest_items_command([source.uri for source in sources], collection_id, method),
        profile,
        config=_retries(retries, method),
        collection_id=collection_id,
        loads_items=True,
    )
