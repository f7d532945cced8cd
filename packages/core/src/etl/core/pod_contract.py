"""The contract between the workflow compiler (``etl.argo``) and the pod runtime (``etl.task``).

Both sides import their shared names from here, and only from here: the ``etl-task`` entry point,
its subcommands and their flags, the load methods, the code bundle's layout, the PgSTAC semaphore
and the files ``create-chunks`` leaves for Argo. The compiler writes command lines with
:meth:`Subcommand.command_line`; ``etl-task``'s argparse parsers are built from the same
:class:`Subcommand` and :class:`Flag` names. Nothing here imports Hera: the task image has none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = [
    "BATCH_COUNT_OUTPUT",
    "CHUNK_COUNT_OUTPUT",
    "CODE_DIR",
    "CREATE_CHUNKS",
    "DATASET_FILE",
    "ETL_TASK",
    "EXIT_PERMANENT",
    "EXIT_TRANSIENT",
    "FINISH_COLLECTION",
    "INGEST_COLLECTION",
    "INGEST_ITEMS",
    "LAST_SUCCESS",
    "MARK_SUCCESS",
    "NODE_ID_ENV",
    "OUTPUTS_DIR",
    "PGSTAC_SEMAPHORE",
    "PGSTAC_SEMAPHORE_CONFIGMAP",
    "PGSTAC_SEMAPHORE_KEY",
    "PROCESS_CHUNKS",
    "REQUIREMENTS_FILE",
    "SECRET_ENV",
    "SUBCOMMANDS",
    "TEMPLATES_DIR",
    "Flag",
    "LoadMethod",
    "StacValidationMode",
    "Subcommand",
    "semaphore_name",
]

ETL_TASK: Final = "etl-task"
"""The pod's entry point: the console script of ``etl.task.main``."""

SECRET_ENV: Final = "ETL_SECRET_ENV"
"""The container variable naming the variables that come from secret keys: ``VAR=SECRET/KEY,...``.
``etl-task`` fails at once (exit 2) when one of them is unset: the key is missing."""

NODE_ID_ENV: Final = "ARGO_NODE_ID"
"""The variable naming a pod's workflow node: Argo's controller sets it in every container of the
pod (``workflow/controller/workflowpod.go``, v3.5 to v4), one id per try; the local runner sets its
node id. ``etl-task`` names its kept log after it: ``HOSTNAME``, the pod's name cut to 63
characters by the kubelet, is the same for every batch pod of a run whose names are longer."""

EXIT_TRANSIENT: Final = 1
"""``etl-task``'s exit code for a failure that trying again may cure: the workflow retries it."""

EXIT_PERMANENT: Final = 2
"""``etl-task``'s exit code for a failure no retry can cure (bad input, not found, forbidden):
the workflow's ``retryStrategy`` does not retry it, so the run fails at once."""


class Flag:
    """The ``--flag``s of ``etl-task`` subcommands (argparse's ``dest``: ``-`` becomes ``_``)."""

    DATASET: Final = "--dataset"
    COLLECTION: Final = "--collection"
    RUN_ID: Final = "--run-id"
    LIMIT: Final = "--limit"
    SINCE: Final = "--since"
    MAX_BATCHES: Final = "--max-batches"
    CONCURRENCY: Final = "--concurrency"
    OUTPUTS: Final = "--outputs"
    BATCH_INDEX: Final = "--batch-index"
    BATCH_COUNT: Final = "--batch-count"
    METHOD: Final = "--method"
    WORKERS: Final = "--workers"
    STARTED_AT: Final = "--started-at"
    FILE: Final = "--file"
    MISSING: Final = "--missing"
    MAX_REMOVALS: Final = "--max-removals"
    STAC_VALIDATION: Final = "--stac-validation"
    SOURCES_FILE: Final = "--sources-file"


@dataclass(frozen=True)
class Subcommand:
    """One ``etl-task`` subcommand: its name and every flag it takes, in command-line order.

    Attributes:
        name: The subcommand, e.g. ``create-chunks``.
        flags: The flags, each followed by one value, in the order the compiler writes them.
        takes_sources: It takes one or more positional ``SOURCE`` arguments (before the flags).
    """

    name: str
    flags: tuple[str, ...]
    takes_sources: bool = False

    def command_line(
        self, values: Mapping[str, str | None], sources: Sequence[str] = ()
    ) -> list[str]:
        """``etl-task NAME [SOURCE...] --flag value ...``: the flags in :attr:`flags` order,
        those whose value is ``None`` left out.

        Raises:
            ValueError: A flag this subcommand does not take, or sources it does not take.
        """
        unknown = sorted(set(values) - set(self.flags))
        if unknown:
            raise ValueError(f"etl-task {self.name} takes no {', '.join(unknown)}")
        if sources and not self.takes_sources:
            raise ValueError(f"etl-task {self.name} takes no SOURCE arguments")
        args = [ETL_TASK, self.name, *sources]
        for flag in self.flags:
            value = values.get(flag)
            if value is not None:
                args += [flag, value]
        return args


