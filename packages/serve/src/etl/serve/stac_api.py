"""The STAC API: stac-fastapi-pgstac, the community's server, over the profile's PgSTAC.

:func:`stac_api` builds its FastAPI app read-only (no transaction extensions) with every search
extension (filter, sort, fields, query, pagination, collection search); :func:`connect` and
:func:`disconnect` open and close its connection pools. Its routes are under :data:`STAC_PATH`
(stac-fastapi's ``prefix_path``, so the links it writes carry the prefix); the page's app mounts
it at its root, after its own routes, and calls those two from its own lifespan (a mounted app's
lifespan never runs).
Settings are passed in, never read from ``.env`` files or ``POSTGRES_*`` variables.
"""

from __future__ import annotations

from importlib.metadata import version
from urllib.parse import quote, urlencode

from fastapi import FastAPI
from psycopg.conninfo import conninfo_to_dict
from stac_fastapi.pgstac.app import instantiate_api
from stac_fastapi.pgstac.config import PostgresSettings, Settings
from stac_fastapi.pgstac.db import close_db_connection, connect_to_db
from stac_fastapi.pgstac.models.extensions import Extensions

__all__ = ["STAC_PATH", "connect", "disconnect", "postgres_settings", "stac_api"]

STAC_PATH = "/stac"
"""Where the STAC API is on the page's server."""

_CONNECTION_KEYS = frozenset({"host", "port", "user", "password", "dbname"})


class _DsnSettings(PostgresSettings):  # type: ignore[misc]  # stac-fastapi has no types
    """The settings with a DSN's other parameters (``sslmode``...) kept in the connection URL."""

    extra_params: dict[str, str] = {}

    @property
    def connection_string(self) -> str:
        url = (
            f"postgresql://{quote(self.pguser)}:{quote(self.pgpassword)}@"
            f"{self.pghost}:{self.pgport}/{quote(self.pgdatabase)}"
        )
        return f"{url}?{urlencode(self.extra_params)}" if self.extra_params else url


def stac_api(title: str) -> FastAPI:
    """The STAC API's app (connection pools opened later, by :func:`connect`)."""
    settings = Settings(
        _env_file=None,
        stac_fastapi_title=title,
        stac_fastapi_description=f"{title}: the STAC API of etl serve over PgSTAC (read-only)",
        stac_fastapi_version=version("etl-serve"),
        enable_transactions_extensions=False,
        prefix_path=STAC_PATH,
        openapi_url=f"{STAC_PATH}/api",
        docs_url=f"{STAC_PATH}/api.html",
    )
    app: FastAPI = instantiate_api(extensions=Extensions(settings=settings), settings=settings).app
    return app


def postgres_settings(dsn: str) -> _DsnSettings:
    """stac-fastapi-pgstac's connection settings for a libpq DSN (URL or ``key=value``): host,
    port, user, password and database, other parameters (``sslmode``...) kept in the URL."""
    parts = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    return _DsnSettings(
        _env_file=None,
        pguser=parts.get("user", ""),
        pgpassword=parts.get("password", ""),
        pghost=parts.get("host", "localhost"),
        pgport=int(parts.get("port", "5432")),
        pgdatabase=parts.get("dbname", ""),
        db_min_conn_size=0,
        db_max_conn_size=4,
        extra_params={k: v for k, v in parts.items() if k not in _CONNECTION_KEYS},
    )


async def connect(app: FastAPI, dsn: str) -> None:
    """Open the STAC API's read pool on PgSTAC."""
    await connect_to_db(app, postgres_settings=postgres_settings(dsn))


async def disconnect(app: FastAPI) -> None:
    """Close the STAC API's pools."""
    await close_db_connection(app)
