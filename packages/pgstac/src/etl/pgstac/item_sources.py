"""Which asset made which item: the table ``etl.item_sources`` in the PgSTAC database.

etl's own schema ``etl`` (never pgstac's) holds one row per item of a collection: the asset URI
whose ``create_item`` made it, a hash of its content, the run that loaded it and when. A
``create_item`` that yields several items for one asset gives several rows with the same asset.
The loader writes a batch's rows right after the batch commits, on the same connection; removals
(``--remove-missing``) and ``etl dataset plan``/``status`` read them.

**PgSTAC is the truth; a row counts only while its item exists.** Items leave PgSTAC by other
doors than etl's removals: ``delete from pgstac.items`` by hand (the docs' way of starting over),
a collection deleted (its items go by cascade), pypgstac or another tool. A row left behind would
make ``etl dataset plan`` call an item "unchanged" that a run must add, count it "removed" when
its asset is gone although nothing would be deleted, inflate ``status``'s ``recorded`` and the
``max_removals`` guard's count. So every read here (:func:`item_sources_of`,
:func:`count_item_sources`) keeps only rows whose item the collection has (``EXISTS`` on pgstac's
``items``, by collection and id: one row per item, so an asset that made several items keeps the
rows of those still there); :func:`recorded_items`, the plan's, reads every row and says which. That holds whatever deleted the items, with no trigger in pgstac's
schema and no bookkeeping to forget; it costs one semi-join on the collection's partitions, which
pgstac indexes by id (a few tenths of a second in the database for 100,000 rows, see
docs/performance.md), small beside the plan's making of every item.
Rows left behind are cleared when they can only be stale: a collection created anew
(:func:`etl.pgstac.session.upsert_collection_row`) forgets its id's rows
(:func:`forget_orphan_sources`), and an item loaded again replaces its row.

``content_hash`` is the sha256 of the item's canonical JSON (keys sorted, no whitespace, UTF-8,
as ``orjson`` writes it) without the volatile fields in :data:`VOLATILE_PROPERTIES`.

Only psycopg is needed here (not pypgstac); every function takes an open connection (autocommit,
as :func:`etl.pgstac.connect_pgstac` opens them) and does its writes in one transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from itertools import starmap
from typing import Any, NamedTuple

import psycopg

__all__ = [
    "TABLE",
    "VOLATILE_PROPERTIES",
    "ItemSource",
    "RecordedItem",
    "canonical_json",
    "content_hash",
    "count_item_sources",
    "ensure_item_sources",
    "forget_item_sources",
    "forget_orphan_sources",
    "item_sources_of",
    "item_sources_of_assets",
    "record_item_sources",
    "recorded_items",
]

TABLE = "etl.item_sources"

VOLATILE_PROPERTIES = ("created", "updated")
"""``properties`` left out of ``content_hash``: timestamps a ``create_item`` may set to "now"."""

_DDL = """
CREATE SCHEMA IF NOT EXISTS etl;
CREATE TABLE IF NOT EXISTS etl.item_sources (
    collection text NOT NULL,
    item_id text NOT NULL,
    asset text NOT NULL,
    content_hash text NOT NULL,
    run_id text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collection, item_id)
);
CREATE INDEX IF NOT EXISTS item_sources_asset_idx ON etl.item_sources (collection, asset);
ALTER TABLE etl.item_sources ADD COLUMN IF NOT EXISTS bundle text;
"""

_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS item_sources_staging (
    collection text, item_id text, asset text, content_hash text, run_id text, bundle text
) ON COMMIT DELETE ROWS
"""
"""Where a batch's rows are copied before :data:`_MERGE` (one per session, emptied at commit)."""

_COLUMNS = "(collection, item_id, asset, content_hash, run_id, bundle)"

_COPY = f"COPY item_sources_staging {_COLUMNS} FROM STDIN"

_COPY_NEW = f"COPY etl.item_sources {_COLUMNS} FROM STDIN"
"""Rows of items loaded for the first time, copied straight into the table (``loaded_at`` by its
default, the transaction's time, as :data:`_MERGE` sets it)."""

_MERGE = """
INSERT INTO etl.item_sources (collection, item_id, asset, content_hash, run_id, loaded_at, bundle)
SELECT collection, item_id, asset, content_hash, run_id, now(), bundle FROM item_sources_staging
ON CONFLICT (collection, item_id) DO UPDATE SET
    asset = EXCLUDED.asset,
    content_hash = EXCLUDED.content_hash,
    run_id = EXCLUDED.run_id,
    loaded_at = EXCLUDED.loaded_at,
    bundle = EXCLUDED.bundle
"""

