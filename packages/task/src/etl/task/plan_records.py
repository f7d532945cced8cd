"""``etl dataset plan``'s read of a collection's ``etl.item_sources`` rows, in a child process
beside the listing.

A plan is one Python process, and its threads take turns under one interpreter lock: on a
thread, the read (importing psycopg, about 0.2 s of CPU, connecting, building 20,000 rows) took
turns with the listing instead of running beside it. :func:`start_reading` forks a child that
does the read on another core while the parent lists; the child hands back the rows as plain
tuples, pickled through a pipe, or the exception the read raised (an :class:`~etl.core.errors.
RemoteError` keeps its message and ``transient``), which :meth:`RecordsRead.result` raises in
the parent as the read on a thread did. The fork happens before the plan starts any thread, and
the child only reads and leaves with ``os._exit`` (no buffered output flushed twice, no
``atexit`` run).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from concurrent.futures import Executor, Future
from datetime import datetime
from typing import TypeAlias

__all__ = ["RecordRow", "RecordsRead", "read_records", "start_reading"]

RecordRow: TypeAlias = tuple[str, str, str, datetime, str | None, bool]
"""A :class:`etl.pgstac.item_sources.RecordedItem` as a plain tuple: ``(item_id, asset,
content_hash, loaded_at, bundle, in_pgstac)``."""


def read_records(dsn: str, collection: str) -> list[RecordRow]:
    """The collection's ``etl.item_sources`` rows (:func:`etl.pgstac.item_sources.recorded_items`),
    their times in UTC.

    Raises:
        RemoteError: PgSTAC cannot be read.
    """
    from etl.pgstac.item_sources import recorded_items
    from etl.pgstac.session import connect_pgstac

    with connect_pgstac(dsn) as conn:
        # Times in UTC, as the listing's are: compared under the server's zone (a ZoneInfo asked
        # for its offset at every comparison), they cost a plan 4 times as much CPU.
        conn.execute("SET TimeZone TO 'UTC'")
        return [tuple(row) for row in recorded_items(conn, collection)]  # type: ignore[misc]


class RecordsRead:
    """A read started by :func:`start_reading`; :meth:`result` waits for it."""

    def __init__(self, future: Future[bytes]) -> None:
        self._future = future

    def result(self) -> list[RecordRow]:
        """The rows, or the exception the read raised (e.g. ``RemoteError``), raised here."""
        kind, value = pickle.loads(self._future.result())
        if kind == "error":
            raise value
        rows: list[RecordRow] = value
        return rows


def start_reading(dsn: str, collection: str, executor: Executor) -> RecordsRead:
    """Start :func:`read_records` of ``collection`` in a forked child; ``executor`` runs the
    thread that drains the child's pipe (so the child never waits on a full pipe) and reaps it.
    Call it before starting any thread of one's own (a child gets only the forking thread)."""
    readable, writable = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: read, write the outcome, leave
        os.close(readable)
        _child(writable, lambda: read_records(dsn, collection))
    os.close(writable)
    return RecordsRead(executor.submit(_drain, readable, pid))


def _child(writable: int, read: Callable[[], object]) -> None:
    code = 0
    try:
        try:
            outcome: tuple[str, object] = ("rows", read())
        except Exception as exc:  # raised in the parent, as on a thread
            outcome = ("error", exc)
        try:
            data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # an exception that does not pickle: its type and message
            error = outcome[1]
            data = pickle.dumps(("error", RuntimeError(f"{type(error).__name__}: {error}")))
        with os.fdopen(writable, "wb") as out:
            out.write(data)
    except BaseException:  # interrupted, or the parent gone: nothing to tell
        code = 1
    finally:
        os._exit(code)


def _drain(readable: int, pid: int) -> bytes:
    """Everything the child wrote, once it has left."""
    with os.fdopen(readable, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    if not data:
        raise RuntimeError("the plan's read of etl.item_sources ended without an answer")
    return data
