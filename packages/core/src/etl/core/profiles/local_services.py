"""Where the local services of ``scripts/services`` listen: the one place that knows their ports.

``scripts/services`` starts PostgreSQL + pgstac on ``127.0.0.1:${ETL_PG_PORT:-55432}``, Azurite on
``127.0.0.1:${ETL_AZURITE_PORT:-10000}`` and Azurite's queue service on
``127.0.0.1:${ETL_AZURITE_QUEUE_PORT:-10001}``; the built-in ``local`` profile, a new ``local``-runner
profile and ``scripts/demo`` reach them at the same ports, so two people on one machine each use
their own services.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from etl.core.env_names import AZURITE_PORT_ENV, AZURITE_QUEUE_PORT_ENV, PG_PORT_ENV
from etl.core.errors import ProfileError

__all__ = [
    "AZURITE_ACCOUNT",
    "AZURITE_KEY",
    "azurite_blob_endpoint",
    "azurite_queue_endpoint",
    "local_pgstac_dsn",
]

_DEFAULT_PORTS = {PG_PORT_ENV: 55432, AZURITE_PORT_ENV: 10000, AZURITE_QUEUE_PORT_ENV: 10001}
AZURITE_ACCOUNT = "devstoreaccount1"
# Microsoft's published, well-known development key for Azurite: not a secret.
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def _port(variable: str, env: Mapping[str, str] | None) -> int:
    """The port ``variable`` names in ``env`` (default: this process's), or its default."""
    value = (os.environ if env is None else env).get(variable, "").strip()
    if not value:
        return _DEFAULT_PORTS[variable]
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ProfileError(f"{variable}={value!r} is not a port number (1-65535)")
    return int(value)


def local_pgstac_dsn(env: Mapping[str, str] | None = None) -> str:
    """The DSN of the PgSTAC ``scripts/services`` runs (port from ``ETL_PG_PORT``)."""
    return f"postgresql://postgres@127.0.0.1:{_port(PG_PORT_ENV, env)}/pgstac"


def azurite_blob_endpoint(env: Mapping[str, str] | None = None) -> str:
    """The blob endpoint of the Azurite ``scripts/services`` runs (port from ``ETL_AZURITE_PORT``)."""
    return f"http://127.0.0.1:{_port(AZURITE_PORT_ENV, env)}/{AZURITE_ACCOUNT}"


def azurite_queue_endpoint(env: Mapping[str, str] | None = None) -> str:
    """The queue endpoint of the Azurite ``scripts/services`` runs (port from
    ``ETL_AZURITE_QUEUE_PORT``)."""
    return f"http://127.0.0.1:{_port(AZURITE_QUEUE_PORT_ENV, env)}/{AZURITE_ACCOUNT}"
