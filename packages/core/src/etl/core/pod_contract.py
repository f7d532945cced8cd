"""The contract between the workflow compiler (``etl.argo``) and the pod runtime (``etl.task``).

Both sides import their shared names from here, and only from here: the ``etl-task`` entry point,
its subcommands and their flags, the load methods, the code bundle's layout, the PgSTAC semaphore,
the files ``create-chunks`` leaves for Argo, every variable of the pod's environment
(:data:`POD_ENVIRONMENT`), the label keys and how an id becomes a label value (:func:`label_value`). The compiler writes command lines with
:meth:`Subcommand.command_line`; ``etl-task``'s argparse parsers are built from the same
:class:`Subcommand` and :class:`Flag` names. Nothing here imports Hera: the task image has none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = [
    "BATCH_COUNT_OUTPUT",
    "CHUNK_COUNT_OUTPUT",
    "CODE_DIR",
    "COLLECTION_LABEL",
    "COMMAND_LABEL",
    "CONFIG_DIR_ENV",
    "CONSUME_EVENTS",
    "CREATE_CHUNKS",
    "DATASET_FILE",
    "DATASET_LABEL",
    "ETL_TASK",
    "EXIT_PERMANENT",
    "EXIT_TRANSIENT",
    "FINISH_COLLECTION",
    "INGEST_COLLECTION",
    "INGEST_ITEMS",
    "LAST_SUCCESS",
    "LISTING_CONCURRENCY_ENV",
    "LOCAL_STORAGE_CREDENTIALS_ENV",
    "MARK_SUCCESS",
    "MAX_LABEL_VALUE",
    "NODE_ID_ENV",
    "NODE_LABEL",
    "OUTPUTS_DIR",
    "PGSTAC_DSN_ENV",
    "PGSTAC_DSN_SECRET_ENV",
    "PGSTAC_SEMAPHORE",
    "PGSTAC_SEMAPHORE_CONFIGMAP",
    "PGSTAC_SEMAPHORE_KEY",
    "POD_ENVIRONMENT",
    "PROCESS_CHUNKS",
    "PROCESS_ITEMS_COMMAND",
    "PROFILE_JSON_ENV",
    "REQUIREMENTS_FILE",
    "RESOLVE_ENV",
    "RUN_LABEL",
    "RUN_OUTCOME",
    "SECRET_ENV",
    "SECRET_ENV_PREFIX",
    "STAC_SCHEMAS_ENV",
    "STATE_DIR_ENV",
    "SUBCOMMANDS",
    "TEMPLATES_DIR",
    "VERSION_LABEL",
    "WORKFLOW_FAILURES",
    "WORKFLOW_NAME",
    "WORKFLOW_STATUS",
    "WORKLOAD_IDENTITY_LABEL",
    "Flag",
    "LoadMethod",
    "PodVariable",
    "StacValidationMode",
    "Subcommand",
    "argo_tag",
    "label_value",
    "semaphore_name",
    "shortened",
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
    IDLE_EXIT: Final = "--idle-exit"
    COLLECTIONS: Final = "--collections"
    COMMAND: Final = "--command"
    STATUS: Final = "--status"
    FAILURES: Final = "--failures"
    RUN_URL: Final = "--run-url"


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
CONSUME_EVENTS: Final = Subcommand("consume-events", (*_BUNDLE_FLAGS, Flag.IDLE_EXIT))
RUN_OUTCOME: Final = Subcommand(
    "run-outcome",
    (
        Flag.DATASET,
        Flag.COLLECTIONS,
        Flag.RUN_ID,
        Flag.COMMAND,
        Flag.STATUS,
        Flag.FAILURES,
        Flag.RUN_URL,
    ),
)
"""The exit handler (``spec.onExit``) of a dataset workflow whose dataset has notifications:
``--collections`` the run's collection ids, comma-separated; ``--status`` and ``--failures``
Argo's :data:`WORKFLOW_STATUS` and :data:`WORKFLOW_FAILURES`."""
PROCESS_ITEMS_COMMAND: Final = "process-items"
"""``run-outcome --command``'s value for a run that makes and loads items (``etl dataset
process-items``); its counts come from the chunks it processed."""
SUBCOMMANDS: Final = (
    CREATE_CHUNKS,
    PROCESS_CHUNKS,
    FINISH_COLLECTION,
    MARK_SUCCESS,
    INGEST_COLLECTION,
    INGEST_ITEMS,
    CONSUME_EVENTS,
    RUN_OUTCOME,
)
"""Every subcommand the compiler may write and ``etl-task`` parses."""

