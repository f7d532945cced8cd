"""The ``etl-task`` command lines the compiler writes into containers.

This module is the only writer of ``etl-task`` arguments; ``docs/internals.md`` (section
"``etl-task``: the pod's command line") is the contract ``etl.task`` implements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "LAST_SUCCESS",
    "OUTPUTS_DIR",
    "IngestMethod",
    "TaskCommandLines",
    "ingest_collection_file_command",
    "ingest_items_command",
]

ETL_TASK = "etl-task"
OUTPUTS_DIR = "/tmp/etl-outputs"
"""Where ``etl-task create-chunks --outputs`` writes ``chunk-count`` and ``batch-count``."""
LAST_SUCCESS = "last-success"
"""``--since`` value meaning: since the start of this collection's last successful run."""
IngestMethod = Literal["upsert", "insert", "ignore"]
"""``--method`` of ``ingest-items``: what a load does with an item id that exists."""


@dataclass(frozen=True)
class TaskCommandLines:
    """Builds ``etl-task`` argument lists for one dataset document.

    Attributes:
        dataset_uri: URI of the resolved dataset document (``<bundle>/dataset.json``).
        run_id: the run id every task of a workflow shares (Argo's ``{{workflow.name}}``).
    """

    dataset_uri: str
    run_id: str = "{{workflow.name}}"

    def _common(self, subcommand: str, collection: str) -> list[str]:
        return [ETL_TASK, subcommand, "--dataset", self.dataset_uri, "--collection", collection]

    def ingest_collection(self, collection: str) -> list[str]:
        """Create or update the collection in PgSTAC."""
        return self._common("ingest-collection", collection)

    def create_chunks(
        self, collection: str, *, max_batches: int, limit: int | None, since: str | None
    ) -> list[str]:
        """List assets, write chunk files, and write the chunk and batch counts to ``OUTPUTS_DIR``."""
        args = [*self._common("create-chunks", collection), "--run-id", self.run_id]
        if limit is not None:
            args += ["--limit", str(limit)]
        if since is not None:
            args += ["--since", since]
        return [*args, "--max-batches", str(max_batches), "--outputs", OUTPUTS_DIR]

    def process_chunks(self, collection: str, *, batch_index: str, batch_count: str) -> list[str]:
        """Make and load the items of the chunks ``j`` with ``j % batch_count == batch_index``."""
        return [
            *self._common("process-chunks", collection),
            "--run-id",
            self.run_id,
            "--batch-index",
            batch_index,
            "--batch-count",
            batch_count,
        ]

    def mark_success(self, collection: str, *, started_at: str) -> list[str]:
        """Record the run as the collection's last success (read by ``--since last-success``)."""
        return [
            *self._common("mark-success", collection),
            "--run-id",
            self.run_id,
            "--started-at",
            started_at,
        ]


def ingest_collection_file_command(source: str) -> list[str]:
    """Upsert the collection JSON file at ``source`` (a path or URI the pod can read)."""
    return [ETL_TASK, "ingest-collection", "--file", source]


def ingest_items_command(sources: list[str], collection: str, method: IngestMethod) -> list[str]:
    """Load the ndjson files ``sources`` into ``collection`` with load method ``method``."""
    return [ETL_TASK, "ingest-items", *sources, "--collection", collection, "--method", method]
