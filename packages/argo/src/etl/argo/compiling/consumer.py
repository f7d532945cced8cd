"""Compile a collection's event consumer: a one-pod ``Workflow`` running ``etl-task consume-events``.

The local runner runs it as KEDA's ``ScaledJob`` runs its job on a cluster: one pod that consumes
the collection's queue in micro-batches and ends once the queue has been empty ``idle_exit``
seconds (``etl dataset stream --submit``, :mod:`etl.runner.stream`). Its container is a dataset
container like every other: the dataset's image, the pod environment of
:mod:`~etl.argo.compiling.pod_environment` (the dataset's secrets and ``environment`` included), the
``create-items`` task settings of the collection (resources, node selector, tolerations) and no
retry: a consumer that fails ends, and the scaler starts another while messages wait.
"""

from __future__ import annotations

from typing import Any

from etl.argo.bundle import CodeBundle
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
from etl.argo.compiling.task_command import consume_events_command
from etl.argo.pod_secrets import document_secret_names
from etl.core.pod_contract import COLLECTION_LABEL, CONSUME_EVENTS, DATASET_LABEL, label_value
from etl.core.profiles.model import Profile
from etl.core.profiles.storage_check import check_storage_uris
from etl.dataset.loader import LoadedDataset
from etl.dataset.model import TaskConfig, TaskName

__all__ = ["compile_consumer"]


def compile_consumer(
    dataset: LoadedDataset,
    collection_id: str,
    profile: Profile,
    *,
    bundle: CodeBundle,
    idle_exit: float,
) -> dict[str, Any]:
    """The ``Workflow`` of one consumer pod of ``collection_id``'s events, as a dict.

    Raises:
        InputError: An unknown collection.
        ConfigError: The dataset has no image (located).
        ProfileError: No credential that can work for the collection's asset storage.
    """
    [collection] = dataset.select_collections([collection_id])
    config = dataset.config
    image = config.image or task_image(profile)
    if not image:
        raise dataset.error(
            ("id",), "no image: set the dataset's image or the profile's workflow.image"
        )
    storage_uris = [(entry.uri, bool(entry.token)) for entry in collection.asset_storage]
    check_storage_uris(profile, storage_uris)
    secrets = document_secret_names(dataset.resolved_document())
    containers = ContainerTemplates(image, tuple(pod_env(profile, secrets, config.environment)))
    settings = ((config.task_config or {}).get(collection.id) or {}).get(TaskName.CREATE_ITEMS)
    no_retry = (settings or TaskConfig()).model_copy(update={"retries": 0})
    command = CONSUME_EVENTS.name
    templates = [
        dag_template(ENTRYPOINT, [dag_task(command, command)]),
        containers.template(
            command,
            consume_events_command(bundle.dataset_uri, collection.id, idle_exit=idle_exit),
            no_retry,
        ),
    ]
    labels = {
        DATASET_LABEL: label_value(config.id),
        COLLECTION_LABEL: label_value(collection.id),
        **version_labels(command),
    }
    name = generate_name(command, collection.id)
    return manifest_dict(workflow_manifest(profile, name, labels, templates, storage_uris))
