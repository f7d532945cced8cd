"""Compile a dataset to an Argo ``Workflow`` (or ``CronWorkflow``) manifest with Hera's models.

One workflow per command. For ``process-items`` each selected collection gets its own DAG::

    ingest-collection ─┐
                       ├→ process-chunks (B pods) → mark-success
    create-chunks ─────┘

(the collection must be in PgSTAC before its items, but listing need not wait for it).

``create-chunks`` lists the assets, writes chunk files and outputs two small numbers: the chunk
count C and the batch count B = min(C, max batches). The fan-out is ``withSequence: {count: B}``;
pod ``i`` makes and loads the items of the chunks ``j`` with ``j % B == i``. The manifest never
holds an asset URI, so its size and the number of nodes (at most ``workflow.max_pods`` fan-out pods
in all, plus five per collection and one) do not depend on how many assets there are. See
``docs/argo.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType
from typing import Any

from etl.argo._hera_models import hera_models
from etl.argo.bundle import CodeBundle, plan_bundle
from etl.argo.compile_names import dns_label, label_value, template_prefixes
from etl.argo.compile_options import CompileOptions, WorkflowCommand
from etl.argo.compile_templates import ContainerTemplates
from etl.argo.pod_environment import dataset_env, pod_env, pod_labels
from etl.argo.task_command import TaskCommandLines
from etl.core.pod_contract import BATCH_COUNT_OUTPUT, CHUNK_COUNT_OUTPUT
from etl.core.profiles.model import Profile, RunnerKind
from etl.core.templating import find_secret_refs
from etl.dataset.loader import LoadedDataset
from etl.dataset.model import CollectionConfig, TaskConfig, TaskName

__all__ = ["compile_workflow", "etl_version", "max_batches", "task_image", "workflow_spec"]

ENTRYPOINT = "main"
STARTED_AT = "{{workflow.creationTimestamp}}"
CRON_STARTING_DEADLINE_SECONDS = 600


def etl_version() -> str:
    """The installed etl version (the ``etl.dev/version`` label)."""
    try:
        return version("etl-argo")
    except PackageNotFoundError:
        return "0+unknown"


def task_image(profile: Profile) -> str | None:
    """The profile's ``workflow.image``; for a local runner, which runs no images, a stand-in."""
    if profile.workflow.image:
        return profile.workflow.image
    return f"etl-task:{etl_version()}" if profile.runner is RunnerKind.LOCAL else None


