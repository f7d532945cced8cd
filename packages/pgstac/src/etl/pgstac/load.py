"""Loading a stream of items into one PgSTAC collection: batches, retries, clash reports.

The stream is cut into checked batches (:func:`etl.pgstac.items.iter_batches`); each batch goes
through pypgstac's ``Loader`` on a :class:`LoadSession` that holds a load slot. A dropped
connection closes the session; the batch is re-sent on a new one after a bounded backoff, with an
idempotent method, so nothing is lost and nothing is duplicated.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

from etl.core.errors import EtlError, RemoteError
from etl.core.pod_contract import LoadMethod
from etl.pgstac.errors import ItemError, ItemIdConflictError, is_transient_database_error
from etl.pgstac.item_events import ItemEventSpec
from etl.pgstac.item_sources import ItemSource
from etl.pgstac.items import Batch, iter_batches
from etl.pgstac.load_session import LoadSession
from etl.pgstac.policy import LoadConcurrency, LoadRetryPolicy
from etl.pgstac.session import _first_line

__all__ = ["BatchReport", "LoadResult", "RowsOf", "SourcesOf", "load_items"]

logger = logging.getLogger(__name__)

SourcesOf = Callable[[list[dict[str, Any]]], list[ItemSource]]
"""The ``etl.item_sources`` rows of a batch's items, written right after the batch."""

RowsOf = Callable[[list[dict[str, Any]]], "list[dict[str, Any] | None]"]
"""The pypgstac rows of a batch's items made ahead (:meth:`PgstacWriter.row_formatter`);
``None`` for an item to format at load time."""


@dataclass(frozen=True)
class LoadResult:
    """What a load did."""

    items: int
    """Items sent and committed (with ``ignore``, existing ones count as sent)."""
    seconds: float
    batches: int
    retries: int
    """Batches re-sent after a transient fault."""

    @property
    def items_per_second(self) -> float:
        """Throughput of the whole load."""
        return self.items / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class BatchReport:
    """Sent to ``on_batch`` after each committed batch."""

    index: int
    items: int
    loaded: int
    """Items committed so far, this batch included."""
    retries: int
    """Retries this batch needed."""
    backend_pid: int
    """PostgreSQL backend process of the session that loaded it."""


def load_items(
    dsn: str,
    items: Iterable[dict[str, Any]],
    collection_id: str,
    *,
    method: LoadMethod,
    batch_size: int,
    retry: LoadRetryPolicy,
    concurrency: LoadConcurrency,
    on_batch: Callable[[BatchReport], None] | None = None,
    source: str | None = None,
    sources: SourcesOf | None = None,
    rows: RowsOf | None = None,
    events: ItemEventSpec | None = None,
) -> LoadResult:
    """Load ``items`` into ``collection_id`` batch by batch; see :meth:`PgstacWriter.load_items`."""
    started = time.perf_counter()
    loader = _BatchLoader(dsn, collection_id, method, retry, concurrency)
    loaded = batches = 0
    try:
        loader.open_session()
        for batch in iter_batches(items, collection_id, batch_size, source=source):
            made = rows(batch.items) if rows is not None else None
            recorded = sources(batch.items) if sources is not None else []
            retries = loader.load(batch, recorded, made, loaded_before=loaded, events=events)
            loaded += len(batch.items)
            batches += 1
            if on_batch is not None:
                on_batch(BatchReport(batch.index, len(batch.items), loaded, retries, loader.pid))
    finally:
        loader.close()
    return LoadResult(loaded, time.perf_counter() - started, batches, loader.retries)


class _BatchLoader:
    """Sends batches through a session, replacing the session when its connection drops."""

    def __init__(
        self,
        dsn: str,
        collection_id: str,
        method: LoadMethod,
        retry: LoadRetryPolicy,
        concurrency: LoadConcurrency,
    ) -> None:
        self.dsn = dsn
        self.collection_id = collection_id
        self.method = method
        self.retry = retry
        self.concurrency = concurrency
        self.session: LoadSession | None = None
        self.retries = 0

    @property
    def pid(self) -> int:
        """Backend pid of the current session."""
        return self.session.backend_pid if self.session else 0

    def open_session(self) -> LoadSession:
        """The current session, opening one (with retries) when there is none."""
        attempt = 1
        while self.session is None:
            try:
                self.session = LoadSession(self.dsn, self.collection_id, self.concurrency)
            except psycopg.OperationalError as exc:
                self._wait_or_fail(attempt, exc, "connecting to PgSTAC")
                attempt += 1
        return self.session

    def load(
        self,
        batch: Batch,
        sources: list[ItemSource],
        rows: list[dict[str, Any] | None] | None,
        *,
        loaded_before: int,
        events: ItemEventSpec | None = None,
    ) -> int:
        """Load one batch (``rows``: its pypgstac rows made ahead, if any) and then record its
        ``sources`` (with ``events``: in the batch's one transaction, with its item events),
        retrying transient faults; returns how many retries it took.

        Raises:
            ItemIdConflictError: method ``insert`` met existing ids.
            ItemError: pypgstac refused an item of the batch.
            RemoteError: PgSTAC refused the batch, or faults outlasted the retry policy.
        """
        attempt = 1
        while True:
            session = self.open_session()
            method = self.method if attempt == 1 else self.method.for_retry
            try:
                if method is LoadMethod.INSERT:
                    clashes = session.existing_ids(batch.ids)
                    if clashes:
                        raise ItemIdConflictError(self.collection_id, clashes, loaded_before)
                session.load(batch, method, sources, rows, events)
                return attempt - 1
            except psycopg.OperationalError as exc:
                self.close()
                self._wait_or_fail(attempt, exc, f"loading batch {batch.index}")
                attempt += 1
            except psycopg.errors.UniqueViolation as exc:
                clashes = session.existing_ids(batch.ids)
                raise ItemIdConflictError(self.collection_id, clashes, loaded_before) from exc
            except psycopg.Error as exc:
                raise RemoteError(
                    f"PgSTAC refused batch {batch.index} of collection {self.collection_id!r} "
                    f"(items #{batch.first}-#{batch.first + len(batch.items) - 1}): "
                    f"{_first_line(exc)}"
                ) from exc
            except EtlError:
                raise
            except Exception as exc:  # pypgstac refuses bad items with plain Exceptions
                raise ItemError(
                    f"pypgstac refused the batch: {exc}",
                    item_id=None,
                    source=f"items #{batch.first}-#{batch.first + len(batch.items) - 1}",
                ) from exc

    def _wait_or_fail(self, attempt: int, exc: psycopg.OperationalError, doing: str) -> None:
        """Sleep before the next attempt; raise at once for a permanent fault, or once spent."""
        transient = is_transient_database_error(exc)
        if not transient or attempt >= self.retry.attempts:
            raise RemoteError(
                f"{doing} for collection {self.collection_id!r} failed after {attempt} "
                f"attempt(s): {_first_line(exc)}",
                transient=transient,
            ) from exc
        delay = self.retry.delay(attempt)
        logger.warning("%s failed (%s); retrying in %.1fs", doing, _first_line(exc), delay)
        self.retries += 1
        time.sleep(delay)

    def close(self) -> None:
        """Close the current session, if any."""
        if self.session is not None:
            session, self.session = self.session, None
            try:
                session.close()
            except psycopg.Error:
                logger.debug("closing a broken PgSTAC session failed", exc_info=True)
