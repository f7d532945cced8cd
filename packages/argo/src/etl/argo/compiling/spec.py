"""The parts every compiled workflow shares: its image, DAG tasks, spec, metadata, and its dict form.

The dataset workflows (:mod:`etl.argo.compiling.workflow`) and the ingest workflows
(:mod:`etl.argo.compiling.ingest`) are built from these, so their settings cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from etl.argo.compiling.models import (
    Arguments,
    CronWorkflow,
    DAGTask,
    DAGTemplate,
    Metadata,
    ObjectMeta,
    Parameter,
    PodGC,
    Template,
    TTLStrategy,
    Workflow,
    WorkflowSpec,
    argo_dict,
)
from etl.argo.compiling.pod_environment import pod_labels
from etl.core.pod_contract import COMMAND_LABEL, VERSION_LABEL, label_value
from etl.core.profiles.model import Profile, RunnerKind

__all__ = [
    "API_VERSION",
    "ENTRYPOINT",
    "StorageUris",
    "dag_task",
    "dag_template",
    "etl_version",
    "manifest_dict",
    "task_image",
    "version_labels",
    "workflow_manifest",
    "workflow_spec",
]

API_VERSION = "argoproj.io/v1alpha1"
ENTRYPOINT = "main"


def etl_version() -> str:
    """The installed etl version (the ``etl.dev/version`` label)."""
    try:
        return version("etl-argo")
    except PackageNotFoundError:
        return "0+unknown"


def version_labels(command: str) -> dict[str, str]:
    """The labels of every workflow: the command it runs and the etl version that compiled it."""
    return {COMMAND_LABEL: command, VERSION_LABEL: label_value(etl_version())}


def task_image(profile: Profile) -> str | None:
    """The profile's ``workflow.image``; for a local runner, which runs no images, a stand-in."""
    if profile.workflow.image:
        return profile.workflow.image
    return f"etl-task:{etl_version()}" if profile.runner is RunnerKind.LOCAL else None


def dag_task(
    name: str,
    template: str,
    depends: str | None = None,
    parameters: Mapping[str, str] | None = None,
) -> DAGTask:
    """A DAG task running ``template``, after ``depends``, with the input ``parameters`` given."""
    arguments = (
        Arguments(parameters=[Parameter(name=k, value=v) for k, v in parameters.items()])
        if parameters
        else None
    )
    return DAGTask(name=name, template=template, depends=depends, arguments=arguments)


def dag_template(name: str, tasks: list[DAGTask], **fields: Any) -> Template:
    """A template running ``tasks`` as a DAG; ``fields`` are further ``Template`` fields."""
    return Template(name=name, dag=DAGTemplate(tasks=tasks), **fields)


StorageUris = Sequence[tuple[str, bool]]
"""``(uri, sas_given)`` of every storage a workflow's pods read or write."""


def workflow_spec(
    profile: Profile,
    templates: list[Template],
    labels: dict[str, str],
    storage_uris: StorageUris,
    *,
    on_exit: str | None = None,
) -> WorkflowSpec:
    """The ``WorkflowSpec`` of ``templates`` (entrypoint ``main``, exit handler ``on_exit``) with
    the profile's settings.

    Its pods carry ``labels``, and the workload-identity label when they authenticate with Azure
    AD (``storage_uris`` reached without a key, or Key Vault).
    """
    settings = profile.workflow
    ttl = settings.ttl_seconds_after_finished
    return WorkflowSpec(
        entrypoint=ENTRYPOINT,
        on_exit=on_exit,
        templates=templates,
        service_account_name=profile.argo.service_account,
        parallelism=settings.parallelism,
        active_deadline_seconds=settings.active_deadline_seconds,
        ttl_strategy=TTLStrategy(seconds_after_completion=ttl) if ttl is not None else None,
        pod_gc=PodGC(strategy="OnPodSuccess"),
        pod_metadata=Metadata(labels={**labels, **pod_labels(profile, storage_uris)}),
    )


def workflow_manifest(
    profile: Profile,
    generate_name: str,
    labels: dict[str, str],
    templates: list[Template],
    storage_uris: StorageUris,
    *,
    on_exit: str | None = None,
) -> Workflow:
    """A ``Workflow`` in the profile's namespace, named ``generate_name`` plus Kubernetes' suffix,
    its exit handler the template ``on_exit``."""
    return Workflow(
        api_version=API_VERSION,
        kind="Workflow",
        metadata=ObjectMeta(
            generate_name=generate_name, namespace=profile.argo.namespace, labels=labels
        ),
        spec=workflow_spec(profile, templates, labels, storage_uris, on_exit=on_exit),
    )


def manifest_dict(manifest: Workflow | CronWorkflow) -> dict[str, Any]:
    """The manifest as Argo reads it: camelCase keys, no unset fields (the one model → dict step)."""
    data: dict[str, Any] = argo_dict(manifest)
    return data