_HAS_ITEM = (
    "EXISTS (SELECT 1 FROM pgstac.items i WHERE i.collection = %(collection)s AND i.id = s.item_id)"
)
"""A row's item is in PgSTAC (``s`` is the row; the constant collection prunes partitions)."""

_LOCK = "SELECT pg_advisory_xact_lock(hashtext('etl.item_sources'))"

Connection = psycopg.Connection[Any]


class ItemSource(NamedTuple):
    """One row: the item ``item_id`` of ``collection`` was made from ``asset``.

    A named tuple, not a dataclass: a pod's loader makes one per item it loads, and a frozen
    dataclass took a tenth of the loader's CPU to build (docs/performance.md).
    """

    collection: str
    item_id: str
    asset: str
    content_hash: str
    run_id: str
    loaded_at: datetime | None = None
    """When the row was written (set by the database; ``None`` on rows not yet written)."""
    bundle: str | None = None
    """The digest of the code bundle that made the item (``None``: not run from a bundle)."""


class RecordedItem(NamedTuple):
    """A row as :func:`recorded_items` reads it for ``etl dataset plan``."""

    item_id: str
    asset: str
    content_hash: str
    loaded_at: datetime
    bundle: str | None
    in_pgstac: bool
    """Whether PgSTAC has the item (a row of an item deleted outside etl counts for nothing)."""


def content_hash(item: Mapping[str, Any]) -> str:
    """sha256 (hex) of the item's canonical JSON without :data:`VOLATILE_PROPERTIES`."""
    return canonical_json(item)[1]


def canonical_json(item: Mapping[str, Any]) -> tuple[bytes, str]:
    """The item's canonical JSON (keys sorted, no whitespace, UTF-8) and its
    :func:`content_hash`, serialised once when the item has no volatile properties."""
    import orjson

    text = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
    properties = item.get("properties")
    if not isinstance(properties, Mapping) or all(k not in properties for k in VOLATILE_PROPERTIES):
        return text, hashlib.sha256(text).hexdigest()
    kept = {k: v for k, v in properties.items() if k not in VOLATILE_PROPERTIES}
    stable = orjson.dumps({**item, "properties": kept}, option=orjson.OPT_SORT_KEYS)
    return text, hashlib.sha256(stable).hexdigest()


def ensure_item_sources(conn: Connection) -> None:
    """Create the schema ``etl`` and the table if they are missing, and add the columns an older
    table lacks (safe to run concurrently)."""
    if _has_bundle_column(conn):
        return
    with conn.transaction():
        conn.execute(_LOCK)
        conn.execute(_DDL)


def record_item_sources(conn: Connection, rows: Iterable[ItemSource], *, new: bool = False) -> int:
    """Insert or replace ``rows`` (by collection and item id; of an item given twice, the last)
    in one transaction: copied into the session's staging table, then merged in one statement.
    Returns how many were written. ``loaded_at`` is set to the transaction's time.

    ``new``: the rows' items were just inserted, not replaced (the loader knows), so their rows
    are most likely missing too: they are copied straight into the table, a third of the
    database's work of a merge; a row left behind by an item deleted outside etl (or an item
    given twice) makes that copy fail, and the rows are merged instead.
    """
    rows = list(rows)
    with conn.transaction():
        if new:
            try:
                with conn.transaction():
                    _copy_rows(conn, _COPY_NEW, rows)
                return len(rows)
            except psycopg.errors.UniqueViolation:
                pass
        latest = {(row.collection, row.item_id): row for row in rows}
        conn.execute(_STAGING)
        _copy_rows(conn, _COPY, latest.values())
        conn.execute(_MERGE)
    return len(latest)


def _copy_rows(conn: Connection, statement: str, rows: Iterable[ItemSource]) -> None:
    with conn.cursor().copy(statement) as copy:
        for row in rows:
            copy.write_row(
                (row.collection, row.item_id, row.asset, row.content_hash, row.run_id, row.bundle)
            )


def item_sources_of(conn: Connection, collection: str) -> Iterator[ItemSource]:
    """The collection's rows whose items PgSTAC has, by item id (none when the table does not
    exist yet; ``bundle`` ``None`` in a table from before the column)."""
    if not _table_exists(conn):
        return
    bundle = "s.bundle" if _has_bundle_column(conn) else "NULL"
    cursor = _semi_join(
        conn,
        f"SELECT s.collection, s.item_id, s.asset, s.content_hash, s.run_id, s.loaded_at, {bundle} "
        f"FROM etl.item_sources s WHERE s.collection = %(collection)s AND {_HAS_ITEM} "
        "ORDER BY s.item_id",
        collection,
    )
    for row in cursor:
        yield ItemSource(*row)


