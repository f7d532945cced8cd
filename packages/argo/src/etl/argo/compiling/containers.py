"""The container templates of a compiled workflow: one per collection and ``etl-task`` step.

Each template runs ``etl-task`` in the dataset's image with the pod environment, and takes its pod
resources, retries, node selector and tolerations from the dataset's ``task_config`` for that
collection and task. ``process-chunks`` templates hold the Argo semaphore that bounds how many pods
write to PgSTAC at once across every workflow of the namespace.
"""

from __future__ import annotations

from dataclasses import dataclass

from etl.argo.compiling.models import (
    Backoff,
    ConfigMapKeySelector,
    Container,
    EnvVar,
    Inputs,
    Outputs,
    Parameter,
    ResourceRequirements,
    RetryStrategy,
    SemaphoreRef,
    Synchronization,
    Template,
    Toleration,
    ValueFrom,
)
from etl.core.pod_contract import (
    EXIT_PERMANENT,
    OUTPUTS_DIR,
    PGSTAC_SEMAPHORE_CONFIGMAP,
    PGSTAC_SEMAPHORE_KEY,
)
from etl.dataset.model import TaskConfig

__all__ = [
    "BACKOFF",
    "DEFAULT_RETRIES",
    "NO_RETRY_ON_PERMANENT",
    "ContainerTemplates",
]

DEFAULT_RETRIES = 3
BACKOFF = {"duration": "15s", "factor": "2", "max_duration": "10m"}
"""Exponential backoff between retries: 15 s, 30 s, 60 s, ... never past 10 minutes in all."""
NO_RETRY_ON_PERMANENT = f"asInt(lastRetry.exitCode) != {EXIT_PERMANENT}"
"""``etl-task`` exits ``EXIT_PERMANENT`` when no retry can help (bad input, not found, forbidden)."""


@dataclass(frozen=True)
class ContainerTemplates:
    """Builds container templates that share an image, an environment and pod labels.

    Attributes:
        image: The task image.
        env: The variables every container gets.
    """

    image: str
    env: tuple[EnvVar, ...]

    def _resources(self, config: TaskConfig | None) -> ResourceRequirements | None:
        if config is None or config.resources is None:
            return None
        amounts: dict[str, dict[str, str]] = {}
        for kind in ("requests", "limits"):
            quantities = getattr(config.resources, kind)
            if quantities is not None:
                amounts[kind] = quantities.model_dump(exclude_none=True)
        return ResourceRequirements(**amounts) if amounts else None

    def container(self, args: list[str], config: TaskConfig | None) -> Container:
        """The container running ``args`` (``etl-task ...``) with the image, the environment and
        the resources of ``config``: that of a template, and of a KEDA consumer pod."""
        return Container(
            image=self.image,
            command=args[:1],
            args=args[1:],
            env=list(self.env),
            resources=self._resources(config),
        )

    def tolerations(self, config: TaskConfig | None) -> list[Toleration] | None:
        """The pod's tolerations from ``config``."""
        if config is None or not config.tolerations:
            return None
        return [
            Toleration(**toleration.model_dump(exclude_none=True))
            for toleration in config.tolerations
        ]

    def _retry_strategy(self, config: TaskConfig | None) -> RetryStrategy:
        limit = DEFAULT_RETRIES if config is None or config.retries is None else config.retries
        return RetryStrategy(
            limit=str(limit),
            retry_policy="Always",
            backoff=Backoff(**BACKOFF),
            expression=NO_RETRY_ON_PERMANENT,
        )

    def template(
        self,
        name: str,
        args: list[str],
        config: TaskConfig | None,
        *,
        inputs: tuple[str, ...] = (),
        outputs: tuple[str, ...] = (),
        ingests_into_pgstac: bool = False,
    ) -> Template:
        """A container template running ``args``.

        Args:
            name: The template name.
            args: The container's command line (``etl-task ...``).
            config: The dataset's task_config for this collection and task.
            inputs: Names of input parameters the template takes.
            outputs: Names of output parameters read from files of :data:`OUTPUTS_DIR`.
            ingests_into_pgstac: Hold the PgSTAC semaphore while running.
        """
        return Template(
            name=name,
            inputs=Inputs(parameters=[Parameter(name=n) for n in inputs]) if inputs else None,
            outputs=Outputs(
                parameters=[
                    Parameter(name=n, value_from=ValueFrom(path=f"{OUTPUTS_DIR}/{n}"))
                    for n in outputs
                ]
            )
            if outputs
            else None,
            container=self.container(args, config),
            retry_strategy=self._retry_strategy(config),
            node_selector=config.node_selector if config is not None else None,
            tolerations=self.tolerations(config),
            synchronization=Synchronization(
                semaphores=[
                    SemaphoreRef(
                        config_map_key_ref=ConfigMapKeySelector(
                            name=PGSTAC_SEMAPHORE_CONFIGMAP, key=PGSTAC_SEMAPHORE_KEY
                        )
                    )
                ]
            )
            if ingests_into_pgstac
            else None,
        )
