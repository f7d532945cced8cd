"""A collection's stream on a cluster: a KEDA ``ScaledJob`` on its Storage Queue (docs/streaming.md).

For each selected collection with ``events:`` the compiler writes two KEDA objects, both named
``DATASET-COLLECTION-stream`` (:func:`~etl.argo.compiling.names.scaled_job_name`):

- a ``TriggerAuthentication`` with ``podIdentity: {provider: azure-workload}``: KEDA reads the
  queue's depth with workload identity, as the pods reach it (on a cluster the profile's storage
  keys never leave this machine);
- a ``ScaledJob`` whose ``azure-queue`` trigger (``queueName``, ``accountName``, ``queueLength`` =
  the collection's ``events.batch_size``) starts up to ``stream.max_pods`` Jobs as the queue
  deepens, none when it is empty, looking every ``stream.polling_interval`` seconds. Each Job's
  pod runs ``etl-task consume-events --dataset URI --collection ID --idle-exit SECONDS`` in the
  image, with the environment, resources, node selector and tolerations of the collection's
  ``process-chunks`` pods (:func:`~etl.argo.compiling.dataset_dags.task_containers`,
  :func:`~etl.argo.compiling.dataset_dags.process_config`), reads the code bundle those pods read,
  and ends once the queue has been idle ``stream.idle_exit`` seconds, or after
  ``stream.active_deadline_seconds``. A Job is never retried (``backoffLimit: 0``): its messages
  come back after their visibility timeout and the next Job takes them.

Every object is checked against KEDA's own CRD schema (:mod:`~etl.argo.compiling.keda_schema`)
before it is returned: a manifest that breaks it is a bug, never printed or applied.
"""

from __future__ import annotations

from typing import Any

from etl.argo.bundle import CodeBundle, plan_bundle
from etl.argo.compiling.cluster_storage import check_cluster_storage
from etl.argo.compiling.dataset_dags import process_config, task_containers
from etl.argo.compiling.keda_schema import manifest_errors
from etl.argo.compiling.models import argo_dict
from etl.argo.compiling.names import scaled_job_name
from etl.argo.compiling.pod_environment import pod_labels
from etl.argo.compiling.spec import version_labels
from etl.argo.compiling.task_command import consume_events_command
from etl.argo.compiling.workflow import storage_uris
from etl.core.errors import InputError
from etl.core.pod_contract import COLLECTION_LABEL, CONSUME_EVENTS, DATASET_LABEL, label_value
from etl.core.profiles.model import Profile
from etl.core.profiles.storage_check import check_storage_uris
from etl.core.queues.uris import parse_queue_uri
from etl.dataset.loader import LoadedDataset
from etl.dataset.model import CollectionConfig, EventsConfig

__all__ = [
    "JOBS_HISTORY",
    "KEDA_API_VERSION",
    "SCALED_JOB",
    "STREAM_COMMAND",
    "TRIGGER_AUTHENTICATION",
    "compile_stream",
    "stream_namespace",
]

KEDA_API_VERSION = "keda.sh/v1alpha1"
SCALED_JOB = "ScaledJob"
TRIGGER_AUTHENTICATION = "TriggerAuthentication"
STREAM_COMMAND = "stream"
"""The ``etl.dev/command`` label of a stream's objects and pods."""
JOBS_HISTORY = 5
"""Finished Jobs KEDA keeps of each kind (succeeded, failed), for ``kubectl logs``."""
AZURE_QUEUE_TRIGGER = "azure-queue"
WORKLOAD_IDENTITY_PROVIDER = "azure-workload"


def stream_namespace(profile: Profile) -> str:
    """Where a stream's objects live: ``kubernetes.namespace``, else ``argo.namespace``."""
    return profile.kubernetes.namespace or profile.argo.namespace