def item_sources_of_assets(
    conn: Connection, collection: str, assets: Iterable[str]
) -> list[ItemSource]:
    """The collection's rows of items made from ``assets`` whose items PgSTAC has (by the
    ``(collection, asset)`` index; none when the table does not exist yet)."""
    if not _table_exists(conn):
        return []
    rows = conn.execute(
        "SELECT s.collection, s.item_id, s.asset, s.content_hash, s.run_id, s.loaded_at "
        f"FROM etl.item_sources s WHERE s.collection = %(collection)s "
        f"AND s.asset = ANY(%(assets)s) AND {_HAS_ITEM} ORDER BY s.item_id",
        {"collection": collection, "assets": list(assets)},
    )
    return [ItemSource(*row) for row in rows]


def count_item_sources(conn: Connection, collection: str) -> int:
    """How many items of the collection (in PgSTAC) have a row."""
    if not _table_exists(conn):
        return 0
    row = _semi_join(
        conn,
        "SELECT count(*) FROM etl.item_sources s "
        f"WHERE s.collection = %(collection)s AND {_HAS_ITEM}",
        collection,
    ).fetchone()
    return int(row[0]) if row else 0


def recorded_items(conn: Connection, collection: str) -> Iterator[RecordedItem]:
    """Every row of the collection, by item id, each saying whether PgSTAC has its item (one
    hash join; none when the table does not exist yet): what ``etl dataset plan`` compares.

    A plan counts the rows of items PgSTAC has, and makes again what an asset made when PgSTAC
    lost one of its items outside etl, so it needs both kinds: one read instead of two.
    """
    if not _table_exists(conn):
        return
    bundle = "s.bundle" if _has_bundle_column(conn) else "NULL"
    cursor = _semi_join(
        conn,
        f"SELECT s.item_id, s.asset, s.content_hash, s.loaded_at, {bundle}, i.id IS NOT NULL "
        "FROM etl.item_sources s LEFT JOIN pgstac.items i "
        "ON i.collection = %(collection)s AND i.id = s.item_id "
        "WHERE s.collection = %(collection)s ORDER BY s.item_id",
        collection,
    )
    yield from starmap(RecordedItem, cursor.fetchall())  # rows made in one call, not one each


def forget_item_sources(conn: Connection, collection: str, item_ids: Iterable[str]) -> int:
    """Delete the rows of ``item_ids`` (the caller deletes the items); returns how many went."""
    cursor = conn.execute(
        "DELETE FROM etl.item_sources WHERE collection = %s AND item_id = ANY(%s)",
        (collection, list(item_ids)),
    )
    return cursor.rowcount


def forget_orphan_sources(conn: Connection, collection: str) -> int:
    """Delete the collection's rows whose items PgSTAC does not have; returns how many went.

    Safe beside a running load: a batch's rows are written after its items commit, so a row
    this statement sees has its item unless the item was deleted since.
    """
    if not _table_exists(conn):
        return 0
    return _semi_join(
        conn,
        f"DELETE FROM etl.item_sources s WHERE s.collection = %(collection)s AND NOT {_HAS_ITEM}",
        collection,
    ).rowcount


def _semi_join(conn: Connection, query: str, collection: str) -> psycopg.Cursor[Any]:
    """Run ``query``, which matches a whole collection's rows with its items, planned without
    nested loops; the cursor holds the result (a client-side cursor outlives the transaction).

    Every row of the collection is matched, so a hash or merge semi-join, linear in the rows,
    is right whatever the statistics say. On partitions not analyzed yet (right after a load,
    until autovacuum's next pass) the planner takes the items for a few hundred and picks a
    nested loop of one index probe per item instead: about 5 times slower on 100,000 rows
    (docs/performance.md). ``SET LOCAL`` ends with the transaction (or the caller's, when
    there is one).
    """
    with conn.transaction():
        conn.execute("SET LOCAL enable_nestloop = off")
        return conn.execute(query, {"collection": collection})


def _has_bundle_column(conn: Connection) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = 'bundle'"
        " AND NOT attisdropped",
        (TABLE,),
    ).fetchone()
    return bool(row and row[0])


def _table_exists(conn: Connection) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,)).fetchone()
    return bool(row and row[0])
