"""The profile model: everything that differs between environments (local, dev, staging, production).

A profile file is YAML under ``$ETL_CONFIG_DIR/profiles/NAME.yaml``; its keys are the dotted paths
that ``etl profile create --set KEY=VALUE`` takes (``argo.server``, ``storage.ACCOUNT.key``, ...).
Fields marked secret (:data:`SECRET_FIELDS`) are never printed: ``etl profile show`` redacts them.
"""

from __future__ import annotations

import os
from enum import StrEnum
from fnmatch import fnmatchcase
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from etl.core.notifications.targets import NotificationTarget
from etl.core.pod_contract import SECRET_ENV_PREFIX
from etl.core.profiles.local_services import (
    AZURITE_ACCOUNT,
    AZURITE_KEY,
    azurite_blob_endpoint,
    azurite_queue_endpoint,
    local_pgstac_dsn,
)

__all__ = [
    "AZURITE_ACCOUNT",
    "AZURITE_KEY",
    "DEFAULT_ACTIVE_DEADLINE_SECONDS",
    "DEFAULT_STREAM_MAX_PODS",
    "SECRET_FIELDS",
    "ArgoSettings",
    "KubernetesSettings",
    "LocalExecutor",
    "LocalSettings",
    "PgstacSettings",
    "Profile",
    "RunnerKind",
    "SecretsBackend",
    "SecretsSettings",
    "StorageAccount",
    "StorageTimeouts",
    "StreamSettings",
    "WorkflowDefaults",
    "is_secret_field",
]

DEFAULT_ACTIVE_DEADLINE_SECONDS = 86400
"""One day: then Argo stops a workflow and marks it Failed, releasing its CronWorkflow's turn."""
DEFAULT_STREAM_MAX_PODS = 10
"""Most consumer pods KEDA runs at once for one collection's queue (``stream.max_pods``)."""
LOCAL_MAX_PODS = max(2, os.cpu_count() or 2)
"""On one machine a "pod" is a process paying Python's start-up and imports (~1 s): one per core,
each working through many chunks, beats one per chunk."""

# Dotted paths (``*`` = any storage account) whose values are credentials: never printed, never
# readable from templates. ``pgstac.dsn`` is shown with its password redacted.
SECRET_FIELDS: tuple[str, ...] = (
    "argo.token",
    "kubernetes.token",
    "pgstac.dsn",
    "storage.*.connection_string",
    "storage.*.key",
    "storage.*.sas",
)


def is_secret_field(dotted_path: str) -> bool:
    """Whether ``dotted_path`` (e.g. ``storage.acct.key``) names a credential of the profile."""
    return any(fnmatchcase(dotted_path, pattern) for pattern in SECRET_FIELDS)


class RunnerKind(StrEnum):
    """Where workflows run: on this machine, or on an Argo Server (a profile's ``runner``)."""

    LOCAL = "local"
    ARGO = "argo"


class _Model(BaseModel):
    # Validators built on first use: importing the profile models costs no schema building.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, defer_build=True)


def _server_url(value: str | None, example: str) -> str | None:
    """A server's full URL without its trailing ``/``."""
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError(f"{value!r} is not a URL: write e.g. {example}")
    return value.rstrip("/") if value is not None else None


def _bare_token(value: str | None) -> str | None:
    """The bare token: ``Bearer abc`` (as tokens are often written) → ``abc``."""
    if value is not None and value[:7].lower() == "bearer ":
        return value[7:].strip()
    return value


class SecretsBackend(StrEnum):
    """Where ``$<< secrets.NAME >>`` is resolved."""

    LOCAL = "local"
    KEYVAULT = "keyvault"


