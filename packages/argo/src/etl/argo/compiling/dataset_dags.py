"""The templates of a dataset workflow: per collection, a DAG of ``etl-task`` steps.

For ``process-items`` each selected collection gets its own DAG::

    ingest-collection ─┐
                       ├→ process-chunks (B pods) → finish-collection → mark-success
    create-chunks ─────┘

(the collection must be in PgSTAC before its items, but listing need not wait for it).
``create-chunks`` outputs the chunk count C and the batch count B = min(C, max batches); the
fan-out is ``withSequence: {count: B}``, and pod ``i`` makes and loads the items of the chunks
``j`` with ``j % B == i``. ``finish-collection`` runs once after them all: it reports or removes the
items whose assets are gone and sets the collection's extent from its items.
"""

from __future__ import annotations

from collections.abc import Callable

from etl.argo.bundle import CodeBundle
from etl.argo.compiling.containers import ContainerTemplates
from etl.argo.compiling.models import Inputs, Parameter, Sequence, Template
from etl.argo.compiling.names import template_prefixes
from etl.argo.compiling.pod_environment import document_secret_names, pod_env
from etl.argo.compiling.spec import ENTRYPOINT, dag_task, dag_template, task_image
from etl.argo.compiling.task_command import TaskCommandLines
from etl.argo.options import RunRequest, WorkflowCommand
from etl.core.pod_contract import BATCH_COUNT_OUTPUT, CHUNK_COUNT_OUTPUT
from etl.core.profiles.model import Profile
from etl.dataset.loader import LoadedDataset
from etl.dataset.model import CollectionConfig, DatasetConfig, TaskConfig, TaskName

__all__ = [
    "EXIT_HANDLER",
    "STARTED_AT",
    "DatasetTemplates",
    "max_batches",
    "process_config",
    "task_containers",
]

STARTED_AT = "{{workflow.creationTimestamp}}"
"""The ``since`` watermark ``mark-success`` records: when the workflow was created."""
EXIT_HANDLER = "run-outcome"
"""The exit handler's template (``spec.onExit``) of a dataset with notifications: no collection's
templates end so (theirs are ``PREFIX-STEP``)."""


