"""The environment variables ``etl`` reads on the user's machine, beyond the pod contract.

Every ``ETL_*`` name is spelled once: a variable a pod sees is :mod:`etl.core.pod_contract`'s
(some of them, such as ``ETL_PGSTAC_DSN`` and ``ETL_CONFIG_DIR``, ``etl`` reads too); the others
are here. ``tests/core/test_pod_contract_names.py`` fails on an ``ETL_*`` name spelled anywhere else.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ARGO_NAMESPACE_ENV",
    "ARGO_SERVER_ENV",
    "ARGO_TOKEN_ENV",
    "AZURITE_PORT_ENV",
    "AZURITE_QUEUE_PORT_ENV",
    "IMAGE_TAG_ENV",
    "IMPORT_TIMEOUT_ENV",
    "KUBERNETES_TOKEN_ENV",
    "LOCAL_EXECUTOR_ENV",
    "PG_PORT_ENV",
    "PROFILE_ENV",
    "STORAGE_CONNECT_TIMEOUT_ENV",
    "STORAGE_READ_TIMEOUT_ENV",
    "STORAGE_RETRIES_ENV",
]

PROFILE_ENV: Final = "ETL_PROFILE"
"""The profile to use when ``-p`` is not given."""

ARGO_SERVER_ENV: Final = "ETL_ARGO_SERVER"
ARGO_TOKEN_ENV: Final = "ETL_ARGO_TOKEN"
ARGO_NAMESPACE_ENV: Final = "ETL_ARGO_NAMESPACE"
KUBERNETES_TOKEN_ENV: Final = "ETL_KUBERNETES_TOKEN"
LOCAL_EXECUTOR_ENV: Final = "ETL_LOCAL_EXECUTOR"
STORAGE_CONNECT_TIMEOUT_ENV: Final = "ETL_STORAGE_CONNECT_TIMEOUT"
STORAGE_READ_TIMEOUT_ENV: Final = "ETL_STORAGE_READ_TIMEOUT"
STORAGE_RETRIES_ENV: Final = "ETL_STORAGE_RETRIES"
"""These override a profile setting each (:mod:`etl.core.profiles.environment`)."""

PG_PORT_ENV: Final = "ETL_PG_PORT"
AZURITE_PORT_ENV: Final = "ETL_AZURITE_PORT"
AZURITE_QUEUE_PORT_ENV: Final = "ETL_AZURITE_QUEUE_PORT"
"""The ports of the local services (``scripts/services``) the built-in ``local`` profile uses."""

IMPORT_TIMEOUT_ENV: Final = "ETL_IMPORT_TIMEOUT"
"""``etl dataset validate``'s limit on importing the dataset's code."""

IMAGE_TAG_ENV: Final = "ETL_IMAGE_TAG"
"""The tag ``scripts/image`` builds the task image under."""
