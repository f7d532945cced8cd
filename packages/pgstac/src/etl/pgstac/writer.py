"""``PgstacWriter``: the one door to a PgSTAC database for the rest of etl."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

import psycopg

from etl.core.errors import InputError, RemoteError
from etl.core.pod_contract import LoadMethod
from etl.pgstac.errors import is_transient_database_error
from etl.pgstac.item_events import ItemEventSpec
from etl.pgstac.items import DEFAULT_BATCH_SIZE, read_ndjson
from etl.pgstac.load import BatchReport, LoadResult, RowsOf, SourcesOf, load_items
from etl.pgstac.load_session import RowOf, item_row_formatter
from etl.pgstac.policy import LoadConcurrency, LoadRetryPolicy
from etl.pgstac.session import Connection, _first_line, connect_pgstac, upsert_collection_row

__all__ = ["PartitionTrunc", "PgstacWriter"]

PartitionTrunc = Literal["year", "month", "none"]
_T = TypeVar("_T")


class PgstacWriter:
    """Writes collections and items to one PgSTAC database, and reads back what tests need.

    Opened from a DSN the caller resolved (profiles and secrets are not looked at here). Loads open
    their own connection each, so one writer may serve loads from several threads; the read
    helpers share one connection, opened on first use.

    Example::

        with PgstacWriter(dsn) as writer:
            writer.upsert_collection(collection)
            result = writer.load_items(items, collection["id"], method="upsert")
    """

    def __init__(
        self,
        dsn: str,
        *,
        concurrency: LoadConcurrency | None = None,
        retry: LoadRetryPolicy | None = None,
    ) -> None:
        """Remember the DSN; nothing connects until first used.

        Args:
            dsn: a libpq connection string or URI.
            concurrency: the bound on concurrent loaders (default: one per collection).
            retry: retries of a batch after a dropped connection (default: 5 tries).
        """
        self.dsn = dsn
        self.concurrency = concurrency or LoadConcurrency()
        self.retry = retry or LoadRetryPolicy()
        self._conn: Connection | None = None

    def __enter__(self) -> PgstacWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the read connection, if open."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def upsert_collection(
        self, collection: Mapping[str, Any], *, partition_trunc: PartitionTrunc | None = None
    ) -> None:
        """Create the collection, or replace its content when its id exists.

        Args:
            collection: a STAC collection dict.
            partition_trunc: partition the collection's items by ``"year"`` or ``"month"`` of
                their datetime, or ``"none"`` for one partition; ``None`` keeps what it has (new
                collections start with one partition). Changing it moves existing items.

        Raises:
            InputError: the collection has no string id.
            RemoteError: PgSTAC refused it.
        """
        if not isinstance(collection.get("id"), str) or not collection["id"]:
            raise InputError("collection has no string 'id'; cannot ingest it into PgSTAC")
        self._run(
            f"upserting collection {collection['id']!r}",
            lambda conn: upsert_collection_row(conn, dict(collection), partition_trunc),
        )

    def load_items(
        self,
        items: Iterable[dict[str, Any]] | Path,
        collection_id: str,
        *,
        method: LoadMethod | str = LoadMethod.UPSERT,
        batch_size: int = DEFAULT_BATCH_SIZE,
        on_batch: Callable[[BatchReport], None] | None = None,
        source: str | None = None,
        sources: SourcesOf | None = None,
        rows: RowsOf | None = None,
        events: ItemEventSpec | None = None,
    ) -> LoadResult:
        """Stream items into a collection that exists, one batch in memory at a time.

        Each batch is one call to pypgstac's ``Loader`` and commits on its own: when a load
        fails, the batches before it stay loaded. A dropped connection is retried per batch with
        bounded backoff (re-sent with ``ignore`` when the method is ``insert``); the load waits for
        a load slot first (see :class:`LoadConcurrency`).

        Args:
            items: STAC item dicts, or the path of an ndjson file of them.
            collection_id: the target collection; every item's ``collection`` must equal it.
            method: ``upsert`` (replace), ``ignore`` (keep existing) or ``insert`` (fail on an
                existing id).
            batch_size: items per batch; the default is the fastest measured.
            on_batch: called after each committed batch.
            source: where the items come from, for error messages (defaults to the path).
            sources: gives each batch's ``etl.item_sources`` rows (which asset made which
                item), written after the batch commits, on its connection; the table must exist
                (:func:`etl.pgstac.item_sources.ensure_item_sources`).
            rows: gives each batch's pypgstac rows made ahead
                (:meth:`row_formatter`), so that the load does not format them.
            events: record an event of each item a batch creates or changes in ``etl.outbox``
                (which must exist: :func:`etl.pgstac.outbox.ensure_outbox`), in the batch's
                transaction; each batch is then one transaction (items, sources, events).

        Returns:
            How many items were loaded, in how many batches and seconds.

        Raises:
            ItemError: an item is malformed or belongs to another collection (names the item).
            CollectionNotFoundError: PgSTAC has no collection ``collection_id``.
            ItemIdConflictError: method ``insert`` met ids that exist (lists them).
            LoadSlotTimeoutError: no load slot became free in time.
            RemoteError: PgSTAC refused a batch, or faults outlasted the retry policy.
        """
        try:
            load_method = LoadMethod(method)
        except ValueError:
            choices = ", ".join(m.value for m in LoadMethod)
            raise InputError(f"unknown load method {method!r}; use one of: {choices}") from None
        if isinstance(items, Path):
            source = source or str(items)
            items = read_ndjson(items)
        return load_items(
            self.dsn,
            items,
            collection_id,
            method=load_method,
            batch_size=batch_size,
            retry=self.retry,
            concurrency=self.concurrency,
            on_batch=on_batch,
            source=source,
            sources=sources,
            rows=rows,
            events=events,
        )

    def row_formatter(self, collection_id: str) -> RowOf:
        """Formats the collection's items into the rows a load writes, ahead of the load and
        without the database (for ``load_items``' ``rows``); thread-safe.

        Raises:
            CollectionNotFoundError: PgSTAC has no collection ``collection_id``.
            RemoteError: PgSTAC cannot be read.
        """
        return self._run(
            f"reading collection {collection_id!r}",
            lambda conn: item_row_formatter(conn, collection_id),
        )

    def get_collection(self, collection_id: str) -> dict[str, Any] | None:
        """The collection's content as stored, or ``None`` when PgSTAC has no such collection."""
        row = self._fetch_one("SELECT content FROM collections WHERE id = %s", (collection_id,))
        return None if row is None else dict(row[0])

    def partition_trunc(self, collection_id: str) -> str | None:
        """How the collection's items are partitioned by time: ``year``, ``month`` or ``None``."""
        row = self._fetch_one(
            "SELECT partition_trunc FROM collections WHERE id = %s", (collection_id,)
        )
        return None if row is None else row[0]

    def count_items(self, collection_id: str) -> int:
        """How many items the collection has (every partition counted)."""
        row = self._fetch_one("SELECT count(*) FROM items WHERE collection = %s", (collection_id,))
        return int(row[0]) if row else 0

    def item_ids(self, collection_id: str) -> list[str]:
        """The ids of the collection's items, sorted; an id stored twice appears twice."""
        return self._run(
            f"listing items of {collection_id!r}",
            lambda conn: [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM items WHERE collection = %s ORDER BY id", (collection_id,)
                )
            ],
        )

    def get_item(self, collection_id: str, item_id: str) -> dict[str, Any] | None:
        """One item as PgSTAC serves it (hydrated), or ``None`` when it does not exist."""
        row = self._fetch_one("SELECT get_item(%s, %s)", (item_id, collection_id))
        return None if row is None or row[0] is None else dict(row[0])

    def _fetch_one(self, query: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        return self._run("reading PgSTAC", lambda conn: conn.execute(query, params).fetchone())

    def _run(self, doing: str, action: Callable[[Connection], _T]) -> _T:
        """Run ``action`` on the read connection, turning database errors into RemoteError."""
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = connect_pgstac(self.dsn)
        try:
            return action(self._conn)
        except psycopg.Error as exc:
            raise RemoteError(
                f"{doing} failed: {_first_line(exc)}", transient=is_transient_database_error(exc)
            ) from exc
