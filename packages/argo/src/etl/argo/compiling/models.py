"""The Argo objects the compiler builds: light mirrors of Hera's generated models.

Hera's generated models (``hera.workflows.models``, made from Argo Workflows' OpenAPI spec) are
the manifests' schema. Importing them costs more than the rest of ``etl dataset render`` (about
300 pydantic classes are created, whichever few are used), so the compiler builds these
dataclasses instead: each has the name of a Hera model and the fields of it the compiler sets,
with Hera's Python names and types, in Hera's order (alphabetical). :func:`argo_dict` writes one
as Argo reads it, as Hera's ``model_dump(mode="json", by_alias=True, exclude_none=True)`` does:
camelCase names, no unset fields, fields in model order.

Hera stays the schema: ``tests/argo/test_argo_models.py`` checks each class here against its Hera model
(every field, its Argo name, the order) and that Hera's ``Workflow``/``CronWorkflow`` read every
compiled manifest back unchanged; ``tests/argo/test_manifest_schema.py`` checks manifests against the
strict schema derived from Hera; the Argo Server client validates what it submits with Hera's
``Workflow``. Add a field here (in Hera's order) before the compiler sets it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from functools import cache
from typing import Any

__all__ = [
    "ARGO_NAMES",
    "Arguments",
    "Backoff",
    "ConfigMapKeySelector",
    "Container",
    "CronWorkflow",
    "CronWorkflowSpec",
    "DAGTask",
    "DAGTemplate",
    "EnvVar",
    "EnvVarSource",
    "Inputs",
    "Metadata",
    "ObjectMeta",
    "Outputs",
    "Parameter",
    "PodGC",
    "ResourceRequirements",
    "RetryStrategy",
    "SecretKeySelector",
    "SemaphoreRef",
    "Sequence",
    "Synchronization",
    "TTLStrategy",
    "Template",
    "Toleration",
    "ValueFrom",
    "Workflow",
    "WorkflowMetadata",
    "WorkflowSpec",
    "argo_dict",
    "argo_name",
]

ARGO_NAMES = {"pod_gc": "podGC"}
"""Argo's names that are not the camelCase of Hera's field names."""


@dataclass(kw_only=True, slots=True)
class SecretKeySelector:
    key: str
    name: str | None = None
    optional: bool | None = None


@dataclass(kw_only=True, slots=True)
class ConfigMapKeySelector:
    key: str
    name: str | None = None
    optional: bool | None = None


@dataclass(kw_only=True, slots=True)
class EnvVarSource:
    secret_key_ref: SecretKeySelector | None = None


@dataclass(kw_only=True, slots=True)
class EnvVar:
    name: str
    value: str | None = None
    value_from: EnvVarSource | None = None


@dataclass(kw_only=True, slots=True)
class ValueFrom:
    path: str | None = None


@dataclass(kw_only=True, slots=True)
class Parameter:
    name: str
    value: str | None = None
    value_from: ValueFrom | None = None


@dataclass(kw_only=True, slots=True)
class Arguments:
    parameters: list[Parameter] | None = None


@dataclass(kw_only=True, slots=True)
class Inputs:
    parameters: list[Parameter] | None = None


@dataclass(kw_only=True, slots=True)
class Outputs:
    parameters: list[Parameter] | None = None


@dataclass(kw_only=True, slots=True)
class ResourceRequirements:
    limits: dict[str, str] | None = None
    requests: dict[str, str] | None = None


@dataclass(kw_only=True, slots=True)
class Container:
    args: list[str] | None = None
    command: list[str] | None = None
    env: list[EnvVar] | None = None
    image: str | None = None
    name: str | None = None
    resources: ResourceRequirements | None = None


@dataclass(kw_only=True, slots=True)
class Backoff:
    duration: str | None = None
    factor: int | str | None = None
    max_duration: str | None = None


@dataclass(kw_only=True, slots=True)
class RetryStrategy:
    backoff: Backoff | None = None
    expression: str | None = None
    limit: int | str | None = None
    retry_policy: str | None = None


@dataclass(kw_only=True, slots=True)
class SemaphoreRef:
    config_map_key_ref: ConfigMapKeySelector | None = None


@dataclass(kw_only=True, slots=True)
class Synchronization:
    semaphores: list[SemaphoreRef] | None = None


@dataclass(kw_only=True, slots=True)
class Toleration:
    effect: str | None = None
    key: str | None = None
    operator: str | None = None
    toleration_seconds: int | None = None
    value: str | None = None


@dataclass(kw_only=True, slots=True)
class Sequence:
    count: int | str | None = None


@dataclass(kw_only=True, slots=True)
class DAGTask:
    arguments: Arguments | None = None
    depends: str | None = None
    name: str
    template: str | None = None
    with_sequence: Sequence | None = None


@dataclass(kw_only=True, slots=True)
class DAGTemplate:
    tasks: list[DAGTask]


@dataclass(kw_only=True, slots=True)
class Template:
    container: Container | None = None
    dag: DAGTemplate | None = None
    inputs: Inputs | None = None
    name: str | None = None
    node_selector: dict[str, str] | None = None
    outputs: Outputs | None = None
    parallelism: int | None = None
    retry_strategy: RetryStrategy | None = None
    synchronization: Synchronization | None = None
    tolerations: list[Toleration] | None = None


@dataclass(kw_only=True, slots=True)
class Metadata:
    labels: dict[str, str] | None = None


@dataclass(kw_only=True, slots=True)
class WorkflowMetadata:
    labels: dict[str, str] | None = None


@dataclass(kw_only=True, slots=True)
class PodGC:
    strategy: str | None = None


@dataclass(kw_only=True, slots=True)
class TTLStrategy:
    seconds_after_completion: int | None = None


@dataclass(kw_only=True, slots=True)
class WorkflowSpec:
    active_deadline_seconds: int | None = None
    entrypoint: str | None = None
    on_exit: str | None = None
    parallelism: int | None = None
    pod_gc: PodGC | None = None
    pod_metadata: Metadata | None = None
    service_account_name: str | None = None
    templates: list[Template] | None = None
    ttl_strategy: TTLStrategy | None = None
    workflow_metadata: WorkflowMetadata | None = None


@dataclass(kw_only=True, slots=True)
class ObjectMeta:
    generate_name: str | None = None
    labels: dict[str, str] | None = None
    name: str | None = None
    namespace: str | None = None


@dataclass(kw_only=True, slots=True)
class Workflow:
    api_version: str | None = None
    kind: str | None = None
    metadata: ObjectMeta
    spec: WorkflowSpec


@dataclass(kw_only=True, slots=True)
class CronWorkflowSpec:
    concurrency_policy: str | None = None
    schedules: list[str]
    starting_deadline_seconds: int | None = None
    timezone: str | None = None
    workflow_spec: WorkflowSpec


@dataclass(kw_only=True, slots=True)
class CronWorkflow:
    api_version: str | None = None
    kind: str | None = None
    metadata: ObjectMeta
    spec: CronWorkflowSpec


def argo_name(field: str) -> str:
    """Argo's name of a field (``service_account_name`` -> ``serviceAccountName``)."""
    named = ARGO_NAMES.get(field)
    if named is not None:
        return named
    head, *rest = field.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@cache
def _names(cls: type) -> tuple[tuple[str, str], ...]:
    return tuple((f.name, argo_name(f.name)) for f in fields(cls))


def argo_dict(model: Any) -> Any:
    """``model`` (and everything in it) as Argo reads it: camelCase names, no unset fields."""
    if is_dataclass(model) and not isinstance(model, type):
        found = ((argo, getattr(model, name)) for name, argo in _names(type(model)))
        return {argo: argo_dict(value) for argo, value in found if value is not None}
    if isinstance(model, list):
        return [argo_dict(value) for value in model]
    if isinstance(model, dict):
        return {key: argo_dict(value) for key, value in model.items()}
    return model