def max_batches(profile: Profile, collection_count: int) -> int:
    """Most batches B of one collection, so that a run has at most ``workflow.max_pods`` fan-out pods."""
    return max(1, profile.workflow.max_pods // max(1, collection_count))


def task_containers(dataset: LoadedDataset, profile: Profile) -> ContainerTemplates:
    """The containers of the dataset's pods: its image (else the profile's) and the pod
    environment.

    Raises:
        ConfigError: The dataset has no image (located at its ``id``).
        ProfileError: The profile cannot give the pods their environment safely.
    """
    config = dataset.config
    image = config.image or task_image(profile)
    if not image:
        raise dataset.error(
            ("id",), "no image: set the dataset's image or the profile's workflow.image"
        )
    secrets = document_secret_names(dataset.resolved_document())
    return ContainerTemplates(image, tuple(pod_env(profile, secrets, config.environment)))


def task_config(dataset: DatasetConfig, collection_id: str, task: TaskName) -> TaskConfig | None:
    """The dataset's ``task_config`` of ``task`` for the collection, if it has one."""
    return ((dataset.task_config or {}).get(collection_id) or {}).get(task)


def process_config(dataset: DatasetConfig, collection_id: str) -> TaskConfig | None:
    """The settings of pods that make items and load them (``process-chunks``, and the stream's
    consumers): ``create-items``', with the tighter parallelism of it and ``ingest-items``."""
    create = task_config(dataset, collection_id, TaskName.CREATE_ITEMS)
    ingest = task_config(dataset, collection_id, TaskName.INGEST_ITEMS)
    if create is None or ingest is None or ingest.parallelism is None:
        return create or ingest
    parallelism = min(create.parallelism or ingest.parallelism, ingest.parallelism)
    return create.model_copy(update={"parallelism": parallelism})


class DatasetTemplates:
    """Builds the templates of one dataset workflow, the ``main`` DAG first.

    Args:
        dataset: The loaded, templated dataset.
        profile: The active profile (image fallback, pod environment, fan-out limit).
        options: The run request.
        bundle: The code bundle whose ``dataset.json`` the pods read.
        collections: The selected collections, in order.

    Raises:
        ConfigError: The dataset has no image (located at its ``id``).
        ProfileError: The profile cannot give the pods their environment safely.
    """

    def __init__(
        self,
        *,
        dataset: LoadedDataset,
        profile: Profile,
        options: RunRequest,
        bundle: CodeBundle,
        collections: list[CollectionConfig],
    ) -> None:
        self._containers = task_containers(dataset, profile)
        self._dataset = dataset.config
        self._options = options
        self._collections = collections
        self._batches = max_batches(profile, len(collections))
        self._commands = TaskCommandLines(bundle.dataset_uri, options)
        self._templates: list[Template] = []

    def templates(self) -> list[Template]:
        """The workflow's templates: ``main`` (one task per collection), then each collection's."""
        build: Callable[[str, CollectionConfig], str] = {
            WorkflowCommand.PROCESS_ITEMS: self._process_items,
            WorkflowCommand.CREATE_CHUNKS: self._create_chunks,
            WorkflowCommand.INGEST_COLLECTION: self._ingest_collection,
        }[self._options.command]
        self._templates = []
        prefixes = template_prefixes([collection.id for collection in self._collections])
        main = [
            dag_task(prefixes[collection.id], build(prefixes[collection.id], collection))
            for collection in self._collections
        ]
        return [dag_template(ENTRYPOINT, main), *self._templates]

    def exit_handler(self, *, run_url: str | None) -> Template:
        """The template ``spec.onExit`` names: ``etl-task run-outcome`` of the selected
        collections, linking to the run at ``run_url`` (Argo fills in its name)."""
        return self._containers.template(
            EXIT_HANDLER,
            self._commands.run_outcome([c.id for c in self._collections], run_url=run_url),
            None,
        )

    def _config(self, collection_id: str, task: TaskName) -> TaskConfig | None:
        return task_config(self._dataset, collection_id, task)

    def _add(self, template: Template) -> str:
        """Keep ``template``; return its name, for the task that runs it."""
        self._templates.append(template)
        return str(template.name)

    def _ingest_collection(self, prefix: str, collection: CollectionConfig) -> str:
        return self._add(
            self._containers.template(
                f"{prefix}-ingest-collection",
                self._commands.ingest_collection(collection.id),
                self._config(collection.id, TaskName.INGEST_COLLECTION),
            )
        )

    def _create_chunks(self, prefix: str, collection: CollectionConfig) -> str:
        args = self._commands.create_chunks(collection.id, max_batches=self._batches)
        return self._add(
            self._containers.template(
                f"{prefix}-create-chunks",
                args,
                self._config(collection.id, TaskName.CREATE_CHUNKS),
                outputs=(CHUNK_COUNT_OUTPUT, BATCH_COUNT_OUTPUT),
            )
        )

    def _process_chunks(self, prefix: str, collection: CollectionConfig) -> str:
        """A DAG running ``B`` process-chunks pods, with the task's ``parallelism``."""
        config = process_config(self._dataset, collection.id)
        args = self._commands.process_chunks(
            collection.id,
            batch_index="{{inputs.parameters.batch-index}}",
            batch_count="{{inputs.parameters.batch-count}}",
        )
        pod = self._add(
            self._containers.template(
                f"{prefix}-process-chunks",
                args,
                config,
                inputs=("batch-index", "batch-count"),
                ingests_into_pgstac=True,
            )
        )
        batch = dag_task(
            "batch",
            pod,
            parameters={
                "batch-index": "{{item}}",
                "batch-count": "{{inputs.parameters.batch-count}}",
            },
        )
        batch.with_sequence = Sequence(count="{{inputs.parameters.batch-count}}")
        return self._add(
            dag_template(
                f"{pod}-batches",
                [batch],
                inputs=Inputs(parameters=[Parameter(name="batch-count")]),
                parallelism=config.parallelism if config else None,
            )
        )

    def _finish_collection(self, prefix: str, collection: CollectionConfig) -> str:
        return self._add(
            self._containers.template(
                f"{prefix}-finish-collection",
                self._commands.finish_collection(collection.id),
                None,
                ingests_into_pgstac=True,
            )
        )

    def _mark_success(self, prefix: str, collection: CollectionConfig) -> str:
        return self._add(
            self._containers.template(
                f"{prefix}-mark-success",
                self._commands.mark_success(collection.id, started_at=STARTED_AT),
                None,
            )
        )

    def _process_items(self, prefix: str, collection: CollectionConfig) -> str:
        batch_count = "{{tasks.create-chunks.outputs.parameters.batch-count}}"
        tasks = [
            dag_task("ingest-collection", self._ingest_collection(prefix, collection)),
            dag_task("create-chunks", self._create_chunks(prefix, collection)),
            dag_task(
                "process-chunks",
                self._process_chunks(prefix, collection),
                "ingest-collection && create-chunks",
                {"batch-count": batch_count},
            ),
            dag_task(
                "finish-collection", self._finish_collection(prefix, collection), "process-chunks"
            ),
            dag_task("mark-success", self._mark_success(prefix, collection), "finish-collection"),
        ]
        return self._add(dag_template(f"{prefix}-process-items", tasks))