WORKFLOW_NAME: Final = "workflow.name"
"""Argo's variable holding the workflow's name: every task's ``--run-id``."""
WORKFLOW_STATUS: Final = "workflow.status"
"""Argo's variable holding, in the exit handler, how the entrypoint ended: ``Succeeded``,
``Failed`` or ``Error``."""
WORKFLOW_FAILURES: Final = "workflow.failures"
"""Argo's variable holding, in the exit handler, the nodes that failed
(:mod:`etl.core.workflow_failures` reads and writes it)."""


def argo_tag(variable: str) -> str:
    """The simple template tag of an Argo variable: ``{{workflow.name}}``."""
    return "{{" + variable + "}}"


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


# The pod's environment: every variable of it that etl sets or reads (docs/internals.md's table is
# generated from POD_ENVIRONMENT by scripts/gen_docs).

PROFILE_JSON_ENV: Final = "ETL_PROFILE_JSON"
PGSTAC_DSN_ENV: Final = "ETL_PGSTAC_DSN"
PGSTAC_DSN_SECRET_ENV: Final = "ETL_PGSTAC_DSN_SECRET"
SECRET_ENV_PREFIX: Final = "ETL_SECRET_"
"""``ETL_SECRET_<NAME>``: secret NAME upper-cased, ``-`` and ``.`` made ``_``
(:func:`etl.core.secrets.secret_env_var`)."""
RESOLVE_ENV: Final = "ETL_RESOLVE_ENV"
CONFIG_DIR_ENV: Final = "ETL_CONFIG_DIR"
STATE_DIR_ENV: Final = "ETL_STATE_DIR"
LOCAL_STORAGE_CREDENTIALS_ENV: Final = "ETL_LOCAL_STORAGE_CREDENTIALS"
STAC_SCHEMAS_ENV: Final = "ETL_STAC_SCHEMAS"
LISTING_CONCURRENCY_ENV: Final = "ETL_LISTING_CONCURRENCY"


@dataclass(frozen=True)
class PodVariable:
    """One variable of a pod's environment: who sets it and what it holds (Markdown)."""

    name: str
    set_by: str
    value: str


