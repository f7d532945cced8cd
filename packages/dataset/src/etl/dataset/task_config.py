"""``task_config``: how one task of one collection runs (pod resources, retries, fan-out, placement).

Part of the ``dataset.yaml`` model (:mod:`etl.dataset.model` exports these names too).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveInt

from etl.dataset.field_types import ConfigModel, Quantity

__all__ = ["ResourceQuantities", "TaskConfig", "TaskName", "TaskResources", "Toleration"]


class ResourceQuantities(ConfigModel):
    """CPU and memory as Kubernetes quantities."""

    cpu: Quantity | None = Field(None, description="CPU, e.g. `500m` or `2`.")
    memory: Quantity | None = Field(None, description="Memory, e.g. `512Mi` or `4Gi`.")


class TaskResources(ConfigModel):
    """Kubernetes resource requests and limits of a task's pods."""

    requests: ResourceQuantities | None = Field(None, description="What the scheduler reserves.")
    limits: ResourceQuantities | None = Field(None, description="The most a pod may use.")


class Toleration(ConfigModel):
    """A Kubernetes toleration, so pods may run on tainted nodes."""

    key: str | None = Field(None, description="The taint key (empty with `Exists`: every taint).")
    operator: Literal["Equal", "Exists"] = Field("Equal", description="`Equal` or `Exists`.")
    value: str | None = Field(None, description="The taint value, with `Equal`.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(
        None,
        description="`NoSchedule`, `PreferNoSchedule` or `NoExecute` (empty: every effect).",
    )
    toleration_seconds: NonNegativeInt | None = Field(
        None, description="How long a `NoExecute` taint is tolerated."
    )


class TaskName(StrEnum):
    """The tasks of a collection's workflows that ``task_config`` can tune."""

    CREATE_CHUNKS = "create-chunks"
    CREATE_ITEMS = "create-items"
    INGEST_ITEMS = "ingest-items"
    INGEST_COLLECTION = "ingest-collection"


class TaskConfig(ConfigModel):
    """How one task of one collection runs: pod resources, retries, fan-out, placement."""

    resources: TaskResources | None = Field(None, description="Pod resource requests and limits.")
    retries: NonNegativeInt | None = Field(
        None, description="How often a failed pod is retried (with backoff)."
    )
    parallelism: PositiveInt | None = Field(
        None, description="Most pods of this task running at once."
    )
    node_selector: dict[str, str] | None = Field(
        None, description="Node labels the pods must run on."
    )
    tolerations: list[Toleration] | None = Field(None, description="Taints the pods tolerate.")