def compile_stream(
    dataset: LoadedDataset,
    collections: tuple[str, ...] | None,
    profile: Profile,
    *,
    bundle: CodeBundle | None = None,
) -> list[dict[str, Any]]:
    """The KEDA objects of the streams of ``collections`` (``None``: every collection with
    ``events``), each collection's ``TriggerAuthentication`` before its ``ScaledJob``.

    Raises:
        InputError: An unknown collection, a chosen collection without ``events``, or none with.
        ConfigError: The dataset has no image, its code files are missing, or on a cluster its
            storage is a local path (located).
        ProfileError: The profile cannot give the pods their environment safely.
    """
    selected = dataset.select_collections(collections or ())
    streamed = [collection for collection in selected if collection.events is not None]
    without = [collection.id for collection in selected if collection.events is None]
    if not streamed or (collections and without):
        ids = ", ".join(without)
        raise InputError(
            f"dataset {dataset.config.id!r}: no events to stream for collection(s) {ids}; add "
            "collections[].events.queue: queue://ACCOUNT/NAME (docs/streaming.md)"
        )
    check_cluster_storage(dataset, streamed, profile)
    check_storage_uris(profile, list(storage_uris(streamed, profile)))
    dataset_uri = (bundle or plan_bundle(dataset, profile)).dataset_uri
    manifests: list[dict[str, Any]] = []
    for collection in streamed:
        manifests += _collection_stream(dataset, collection, profile, dataset_uri)
    for manifest in manifests:
        errors = manifest_errors(manifest)
        if errors:
            raise RuntimeError(f"etl wrote a {manifest['kind']} KEDA refuses: {errors[0]}")
    return manifests


def _collection_stream(
    dataset: LoadedDataset, collection: CollectionConfig, profile: Profile, dataset_uri: str
) -> list[dict[str, Any]]:
    events = collection.events
    assert events is not None
    name = scaled_job_name(dataset.config.id, collection.id)
    labels = {
        DATASET_LABEL: label_value(dataset.config.id),
        COLLECTION_LABEL: label_value(collection.id),
        **version_labels(STREAM_COMMAND),
    }
    metadata = {"name": name, "namespace": stream_namespace(profile), "labels": labels}
    authentication = {
        "apiVersion": KEDA_API_VERSION,
        "kind": TRIGGER_AUTHENTICATION,
        "metadata": metadata,
        "spec": {"podIdentity": {"provider": WORKLOAD_IDENTITY_PROVIDER}},
    }
    scaled_job = {
        "apiVersion": KEDA_API_VERSION,
        "kind": SCALED_JOB,
        "metadata": metadata,
        "spec": {
            "jobTargetRef": _job_spec(dataset, collection, profile, dataset_uri, labels),
            "pollingInterval": profile.stream.polling_interval,
            "successfulJobsHistoryLimit": JOBS_HISTORY,
            "failedJobsHistoryLimit": JOBS_HISTORY,
            "maxReplicaCount": profile.stream.max_pods,
            "triggers": [_trigger(events, name)],
        },
    }
    return [authentication, scaled_job]


def _trigger(events: EventsConfig, authentication: str) -> dict[str, Any]:
    """KEDA's ``azure-queue`` scaler: one Job per ``batch_size`` messages waiting."""
    queue = parse_queue_uri(events.queue)
    return {
        "type": AZURE_QUEUE_TRIGGER,
        "metadata": {
            "queueName": queue.name,
            "accountName": queue.account,
            "queueLength": str(events.batch_size),
        },
        "authenticationRef": {"name": authentication},
    }


def _job_spec(
    dataset: LoadedDataset,
    collection: CollectionConfig,
    profile: Profile,
    dataset_uri: str,
    labels: dict[str, str],
) -> dict[str, Any]:
    """The Job each scaling step starts: one consumer pod, never retried, within its deadline."""
    containers = task_containers(dataset, profile)
    config = process_config(dataset.config, collection.id)
    args = consume_events_command(dataset_uri, collection.id, idle_exit=profile.stream.idle_exit)
    container = containers.container(args, config)
    container.name = CONSUME_EVENTS.name
    assert collection.events is not None
    uris = [*storage_uris([collection], profile), (collection.events.queue, False)]
    pod: dict[str, Any] = {
        "containers": [argo_dict(container)],
        "restartPolicy": "Never",
    }
    if profile.argo.service_account:
        pod["serviceAccountName"] = profile.argo.service_account
    if config is not None and config.node_selector:
        pod["nodeSelector"] = config.node_selector
    tolerations = containers.tolerations(config)
    if tolerations:
        pod["tolerations"] = argo_dict(tolerations)
    return {
        "activeDeadlineSeconds": profile.stream.active_deadline_seconds,
        "backoffLimit": 0,
        "template": {
            "metadata": {"labels": {**labels, **pod_labels(profile, uris)}},
            "spec": pod,
        },
    }