class ArgoSettings(_Model):
    """How to reach the Argo Server and what submitted workflows run as."""

    server: str | None = Field(
        None, description="Argo Server URL, e.g. https://argo.example.com:2746"
    )
    namespace: str = Field("argo", description="Namespace workflows are submitted to")
    token: str | None = Field(None, description="Bearer token for the Argo Server (secret)")
    verify_tls: bool = Field(True, description="Verify the server's TLS certificate")
    base_href: str = Field("", description="Path prefix the Argo Server is served under")
    service_account: str | None = Field(
        None, description="Service account the workflow pods run as"
    )

    @field_validator("server")
    @classmethod
    def _full_url(cls, value: str | None) -> str | None:
        """The server is a full URL; ``ARGO_SERVER``'s ``host:port`` is turned into one earlier."""
        return _server_url(value, "https://argo.example.com:2746")

    @field_validator("token")
    @classmethod
    def _bare_token(cls, value: str | None) -> str | None:
        """Store the bare token: ``Bearer abc`` (as ``ARGO_TOKEN`` is usually written) → ``abc``."""
        return _bare_token(value)


class KubernetesSettings(_Model):
    """How ``etl dataset stream --submit`` reaches the Kubernetes API server (KEDA's objects)."""

    api_server: str | None = Field(
        None,
        description="Kubernetes API server URL, e.g. https://aks-1234.hcp.westeurope.azmk8s.io",
    )
    token: str | None = Field(
        None, description="Bearer token of a service account that may apply KEDA objects (secret)"
    )
    ca_file: Path | None = Field(
        None, description="CA bundle the API server's certificate is checked against"
    )
    verify_tls: bool = Field(True, description="Verify the API server's TLS certificate")
    namespace: str | None = Field(
        None, description="Namespace of the KEDA objects (default: argo.namespace)"
    )

    @field_validator("api_server")
    @classmethod
    def _full_url(cls, value: str | None) -> str | None:
        return _server_url(value, "https://kubernetes.example.com:6443")

    @field_validator("token")
    @classmethod
    def _bare_token(cls, value: str | None) -> str | None:
        return _bare_token(value)


class StreamSettings(_Model):
    """The KEDA ``ScaledJob`` of each collection with ``events`` (docs/streaming.md)."""

    max_pods: int = Field(
        DEFAULT_STREAM_MAX_PODS,
        ge=1,
        description="Most consumer pods at once per collection (KEDA's maxReplicaCount)",
    )
    polling_interval: int = Field(
        30, ge=1, description="Seconds between KEDA's looks at the queue's depth"
    )
    idle_exit: int = Field(
        60, ge=1, description="Seconds a consumer pod waits on an empty queue before it exits"
    )
    active_deadline_seconds: int = Field(
        3600,
        ge=1,
        description="A consumer pod still running after this many seconds is stopped (its "
        "messages come back after their visibility timeout)",
    )


class PgstacSettings(_Model):
    """The PgSTAC database items are written to."""

    dsn: str | None = Field(None, description="libpq DSN/URL of the PgSTAC database (secret)")
    dsn_secret: str | None = Field(
        None, description="Name of a secret holding the DSN, resolved inside the pod"
    )


class StorageAccount(_Model):
    """Credentials for one Azure Storage account; the first one set wins, in this order."""

    connection_string: str | None = Field(None, description="Full connection string (secret)")
    account_url: str | None = Field(
        None, description="Blob endpoint, e.g. https://acct.blob.core.windows.net"
    )
    key: str | None = Field(None, description="Account key, used with account_url (secret)")
    sas: str | None = Field(None, description="SAS token, used with account_url (secret)")
    queue_url: str | None = Field(
        None,
        description="Queue endpoint, e.g. https://acct.queue.core.windows.net (queue:// URIs; "
        "same credential as the blobs)",
    )


class StorageTimeouts(_Model):
    """How long a storage request may wait, and how often it is tried, on every account.

    The defaults are the Azure SDK's own timeouts and etl's retry policy: a service that accepts
    connections but never answers holds a request ``read`` seconds per try.
    """

    model_config = ConfigDict(frozen=True)

    connect: float = Field(
        20, gt=0, description="Seconds to open a connection to a storage account, per try"
    )
    read: float = Field(
        60, gt=0, description="Seconds without an answer before a try gives up (then it is retried)"
    )
    retries: int = Field(
        5,
        ge=0,
        description="Tries after the first of a request that timed out or failed (HTTP 5xx)",
    )
    notice: float = Field(
        30, gt=0, description="While a request waits, a line every this many seconds says so"
    )


