"""Connections to PgSTAC: every connection etl opens to it, and the psycopg-only statements
on one (a collection's existence, its existing ids, a collection row written).

Every connection etl opens to PgSTAC goes through :func:`connect_pgstac`, which sets
``search_path`` to ``pgstac, public``: pgstac's functions fail for the ``postgres`` superuser
without it. Loading items through pypgstac is :mod:`etl.pgstac.load_session`'s: this module
imports no pypgstac, so ``etl dataset plan`` and ``status`` reach PgSTAC without its import
(half a second).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from etl.core.errors import RemoteError
from etl.pgstac.errors import is_transient_database_error
from etl.pgstac.item_sources import forget_orphan_sources

__all__ = [
    "Connection",
    "collection_exists",
    "connect_pgstac",
    "existing_ids",
    "upsert_collection_row",
]

Connection = psycopg.Connection[tuple[Any, ...]]


def connect_pgstac(dsn: str) -> Connection:
    """Open an autocommit connection to PgSTAC with ``search_path`` set to ``pgstac, public``.

    Raises:
        RemoteError: the database cannot be reached or refuses the login.
    """
    try:
        return _connect(dsn)
    except psycopg.OperationalError as exc:
        raise RemoteError(
            f"cannot connect to PgSTAC: {_first_line(exc)}",
            transient=is_transient_database_error(exc),
        ) from exc


def _connect(dsn: str) -> Connection:
    """:func:`connect_pgstac` that lets psycopg's errors through (for retrying callers)."""
    conn = psycopg.connect(dsn, autocommit=True, application_name="etl-pgstac")
    conn.execute("SET search_path TO pgstac, public")
    return conn


def collection_exists(conn: Connection, collection_id: str) -> bool:
    """Whether PgSTAC has the collection."""
    row = conn.execute("SELECT 1 FROM collections WHERE id = %s", (collection_id,)).fetchone()
    return row is not None


def existing_ids(conn: Connection, collection_id: str, ids: list[str]) -> list[str]:
    """Those of ``ids`` that are already items of the collection, sorted."""
    rows = conn.execute(
        "SELECT DISTINCT id FROM items WHERE collection = %s AND id = ANY(%s) ORDER BY id",
        (collection_id, ids),
    ).fetchall()
    return [row[0] for row in rows]


def upsert_collection_row(
    conn: Connection, collection: dict[str, Any], partition_trunc: str | None
) -> None:
    """Create or replace a collection's content and, if given, set its time partitioning.

    ``partition_trunc`` is ``"year"``, ``"month"``, ``"none"`` (one partition) or ``None`` (keep).
    A collection created (not replaced) forgets the ``etl.item_sources`` rows left under its id by
    an earlier collection of that id deleted outside etl, in the same transaction.
    """
    with conn.transaction():
        created = conn.execute(
            "INSERT INTO collections (content) VALUES (%s)"
            " ON CONFLICT (id) DO UPDATE SET content = EXCLUDED.content"
            " RETURNING xmax = 0",  # true for a row inserted, false for one updated
            (Jsonb(collection),),
        ).fetchone()
        if created is not None and created[0]:
            forget_orphan_sources(conn, collection["id"])
        if partition_trunc is not None:
            trunc = None if partition_trunc == "none" else partition_trunc
            conn.execute(
                "UPDATE collections SET partition_trunc = %s"
                " WHERE id = %s AND partition_trunc IS DISTINCT FROM %s",
                (trunc, collection["id"], trunc),
            )


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message (libpq's messages run over several)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
