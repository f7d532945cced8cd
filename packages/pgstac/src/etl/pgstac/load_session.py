"""The load session: one connection that loads a collection's batches through pypgstac, holding
a load slot per batch, and the formatting of items into pypgstac's rows outside the slot.

The one module of ``etl.pgstac`` that imports pypgstac's loader (half a second): connections
alone are :mod:`etl.pgstac.session`'s.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, cast

import psycopg
from pypgstac.db import PgstacDB
from pypgstac.load import Loader, Methods

from etl.core.errors import RemoteError
from etl.core.pod_contract import LoadMethod
from etl.pgstac.errors import CollectionNotFoundError
from etl.pgstac.item_events import (
    ItemEventSpec,
    copied_versions,
    item_versions,
    prepare_load_events,
    record_load_events,
)
from etl.pgstac.item_rows import format_row
from etl.pgstac.item_sources import ItemSource, record_item_sources
from etl.pgstac.items import Batch
from etl.pgstac.policy import LoadConcurrency
from etl.pgstac.session import Connection, _connect, collection_exists, existing_ids
from etl.pgstac.slots import acquire_load_slot, release_load_slot

__all__ = ["LoadSession", "RowOf", "item_row_formatter"]

RowOf = Callable[[dict[str, Any]], dict[str, Any]]
"""An item -> the row pypgstac writes for it (:func:`item_row_formatter`)."""


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
        copies of those given in ``rows`` (a batch sent again reads their ``partition``), the
        others formatted here."""
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
    Here the lookup is a plain attribute read; the rows need no connection after creation, and
    are made by :mod:`etl.pgstac.item_rows` (a third of pypgstac's time).
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

    def format_row(self, item: dict[str, Any]) -> dict[str, Any]:
        """The row pypgstac writes for ``item``, by :func:`etl.pgstac.item_rows.format_row`
        (pypgstac's ``format_item`` for items outside its fast path)."""
        if item.get("collection") != self._collection_id:
            return super().format_row(item)
        return format_row(item, self._collection, super().format_row)


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
            self._new_items = True
            """Whether batches are first copied as new items (until one meets an existing id)."""
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

        With ``events``, the batch is one transaction instead, holding the slot: the items and the
        events of the items it created or changed (``etl.outbox``) commit together or not at all
        (:mod:`etl.pgstac.item_events`; the events' JSON is made before the slot is taken, and
        ``sources`` are written after it is given back, as without events).

        The items are formatted first (most of pypgstac's client-side work; ``rows`` gives
        those formatted already, by :func:`item_row_formatter`), then a load slot is held only
        while the rows are written: concurrent loaders take turns at the items' partitions, not
        at their own CPU work nor at the provenance table.

        Raises:
            LoadSlotTimeoutError: no slot became free in time.
            psycopg.Error: the database refused the batch or the connection dropped.
        """
        formatted = self._loader.format_rows(batch.items, rows)
        made = (
            None if events is None else prepare_load_events(events, self.collection_id, batch.items)
        )
        slot = acquire_load_slot(self.conn, self.collection_id, self.concurrency)
        if made is None:
            new = self._write(formatted, method, new=self._new_items)
        else:
            with self.conn.transaction():
                new, before, after = self._write_versioned(formatted, method, batch.ids)
                record_load_events(self.conn, made, before=before, after=after)
        release_load_slot(self.conn, self.collection_id, self.concurrency, slot)
        if sources:
            record_item_sources(self.conn, sources, new=new)

    def _write(self, formatted: list[dict[str, Any]], method: LoadMethod, *, new: bool) -> bool:
        """Write the rows; returns whether they went in as new items (:meth:`_copied_new` when
        they are believed ``new`` or the method is ``insert``, else ``method``)."""
        if (new or method is LoadMethod.INSERT) and self._copied_new(formatted, method):
            return True
        self._load_rows(formatted, Methods(method.value))
        return False

    def _write_versioned(
        self, formatted: list[dict[str, Any]], method: LoadMethod, ids: list[str]
    ) -> tuple[bool, dict[str, str], dict[str, str]]:
        """Write the rows inside the caller's transaction: whether they went in as new items, and
        the ids' row versions before and after (:mod:`etl.pgstac.item_events`). Rows believed
        new are copied first, in a savepoint: the copy succeeds only when none of the ids was
        there, so nothing is read before it, and little after it
        (:func:`~etl.pgstac.item_events.copied_versions`)."""
        if self._new_items:
            by_partition: dict[str, list[str]] = {}
            for row in formatted:
                by_partition.setdefault(row["partition"], []).append(row["id"])
            if self._copied_new(formatted, method, savepoint=True):
                return True, {}, copied_versions(self.conn, self.collection_id, by_partition)
        before = item_versions(self.conn, self.collection_id, ids)
        new = self._write(formatted, method, new=not before)
        return new, before, item_versions(self.conn, self.collection_id, ids)

    def _copied_new(
        self, formatted: list[dict[str, Any]], method: LoadMethod, *, savepoint: bool = False
    ) -> bool:
        """Copy the rows straight into their partitions, as ``insert`` does, whatever the method:
        ``upsert`` and ``ignore`` first copy into a staging table, then merge with a lock on the
        partition, for about 15% more of the database's CPU and no other effect on items the
        collection lacks. ``False`` when an id was there after all (the copy fails as a whole,
        per partition; with ``savepoint``, every partition's copy is undone): the batch is then
        sent again with ``method``, which leaves rows already written as they are, and the
        session stops guessing.

        Raises:
            psycopg.errors.UniqueViolation: an id was there and the method is ``insert``.
        """
        try:
            with self.conn.transaction() if savepoint else contextlib.nullcontext():
                self._load_rows(formatted, Methods.insert)
            return True
        except psycopg.errors.UniqueViolation:
            if method is LoadMethod.INSERT:
                raise
            self._new_items = False
            return False

    def _load_rows(self, formatted: list[dict[str, Any]], method: Methods) -> None:
        self._loader.load_items(iter(formatted), method, chunksize=len(formatted))

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
