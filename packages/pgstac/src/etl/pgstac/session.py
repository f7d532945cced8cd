"""Connections to PgSTAC, and the load session: one connection holding a load slot.

Every connection etl opens to PgSTAC goes through :func:`connect_pgstac`, which sets
``search_path`` to ``pgstac, public``: pgstac's functions fail for the ``postgres`` superuser
without it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import psycopg
from psycopg.types.json import Jsonb
from pypgstac.db import PgstacDB
from pypgstac.load import Loader, Methods

from etl.core.errors import RemoteError
from etl.core.pod_contract import LoadMethod
from etl.pgstac.errors import CollectionNotFoundError, is_transient_database_error
from etl.pgstac.item_events import ItemEventSpec, item_versions, record_load_events
from etl.pgstac.item_sources import ItemSource, forget_orphan_sources, record_item_sources
from etl.pgstac.items import Batch
from etl.pgstac.policy import LoadConcurrency
from etl.pgstac.slots import acquire_load_slot, release_load_slot

__all__ = [
    "Connection",
    "LoadSession",
    "RowOf",
    "connect_pgstac",
    "existing_ids",
    "item_row_formatter",
]

RowOf = Callable[[dict[str, Any]], dict[str, Any]]
"""An item -> the row pypgstac writes for it (:func:`item_row_formatter`)."""

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


class _SessionDB(PgstacDB):
    """pypgstac's database handle on a connection we own, instead of its own pool."""

    def __init__(self, conn: Connection) -> None:
        super().__init__(dsn="", connection=conn, commit_on_exit=False)
        self._conn = conn

    def connect(self) -> Connection:
        return self._conn


class _SplitLoader(Loader):
    """pypgstac's ``Loader`` with its per-item formatting (dehydration, geometry to WKB, JSON)
    split off, so that it can run before a load slot is taken: :meth:`format_rows` formats, and
    ``load_items`` then gets the formatted rows, which ``format_item`` passes through."""

    def format_rows(
        self, items: list[dict[str, Any]], rows: list[dict[str, Any] | None] | None = None
    ) -> list[dict[str, Any]]:
        """The rows pypgstac writes for ``items`` (the items themselves are left as they are):
        copies of those given in ``rows``, the others formatted here."""
        if rows is None:
            return [self.format_row(item) for item in items]
        return [
            self.format_row(item) if row is None else dict(row)  # pypgstac pops "partition"
            for item, row in zip(items, rows, strict=True)
        ]

    def format_row(self, item: dict[str, Any]) -> dict[str, Any]:
        """The row pypgstac writes for ``item``."""
        return Loader.format_item(self, item)

    def format_item(self, _item: Any) -> dict[str, Any]:
        """A row from :meth:`format_rows`, as it is."""
        return cast(dict[str, Any], _item)


class _OneCollectionLoader(_SplitLoader):
    """A :class:`_SplitLoader` of one collection, whose base item it reads once, at creation.

    pypgstac looks the base item up for every item it formats, through a cache that takes a lock
    per call: the item maker's threads queued on it (a tenth of their time in a pod's profile).
    Here the lookup is a plain attribute read; the rows need no connection after creation.
    """

    def __init__(self, db: PgstacDB, collection_id: str) -> None:
        super().__init__(db)
        self._collection_id = collection_id
        self._collection: tuple[Any, ...] = super().collection_json(collection_id)

    def collection_json(self, collection_id: str) -> tuple[Any, ...]:
        """The collection's base item, key, partitioning and base item id, as pypgstac's.

        Raises:
            ValueError: ``collection_id`` is another collection (its items are formatted at load
                time, which names the mismatch).
        """
        if collection_id != self._collection_id:
            raise ValueError(f"not an item of collection {self._collection_id!r}")
        return self._collection