_BUNDLE_FLAGS = (Flag.DATASET, Flag.COLLECTION)
CREATE_CHUNKS: Final = Subcommand(
    "create-chunks",
    (
        *_BUNDLE_FLAGS,
        Flag.RUN_ID,
        Flag.LIMIT,
        Flag.SINCE,
        Flag.MAX_BATCHES,
        Flag.CONCURRENCY,
        Flag.OUTPUTS,
    ),
)
PROCESS_CHUNKS: Final = Subcommand(
    "process-chunks",
    (
        *_BUNDLE_FLAGS,
        Flag.RUN_ID,
        Flag.BATCH_INDEX,
        Flag.BATCH_COUNT,
        Flag.METHOD,
        Flag.WORKERS,
        Flag.STAC_VALIDATION,
    ),
)
FINISH_COLLECTION: Final = Subcommand(
    "finish-collection", (*_BUNDLE_FLAGS, Flag.RUN_ID, Flag.MISSING, Flag.MAX_REMOVALS)
)
MARK_SUCCESS: Final = Subcommand("mark-success", (*_BUNDLE_FLAGS, Flag.RUN_ID, Flag.STARTED_AT))
INGEST_COLLECTION: Final = Subcommand("ingest-collection", (*_BUNDLE_FLAGS, Flag.FILE))
INGEST_ITEMS: Final = Subcommand(
    "ingest-items", (Flag.COLLECTION, Flag.METHOD, Flag.SOURCES_FILE), takes_sources=True
)
SUBCOMMANDS: Final = (
    CREATE_CHUNKS,
    PROCESS_CHUNKS,
    FINISH_COLLECTION,
    MARK_SUCCESS,
    INGEST_COLLECTION,
    INGEST_ITEMS,
)
"""Every subcommand the compiler may write and ``etl-task`` parses."""

LAST_SUCCESS: Final = "last-success"
"""``--since`` value meaning: since the start of this collection's last successful run."""
OUTPUTS_DIR: Final = "/tmp/etl-outputs"
"""Where ``etl-task create-chunks --outputs`` writes the files Argo reads as output parameters."""
CHUNK_COUNT_OUTPUT: Final = "chunk-count"
"""The file (and Argo output parameter) holding the number of chunks written, C."""
BATCH_COUNT_OUTPUT: Final = "batch-count"
"""The file (and Argo output parameter) holding the number of fan-out pods, B = min(C, M)."""


class LoadMethod(StrEnum):
    """How a load treats an item id that already exists in the collection (``--method``)."""

    UPSERT = "upsert"
    """Replace the existing item (unchanged rows are not rewritten); re-runs are idempotent."""
    INSERT = "insert"
    """Refuse: the batch holding a clashing id fails with ``ItemIdConflictError``."""
    IGNORE = "ignore"
    """Keep the existing item and skip the new one; re-runs are idempotent."""

    @property
    def for_retry(self) -> LoadMethod:
        """The idempotent method a batch is re-sent with after a dropped connection."""
        return LoadMethod.IGNORE if self is LoadMethod.INSERT else self


class StacValidationMode(StrEnum):
    """Which items ``process-chunks`` validates against the STAC JSON schemas (core and the
    extensions each item names): a collection's ``stac_validation.mode``, ``--stac-validation``."""

    OFF = "off"
    SAMPLE = "sample"
    FULL = "full"


DATASET_FILE: Final = "dataset.json"
"""The bundle's resolved dataset document, at its root: what ``--dataset`` names."""
CODE_DIR: Final = "code"
"""The bundle folder holding ``code.src`` (a module file or package folder)."""
REQUIREMENTS_FILE: Final = "requirements.txt"
"""The bundle's copy of ``code.requirements``, installed by the pod with pip."""
TEMPLATES_DIR: Final = "templates"
"""The bundle folder holding ``<collection id>/<template>`` for each collection's template."""

PGSTAC_SEMAPHORE_CONFIGMAP: Final = "etl-semaphores"
"""The ConfigMap (``deployment/``) sizing the Argo semaphores of etl workflows."""
PGSTAC_SEMAPHORE_KEY: Final = "pgstac-ingest"
"""Its key: how many pods load into PgSTAC at once across the namespace."""


def semaphore_name(configmap: str, key: str) -> str:
    """The local runner's name of the semaphore a ``configMapKeyRef`` selects: ``configmap/key``."""
    return f"{configmap}/{key}"


PGSTAC_SEMAPHORE: Final = semaphore_name(PGSTAC_SEMAPHORE_CONFIGMAP, PGSTAC_SEMAPHORE_KEY)
"""The PgSTAC semaphore as the local runner names it."""