POD_ENVIRONMENT: Final = (
    PodVariable(
        PROFILE_JSON_ENV,
        "compiler",
        "the profile without credentials (`argo.token`, `pgstac.dsn`, "
        "`storage.*.{connection_string,key,sas}` removed; every `storage.ACCOUNT` keeps its blob "
        "endpoint as `account_url`, for item hrefs). Its `secrets` section is how `etl-task` "
        "finds its secrets: the `local` backend's variables below, or Key Vault "
        "(`secrets.vault_url`) read with the pod's workload identity",
    ),
    PodVariable(
        PGSTAC_DSN_ENV,
        "compiler, local runner",
        "the profile's `pgstac.dsn`, only when it holds no password (the built-in `local` "
        "profile's); a DSN with a password makes compiling fail. The local runner gives its pods "
        "the DSN the caller's profile resolves to (libpq's `PG*` variables folded in)",
    ),
    PodVariable(
        PGSTAC_DSN_SECRET_ENV,
        "compiler",
        "the profile's `pgstac.dsn_secret`: the name of the secret holding the DSN",
    ),
    PodVariable(
        f"{SECRET_ENV_PREFIX}<NAME>",
        "compiler",
        "`local` secrets backend: one per secret the dataset (or `pgstac.dsn_secret`) refers to, "
        "from `secretKeyRef {name: <secrets.kubernetes_secret>, key: NAME}` (optional: a missing "
        f"key is named by `{SECRET_ENV}`); the local runner fills these from the local backend",
    ),
    PodVariable(
        SECRET_ENV,
        "compiler",
        "`VAR=SECRET/KEY,...`: the variables that come from secret keys; `etl-task` fails at once "
        "(exit 2) naming an unset one",
    ),
    PodVariable(
        RESOLVE_ENV,
        "compiler",
        "comma-separated names of the dataset's `environment` variables whose "
        "`$<< secrets.NAME >>` references `etl-task` resolves before user code runs",
    ),
    PodVariable(
        CONFIG_DIR_ENV,
        "local runner",
        "an empty folder: a pod has no profile files, it knows its profile from "
        f"`{PROFILE_JSON_ENV}` only",
    ),
    PodVariable(
        STATE_DIR_ENV,
        "local runner",
        "the runner's state folder, where a pod caches the bundles it fetches",
    ),
    PodVariable(
        LOCAL_STORAGE_CREDENTIALS_ENV,
        "local runner",
        "JSON, account → credential fields: the keys of storage emulators (Azurite), which no "
        f"workload identity reaches; laid over the profile of `{PROFILE_JSON_ENV}`",
    ),
    PodVariable(
        NODE_ID_ENV,
        "Argo's controller, local runner",
        "the pod's workflow node, one id per try: `etl-task` names its kept log after it",
    ),
    PodVariable(
        STAC_SCHEMAS_ENV,
        "image or dataset `environment`",
        "further STAC schema folders (`os.pathsep`-separated) for `--stac-validation`",
    ),
    PodVariable(
        LISTING_CONCURRENCY_ENV,
        "dataset `environment`",
        "most listings at once per storage account in `create-chunks` (default 8)",
    ),
)
"""Every variable of the pod contract, in the order docs/internals.md lists them."""


# Labels: what the compiler labels workflows and pods with, and the local runner its containers.

DATASET_LABEL: Final = "etl.dev/dataset"
"""On every dataset workflow: its dataset id (:func:`label_value`)."""
COLLECTION_LABEL: Final = "etl.dev/collection"
"""On a workflow of one collection only: its collection id (:func:`label_value`)."""
COMMAND_LABEL: Final = "etl.dev/command"
"""On every workflow: the command it runs (``process-items``, ``ingest-items``, ...)."""
VERSION_LABEL: Final = "etl.dev/version"
"""On every workflow: the etl version that compiled it."""
RUN_LABEL: Final = "etl.dev/run"
"""On each Docker container of the local runner's container executor: its run."""
NODE_LABEL: Final = "etl.dev/node"
"""On each Docker container of the local runner's container executor: its workflow node."""
WORKLOAD_IDENTITY_LABEL: Final = "azure.workload.identity/use"
"""On pods that authenticate with Azure AD: without it the AKS webhook gives them no identity."""

MAX_LABEL_VALUE: Final = 63
"""Kubernetes' longest label value."""
_DIGEST_LENGTH = 8
_NOT_LABEL = re.compile(r"[^A-Za-z0-9._-]+")


def shortened(slug: str, text: str, max_length: int, ends: str) -> str:
    """``slug``, or when longer than ``max_length`` its head (``ends`` stripped from its end),
    ``-`` and the first 8 hex digits of the SHA-256 of ``text``: unique when cut to fit."""
    if len(slug) <= max_length:
        return slug
    import hashlib  # here: OpenSSL's 4 MiB are not `etl --help`'s to pay

    digest = hashlib.sha256(text.encode()).hexdigest()[:_DIGEST_LENGTH]
    head = slug[: max_length - _DIGEST_LENGTH - 1].rstrip(ends)
    return f"{head}-{digest}" if head else digest


def label_value(text: str) -> str:
    """A valid Kubernetes label value for ``text`` (at most 63 characters, alphanumeric ends):
    how a dataset or collection id is written in, and looked up by, its label."""
    value = _NOT_LABEL.sub("-", text).strip("._-")
    return shortened(value, text, MAX_LABEL_VALUE, "._-")