class SecretsSettings(_Model):
    """The backend ``$<< secrets.NAME >>`` is resolved from."""

    backend: SecretsBackend = SecretsBackend.LOCAL
    vault_url: str | None = Field(
        None, description="Key Vault URL, e.g. https://myvault.vault.azure.net"
    )
    file: Path | None = Field(
        None, description="Local secrets file (default: profiles/NAME.secrets.yaml, mode 0600)"
    )
    kubernetes_secret: str = Field(
        "etl-secrets",
        description="On Argo with the local backend: the Kubernetes Secret whose keys (the secret "
        f"names) pods read as {SECRET_ENV_PREFIX}* variables",
    )


class WorkflowDefaults(_Model):
    """Defaults for compiled workflows that a dataset's task_config may override."""

    image: str | None = Field(None, description="Task image when the dataset names none")
    max_pods: int = Field(1000, ge=1, description="Upper bound on fan-out pods per workflow")
    parallelism: int | None = Field(None, ge=1, description="Pods running at once")
    ttl_seconds_after_finished: int | None = Field(86400, ge=0)
    active_deadline_seconds: int = Field(
        DEFAULT_ACTIVE_DEADLINE_SECONDS,
        ge=1,
        description="A workflow still running after this many seconds is stopped and fails "
        "(a pod that cannot start, e.g. for a missing secret, would otherwise wait forever)",
    )
    code_storage: str | None = Field(
        None, description="Where code.src is uploaded at submit (blob:// or file:// URI)"
    )
    state_storage: str | None = Field(
        None,
        description="Where run state (chunks, items, results) lives when the dataset says nowhere",
    )


class LocalExecutor(StrEnum):
    """How the local runner starts a pod."""

    PROCESS = "process"
    CONTAINER = "container"


class LocalSettings(_Model):
    """How the local runner runs pods on this machine (no meaning on Argo)."""

    executor: LocalExecutor = Field(
        LocalExecutor.PROCESS,
        description="`process`: each pod a process of this machine (fast, no engine); "
        "`container`: each pod a Docker container of the workflow's image (docs/image.md)",
    )


class Profile(_Model):
    """One environment's settings. The built-in ``local`` profile needs no file at all."""

    name: str = "local"
    runner: RunnerKind = RunnerKind.LOCAL
    argo: ArgoSettings = Field(default_factory=ArgoSettings)
    pgstac: PgstacSettings = Field(default_factory=PgstacSettings)
    storage: dict[str, StorageAccount] = Field(default_factory=dict)
    storage_timeouts: StorageTimeouts = Field(default_factory=StorageTimeouts)
    secrets: SecretsSettings = Field(default_factory=SecretsSettings)
    workflow: WorkflowDefaults = Field(default_factory=WorkflowDefaults)
    local: LocalSettings = Field(default_factory=LocalSettings)
    kubernetes: KubernetesSettings = Field(default_factory=KubernetesSettings)
    stream: StreamSettings = Field(default_factory=StreamSettings)
    notifications: list[NotificationTarget] | None = Field(
        None,
        description="Where item and run events go under this profile, replacing every dataset's "
        "`notifications` (`[]`: none); see notifications.md",
    )

    @classmethod
    def builtin_local(cls, name: str = "local") -> Profile:
        """The embedded default: this machine, Azurite and the PgSTAC of ``scripts/services``.

        Under another ``name`` it is what a new ``local``-runner profile starts from.
        """
        return cls(
            name=name,
            runner=RunnerKind.LOCAL,
            pgstac=PgstacSettings(dsn=local_pgstac_dsn()),
            storage={
                AZURITE_ACCOUNT: StorageAccount(
                    account_url=azurite_blob_endpoint(),
                    key=AZURITE_KEY,
                    queue_url=azurite_queue_endpoint(),
                )
            },
            workflow=WorkflowDefaults(max_pods=LOCAL_MAX_PODS),
        )
