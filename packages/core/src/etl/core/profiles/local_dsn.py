"""The built-in PgSTAC DSN gives way to libpq's ``PG*`` variables.

A DSN's own parameters win over libpq's environment variables, so a user who points etl at their
database with ``PGHOST``, ``PGDATABASE``, ... would be ignored by the built-in default. Both the
local runner (for the DSN it hands its pods, which see none of the caller's ``PG*`` variables) and
``etl-task`` (run by hand) fold those variables into the default instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

__all__ = ["LIBPQ_ENV", "with_libpq_env"]

LIBPQ_ENV = {
    "PGHOST": "host",
    "PGHOSTADDR": "hostaddr",
    "PGPORT": "port",
    "PGUSER": "user",
    "PGPASSWORD": "password",
    "PGDATABASE": "dbname",
}
"""libpq's environment variables and the connection parameter each sets."""


def with_libpq_env(dsn: str, env: Mapping[str, str]) -> str:
    """The URL ``dsn`` as libpq ``key=value`` parameters, with those ``env``'s ``PG*`` variables set.

    Without any of those variables, ``dsn`` as it is.
    """
    if not any(env.get(var) for var in LIBPQ_ENV):
        return dsn
    url = urlsplit(dsn)
    params = {
        "host": url.hostname or "",
        "port": str(url.port or ""),
        "user": unquote(url.username or ""),
        "password": unquote(url.password or ""),
        "dbname": url.path.lstrip("/"),
    }
    for var, key in LIBPQ_ENV.items():
        if env.get(var):
            params[key] = env[var]
    if env.get("PGHOSTADDR") and not env.get("PGHOST"):
        params.pop("host")
    return " ".join(f"{key}={_quoted(value)}" for key, value in params.items() if value)


def _quoted(value: str) -> str:
    """A libpq ``key=value`` value, quoted."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
