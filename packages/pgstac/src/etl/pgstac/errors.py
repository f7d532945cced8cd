"""Errors of etl.pgstac: subclasses of :mod:`etl.core.errors`, carrying what they are about.

::

    InputError
    └── ItemError                 an item cannot be loaded as given (no id, wrong collection, ...)
    RemoteError
    ├── CollectionNotFoundError   items were loaded into a collection PgSTAC does not have
    ├── ItemIdConflictError       method ``insert`` met ids that already exist
    └── LoadSlotTimeoutError      no load slot of a collection became free in time (transient)

:func:`is_transient_database_error` says which database errors a retry may cure;
:func:`database_error` makes a psycopg error etl's one-line :class:`RemoteError`.
"""

from __future__ import annotations

from collections.abc import Sequence

from etl.core.errors import InputError, RemoteError

__all__ = [
    "CollectionNotFoundError",
    "ItemError",
    "ItemIdConflictError",
    "LoadSlotTimeoutError",
    "database_error",
    "is_transient_database_error",
]

_TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57P")
"""Connection exceptions, insufficient resources, operator intervention (shutdown, restart)."""
_TRANSIENT_SQLSTATES = ("40001", "40P01")
"""Serialization failure, deadlock: the transaction may succeed when run again."""
_CONNECT_REFUSALS = (
    "password authentication failed",
    "does not exist",
    "no pg_hba.conf entry",
    "no password supplied",
    "permission denied",
)
"""What the server says when it refuses a connection for good (the database, role or login)."""

_SHOWN_IDS = 10


class ItemError(InputError):
    """An item cannot be loaded as given; names the item and where it came from."""

    def __init__(self, message: str, *, item_id: str | None, source: str | None = None) -> None:
        self.item_id = item_id
        self.source = source
        where = f"{source}: " if source else ""
        what = f"item {item_id!r}: " if item_id is not None else ""
        super().__init__(f"{where}{what}{message}")


class CollectionNotFoundError(RemoteError):
    """The target collection does not exist in PgSTAC."""

    def __init__(self, collection_id: str) -> None:
        self.collection_id = collection_id
        super().__init__(
            f"collection {collection_id!r} does not exist in PgSTAC; ingest the collection first"
        )


class ItemIdConflictError(RemoteError):
    """Method ``insert`` met item ids that already exist; the clashing batch was not loaded."""

    def __init__(self, collection_id: str, ids: Sequence[str], loaded_before: int) -> None:
        self.collection_id = collection_id
        self.ids = list(ids)
        self.loaded_before = loaded_before
        shown = ", ".join(self.ids[:_SHOWN_IDS])
        more = f" and {len(self.ids) - _SHOWN_IDS} more" if len(self.ids) > _SHOWN_IDS else ""
        super().__init__(
            f"insert into collection {collection_id!r}: {len(self.ids)} item id(s) already exist: "
            f"{shown}{more}; that batch was not loaded ({loaded_before} items loaded before it); "
            "use method 'upsert' to replace or 'ignore' to keep existing items"
        )


class LoadSlotTimeoutError(RemoteError):
    """Every load slot of a collection stayed busy for longer than the allowed wait."""

    transient = True

    def __init__(self, scope: str, slots: int, waited: float) -> None:
        self.scope = scope
        self.slots = slots
        self.waited = waited
        super().__init__(
            f"no PgSTAC load slot for {scope!r} became free within {waited:.0f}s "
            f"({slots} slot(s), all held by other loaders)"
        )


def is_transient_database_error(exc: Exception) -> bool:
    """Whether trying again may cure ``exc``, a psycopg error.

    A connection that could not be made or was dropped is transient, unless the server answered
    and refused it (libpq gives no SQLSTATE then, only the server's message): a wrong password, an
    unknown role or database. Errors with a SQLSTATE are transient by class (connection,
    resources, shutdown; serialization failures and deadlocks).
    """
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate.startswith(_TRANSIENT_SQLSTATE_CLASSES) or sqlstate in _TRANSIENT_SQLSTATES
    if type(exc).__name__ != "OperationalError":
        return False
    return not any(refusal in str(exc) for refusal in _CONNECT_REFUSALS)


def database_error(exc: Exception, doing: str) -> RemoteError:
    """``exc``, a psycopg error met while ``doing``, as a :class:`RemoteError` of one line
    (libpq's messages run over several), transient when a retry may cure it."""
    text = str(exc).strip()
    detail = text.splitlines()[0] if text else type(exc).__name__
    return RemoteError(f"{doing} failed: {detail}", transient=is_transient_database_error(exc))