class LoadSession:
    """One connection that loads batches of a collection through pypgstac, each batch holding
    one of the collection's load slots (an advisory lock of this connection, so it also ends when
    the connection drops; the session is then closed and a new one opened).
    """

    def __init__(self, dsn: str, collection_id: str, concurrency: LoadConcurrency) -> None:
        """Connect and check that the collection exists.

        Raises:
            psycopg.OperationalError: the database cannot be reached (the caller retries).
            RemoteError: the database's pgstac version does not match pypgstac's.
            CollectionNotFoundError: PgSTAC has no such collection.
        """
        self.collection_id = collection_id
        self.conn = _connect(dsn)
        try:
            if not collection_exists(self.conn, collection_id):
                raise CollectionNotFoundError(collection_id)
            self.concurrency = concurrency
            self.backend_pid: int = self.conn.info.backend_pid
            self._db = _SessionDB(self.conn)
            self._loader = _SplitLoader(self._db)
            _check_version(self._loader)
        except BaseException:
            self.conn.close()
            raise

    def load(
        self,
        batch: Batch,
        method: LoadMethod,
        sources: list[ItemSource],
        rows: list[dict[str, Any] | None] | None = None,
        events: ItemEventSpec | None = None,
    ) -> None:
        """Load one batch with ``method``; pypgstac commits it per partition. Then its
        ``sources`` rows are written (``etl.item_sources``), once the slot is given back.

        With ``events``, the batch is one transaction instead, holding the slot: the items, their
        ``sources`` and the events of the items it created or changed (``etl.outbox``) commit
        together or not at all (:mod:`etl.pgstac.item_events`).

        The items are formatted first (most of pypgstac's client-side work; ``rows`` gives
        those formatted already, by :func:`item_row_formatter`), then a load slot is held only
        while the rows are written: concurrent loaders take turns at the items' partitions, not
        at their own CPU work nor at the provenance table.

        Raises:
            LoadSlotTimeoutError: no slot became free in time.
            psycopg.Error: the database refused the batch or the connection dropped.
        """
        formatted = self._loader.format_rows(batch.items, rows)
        slot = acquire_load_slot(self.conn, self.collection_id, self.concurrency)
        if events is not None:
            with self.conn.transaction():
                before = item_versions(self.conn, self.collection_id, batch.ids)
                self._write(formatted, method)
                after = item_versions(self.conn, self.collection_id, batch.ids)
                if sources:
                    record_item_sources(self.conn, sources)
                record_load_events(
                    self.conn, events, self.collection_id, batch.items, before=before, after=after
                )
            release_load_slot(self.conn, self.collection_id, self.concurrency, slot)
            return
        self._write(formatted, method)
        release_load_slot(self.conn, self.collection_id, self.concurrency, slot)
        if sources:
            record_item_sources(self.conn, sources)

    def _write(self, formatted: list[dict[str, Any]], method: LoadMethod) -> None:
        self._loader.load_items(iter(formatted), Methods(method.value), chunksize=len(formatted))

    def existing_ids(self, ids: list[str]) -> list[str]:
        """Those of ``ids`` already in the collection."""
        return existing_ids(self.conn, self.collection_id, ids)

    def close(self) -> None:
        """Close the connection (releasing the slot) and any pool pypgstac made after an error."""
        if hasattr(self, "_db"):
            self._db.close()
        self.conn.close()


def item_row_formatter(conn: Connection, collection_id: str) -> RowOf:
    """Formats items of the collection into pypgstac's rows as a :class:`LoadSession` would,
    without the database: the collection's base item is read now, on ``conn``. Safe to call
    from several threads; a row it makes is passed to :meth:`LoadSession.load`.

    Raises:
        CollectionNotFoundError: PgSTAC has no such collection.
    """
    if not collection_exists(conn, collection_id):
        raise CollectionNotFoundError(collection_id)
    return _OneCollectionLoader(_SessionDB(conn), collection_id).format_row


def _check_version(loader: Loader) -> None:
    """Refuse a database whose pgstac version pypgstac cannot load into."""
    try:
        loader.check_version()
    except psycopg.Error:
        raise
    except Exception as exc:  # pypgstac reports a mismatch with a plain Exception
        raise RemoteError(f"PgSTAC: {exc}") from exc


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
