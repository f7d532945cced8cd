"""The ``etl-task`` command lines the compiler writes into containers.

This module is the compiler's only writer of ``etl-task`` arguments; the subcommands, flags and
values it uses are those of :mod:`etl.core.pod_contract`, which ``etl.task`` parses with; the run
options' values are written by their :mod:`etl.core.run_options` pairs, which ``etl.task`` reads with.
"""

from __future__ import annotations

from dataclasses import dataclass

from etl.argo.options import RunRequest
from etl.core.pod_contract import (
    CONSUME_EVENTS,
    CREATE_CHUNKS,
    FINISH_COLLECTION,
    INGEST_COLLECTION,
    INGEST_ITEMS,
    MARK_SUCCESS,
    OUTPUTS_DIR,
    PROCESS_CHUNKS,
    RUN_OUTCOME,
    WORKFLOW_FAILURES,
    WORKFLOW_STATUS,
    Flag,
    LoadMethod,
    argo_tag,
)
from etl.core.run_options import (
    CREATE_CHUNKS_OPTIONS,
    FINISH_COLLECTION_OPTIONS,
    PROCESS_CHUNKS_OPTIONS,
    pod_values,
)

__all__ = [
    "TaskCommandLines",
    "consume_events_command",
    "ingest_collection_file_command",
    "ingest_items_command",
]


@dataclass(frozen=True)
class TaskCommandLines:
    """Builds ``etl-task`` argument lists for one dataset document.

    Attributes:
        dataset_uri: URI of the resolved dataset document (``<bundle>/dataset.json``).
        request: The run request whose options the pods take.
        run_id: the run id every task of a workflow shares (Argo's ``{{workflow.name}}``).
    """

    dataset_uri: str
    request: RunRequest
    run_id: str = "{{workflow.name}}"

    def _bundle(self, collection: str) -> dict[str, str | None]:
        return {Flag.DATASET: self.dataset_uri, Flag.COLLECTION: collection}

    def _run(self, collection: str) -> dict[str, str | None]:
        return {**self._bundle(collection), Flag.RUN_ID: self.run_id}

    def ingest_collection(self, collection: str) -> list[str]:
        """Create or update the collection in PgSTAC."""
        return INGEST_COLLECTION.command_line(self._bundle(collection))

    def create_chunks(self, collection: str, *, max_batches: int) -> list[str]:
        """List assets, write chunk files, and write the chunk and batch counts to ``OUTPUTS_DIR``."""
        return CREATE_CHUNKS.command_line(
            {
                **self._run(collection),
                **pod_values(CREATE_CHUNKS_OPTIONS, self.request),
                Flag.MAX_BATCHES: str(max_batches),
                Flag.OUTPUTS: OUTPUTS_DIR,
            }
        )

    def process_chunks(self, collection: str, *, batch_index: str, batch_count: str) -> list[str]:
        """Make and load the items of the chunks ``j`` with ``j % batch_count == batch_index``."""
        return PROCESS_CHUNKS.command_line(
            {
                **self._run(collection),
                Flag.BATCH_INDEX: batch_index,
                Flag.BATCH_COUNT: batch_count,
                **pod_values(PROCESS_CHUNKS_OPTIONS, self.request),
            }
        )

    def finish_collection(self, collection: str) -> list[str]:
        """Report or remove items whose assets are gone, then update the collection's extent."""
        return FINISH_COLLECTION.command_line(
            {**self._run(collection), **pod_values(FINISH_COLLECTION_OPTIONS, self.request)}
        )

    def mark_success(self, collection: str, *, started_at: str) -> list[str]:
        """Record the run as the collection's last success (read by ``--since last-success``)."""
        return MARK_SUCCESS.command_line({**self._run(collection), Flag.STARTED_AT: started_at})

    def run_outcome(self, collections: list[str], *, run_url: str | None) -> list[str]:
        """The exit handler: tell the dataset's notification targets how the run of
        ``collections`` ended (Argo's ``workflow.status`` and ``workflow.failures``)."""
        return RUN_OUTCOME.command_line(
            {
                Flag.DATASET: self.dataset_uri,
                Flag.COLLECTIONS: ",".join(collections),
                Flag.RUN_ID: self.run_id,
                Flag.COMMAND: self.request.command.value,
                Flag.STATUS: argo_tag(WORKFLOW_STATUS),
                Flag.FAILURES: argo_tag(WORKFLOW_FAILURES),
                Flag.RUN_URL: run_url,
            }
        )


def ingest_collection_file_command(source: str) -> list[str]:
    """Upsert the collection JSON file at ``source`` (a path or URI the pod can read)."""
    return INGEST_COLLECTION.command_line({Flag.FILE: source})


def ingest_items_command(
    sources: list[str], collection: str, method: LoadMethod, *, sources_file: str | None = None
) -> list[str]:
    """Load the ndjson files ``sources`` (or those listed in ``sources_file``) into ``collection``
    with load method ``method``."""
    values = {
        Flag.COLLECTION: collection,
        Flag.METHOD: method.value,
        Flag.SOURCES_FILE: sources_file,
    }
    return INGEST_ITEMS.command_line(values, [] if sources_file else sources)


def consume_events_command(dataset_uri: str, collection: str, *, idle_exit: float) -> list[str]:
    """``etl-task consume-events``: consume the collection's queue until it was idle
    ``idle_exit`` seconds."""
    return CONSUME_EVENTS.command_line(
        {Flag.DATASET: dataset_uri, Flag.COLLECTION: collection, Flag.IDLE_EXIT: f"{idle_exit:g}"}
    )