def max_batches(profile: Profile, collection_count: int) -> int:
    """Most batches B of one collection, so that a run has at most ``workflow.max_pods`` fan-out pods."""
    return max(1, profile.workflow.max_pods // max(1, collection_count))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _secret_names(document: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for text in _strings(document):
        names += [name for name in find_secret_refs(text) if name not in names]
    return names


class _Builder:
    """Assembles the templates of one workflow."""

    def __init__(
        self,
        models: ModuleType,
        *,
        dataset: LoadedDataset,
        profile: Profile,
        options: CompileOptions,
        bundle: CodeBundle,
        collections: list[CollectionConfig],
    ) -> None:
        config = dataset.config
        image = config.image or task_image(profile)
        if not image:
            raise dataset.error(
                ("id",), "no image: set the dataset's image or the profile's workflow.image"
            )
        self.m = models
        self.dataset = config
        self.options = options
        self.batches = max_batches(profile, len(collections))
        self.commands = TaskCommandLines(bundle.dataset_uri)
        env = pod_env(models, profile, _secret_names(dataset.resolved_document()))
        env += dataset_env(models, profile, dict(config.environment or {}))
        self.containers = ContainerTemplates(models, image, tuple(env))
        self.templates: list[Any] = []

    def _config(self, collection_id: str, task: TaskName) -> TaskConfig | None:
        return ((self.dataset.task_config or {}).get(collection_id) or {}).get(task)

    def _task(self, name: str, template: str, depends: str | None = None, **params: str) -> Any:
        m = self.m
        arguments = (
            m.Arguments(parameters=[m.Parameter(name=k, value=v) for k, v in params.items()])
            if params
            else None
        )
        return m.DAGTask(name=name, template=template, depends=depends, arguments=arguments)

    def _dag(self, name: str, tasks: list[Any], **template_fields: Any) -> Any:
        template = self.m.Template(
            name=name, dag=self.m.DAGTemplate(tasks=tasks), **template_fields
        )
        self.templates.append(template)
        return template

    def ingest_collection(self, prefix: str, collection: CollectionConfig) -> str:
        name = f"{prefix}-ingest-collection"
        self.templates.append(
            self.containers.template(
                name,
                self.commands.ingest_collection(collection.id),
                self._config(collection.id, TaskName.INGEST_COLLECTION),
            )
        )
        return name

    def create_chunks(self, prefix: str, collection: CollectionConfig) -> str:
        name = f"{prefix}-create-chunks"
        args = self.commands.create_chunks(
            collection.id,
            max_batches=self.batches,
            limit=self.options.limit,
            since=self.options.since,
        )
        self.templates.append(
            self.containers.template(
                name,
                args,
                self._config(collection.id, TaskName.CREATE_CHUNKS),
                outputs=(CHUNK_COUNT_OUTPUT, BATCH_COUNT_OUTPUT),
            )
        )
        return name

    def _process_config(self, collection_id: str) -> TaskConfig | None:
        """The pods make items and load them: ``create-items`` settings, the tighter parallelism."""
        create = self._config(collection_id, TaskName.CREATE_ITEMS)
        ingest = self._config(collection_id, TaskName.INGEST_ITEMS)
        if create is None or ingest is None or ingest.parallelism is None:
            return create or ingest
        parallelism = min(create.parallelism or ingest.parallelism, ingest.parallelism)
        return create.model_copy(update={"parallelism": parallelism})

    def process_chunks(self, prefix: str, collection: CollectionConfig) -> str:
        """A DAG running ``B`` process-chunks pods, with the task's ``parallelism``."""
        m = self.m
        pod = f"{prefix}-process-chunks"
        config = self._process_config(collection.id)
        args = self.commands.process_chunks(
            collection.id,
            batch_index="{{inputs.parameters.batch-index}}",
            batch_count="{{inputs.parameters.batch-count}}",
        )
        self.templates.append(
            self.containers.template(
                pod, args, config, inputs=("batch-index", "batch-count"), ingests_into_pgstac=True
            )
        )
        batch = self._task(
            "batch",
            pod,
            **{"batch-index": "{{item}}", "batch-count": "{{inputs.parameters.batch-count}}"},
        )
        batch.with_sequence = m.Sequence(count="{{inputs.parameters.batch-count}}")
        name = f"{pod}-batches"
        self._dag(
            name,
            [batch],
            inputs=m.Inputs(parameters=[m.Parameter(name="batch-count")]),
            parallelism=config.parallelism if config else None,
        )
        return name

    def mark_success(self, prefix: str, collection: CollectionConfig) -> str:
        name = f"{prefix}-mark-success"
        self.templates.append(
            self.containers.template(
                name, self.commands.mark_success(collection.id, started_at=STARTED_AT), None
            )
        )
        return name

    def process_items(self, prefix: str, collection: CollectionConfig) -> str:
        batch_count = "{{tasks.create-chunks.outputs.parameters.batch-count}}"
        tasks = [
            self._task("ingest-collection", self.ingest_collection(prefix, collection)),
            self._task("create-chunks", self.create_chunks(prefix, collection)),
            self._task(
                "process-chunks",
                self.process_chunks(prefix, collection),
                "ingest-collection && create-chunks",
                **{"batch-count": batch_count},
            ),
            self._task("mark-success", self.mark_success(prefix, collection), "process-chunks"),
        ]
        name = f"{prefix}-process-items"
        self._dag(name, tasks)
        return name


def workflow_spec(
    models: ModuleType, profile: Profile, templates: list[Any], labels: dict[str, str]
) -> Any:
    """The ``WorkflowSpec`` of ``templates`` (entrypoint ``main``) with the profile's settings."""
    m = models
    settings = profile.workflow
    ttl = settings.ttl_seconds_after_finished
    return m.WorkflowSpec(
        entrypoint=ENTRYPOINT,
        templates=templates,
        service_account_name=profile.argo.service_account,
        parallelism=settings.parallelism,
        active_deadline_seconds=settings.active_deadline_seconds,
        ttl_strategy=m.TTLStrategy(seconds_after_completion=ttl) if ttl is not None else None,
        pod_gc=m.PodGC(strategy="OnPodSuccess"),
        pod_metadata=m.Metadata(labels={**labels, **pod_labels(profile)}),
    )


def compile_workflow(
    dataset: LoadedDataset,
    command: WorkflowCommand | str,
    profile: Profile,
    *,
    collections: list[str] | tuple[str, ...] | None = None,
    limit: int | None = None,
    since: str | None = None,
    schedule: str | None = None,
    bundle: CodeBundle | None = None,
) -> dict[str, Any]:
    """The Argo manifest (a ``Workflow``, or a ``CronWorkflow`` with ``schedule``) as a dict.

    Args:
        dataset: The loaded, templated dataset (``etl.dataset.load_dataset``).
        command: ``process-items``, ``create-chunks`` or ``ingest-collection``.
        profile: The active profile (namespace, image fallback, service account, limits, secrets).
        collections: Collection ids to include (default: all), in the order given.
        limit: At most this many assets per collection.
        since: Only assets modified since this ISO-8601 time, or ``"last-success"``.
        schedule: Cron expression; makes a ``CronWorkflow`` (``process-items`` only).
        bundle: The code bundle, when already planned (default: planned here, not uploaded).

    Raises:
        InputError: Bad options or an unknown collection (exit 2).
        ConfigError: The dataset has no image, or its code files are missing (located).
        ProfileError: The profile cannot run the workflow safely (e.g. a DSN with a password).
    """
    options = CompileOptions(
        WorkflowCommand(command),
        tuple(collections) if collections is not None else None,
        limit,
        since,
        schedule,
    )
    selected = dataset.select_collections(options.collections or ())
    models = hera_models()
    builder = _Builder(
        models,
        dataset=dataset,
        profile=profile,
        options=options,
        bundle=bundle or plan_bundle(dataset, profile),
        collections=selected,
    )
    build = {
        WorkflowCommand.PROCESS_ITEMS: builder.process_items,
        WorkflowCommand.CREATE_CHUNKS: builder.create_chunks,
        WorkflowCommand.INGEST_COLLECTION: builder.ingest_collection,
    }[options.command]
    prefixes = template_prefixes([collection.id for collection in selected])
    main_tasks = [
        builder._task(prefixes[collection.id], build(prefixes[collection.id], collection))
        for collection in selected
    ]
    builder.templates.insert(
        0, models.Template(name=ENTRYPOINT, dag=models.DAGTemplate(tasks=main_tasks))
    )

    labels = {
        "etl.dev/dataset": label_value(dataset.config.id),
        "etl.dev/command": options.command.value,
        "etl.dev/version": label_value(etl_version()),
    }
    if len(selected) == 1:
        labels["etl.dev/collection"] = label_value(selected[0].id)
    metadata = models.ObjectMeta(
        generate_name=f"{dns_label(dataset.config.id)}-{options.command.value}-",
        namespace=profile.argo.namespace,
        labels=labels,
    )
    spec = workflow_spec(models, profile, builder.templates, labels)
    if options.schedule is None:
        manifest = models.Workflow(
            api_version="argoproj.io/v1alpha1", kind="Workflow", metadata=metadata, spec=spec
        )
    else:
        # The workflows the schedule starts carry the same labels (spec.workflowMetadata).
        spec.workflow_metadata = models.WorkflowMetadata(labels=labels)
        manifest = models.CronWorkflow(
            api_version="argoproj.io/v1alpha1",
            kind="CronWorkflow",
            metadata=models.ObjectMeta(
                name=f"{dns_label(dataset.config.id)}-{options.command.value}",
                namespace=profile.argo.namespace,
                labels=labels,
            ),
            spec=models.CronWorkflowSpec(
                schedules=[options.schedule],
                concurrency_policy="Forbid",
                starting_deadline_seconds=CRON_STARTING_DEADLINE_SECONDS,
                workflow_spec=spec,
            ),
        )
    result: dict[str, Any] = manifest.model_dump(mode="json", by_alias=True, exclude_none=True)
    return result
