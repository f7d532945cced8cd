"""Environment variables that override a profile's file: etl's own ``ETL_*`` and the Argo CLI's.

Where both name the same setting, the ``ETL_`` variable wins. ``ARGO_*`` variables keep the
meanings the Argo CLI gives them (``ARGO_SERVER`` is ``host:port`` without a scheme, ...).
"""

from __future__ import annotations

from collections.abc import Mapping

from etl.core.env_names import (
    ARGO_NAMESPACE_ENV,
    ARGO_SERVER_ENV,
    ARGO_TOKEN_ENV,
    KUBERNETES_TOKEN_ENV,
    LOCAL_EXECUTOR_ENV,
    STORAGE_CONNECT_TIMEOUT_ENV,
    STORAGE_READ_TIMEOUT_ENV,
    STORAGE_RETRIES_ENV,
)
from etl.core.pod_contract import PGSTAC_DSN_ENV
from etl.core.profiles.model import Profile
from etl.core.profiles.settings import apply_settings

__all__ = ["apply_environment", "environment_settings"]


def environment_settings(env: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """The ``(profile key, value)`` pairs the environment sets; unset variables give ``None``."""

    def first(*names: str) -> str | None:
        return next((env[name] for name in names if env.get(name)), None)

    return [
        ("argo.server", env.get(ARGO_SERVER_ENV) or _argo_cli_server(env)),
        ("argo.token", first(ARGO_TOKEN_ENV, "ARGO_TOKEN")),
        ("argo.namespace", first(ARGO_NAMESPACE_ENV, "ARGO_NAMESPACE")),
        ("argo.base_href", first("ARGO_BASE_HREF")),
        ("argo.verify_tls", _skip_verify(env.get("ARGO_INSECURE_SKIP_VERIFY"))),
        ("kubernetes.token", first(KUBERNETES_TOKEN_ENV)),
        ("pgstac.dsn", first(PGSTAC_DSN_ENV)),
        ("local.executor", first(LOCAL_EXECUTOR_ENV)),
        ("storage_timeouts.connect", first(STORAGE_CONNECT_TIMEOUT_ENV)),
        ("storage_timeouts.read", first(STORAGE_READ_TIMEOUT_ENV)),
        ("storage_timeouts.retries", first(STORAGE_RETRIES_ENV)),
    ]


def apply_environment(profile: Profile, env: Mapping[str, str]) -> Profile:
    """``profile`` with the settings of the environment laid over it."""
    return apply_settings(profile, environment_settings(env))


def _argo_cli_server(env: Mapping[str, str]) -> str | None:
    server = env.get("ARGO_SERVER")
    if not server:
        return None
    if "://" in server:
        return server
    scheme = "http" if env.get("ARGO_SECURE", "").strip().lower() == "false" else "https"
    return f"{scheme}://{server}"


def _skip_verify(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return "false" if value.strip().lower() in ("true", "1", "yes") else "true"
