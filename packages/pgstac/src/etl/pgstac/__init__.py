"""etl.pgstac: writing collections and items to PgSTAC through pypgstac.

The names that need psycopg or pypgstac (``PgstacWriter``, ``LoadResult``, ``BatchReport``,
``connect_pgstac``) are imported on first use, so importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from etl.core.lazy_exports import lazy_getattr
from etl.pgstac.errors import (
    CollectionNotFoundError,
    ItemError,
    ItemIdConflictError,
    LoadSlotTimeoutError,
)
from etl.pgstac.items import DEFAULT_BATCH_SIZE, parse_ndjson, read_ndjson
from etl.pgstac.policy import LoadConcurrency, LoadRetryPolicy, LockScope

if TYPE_CHECKING:
    from etl.pgstac.load import BatchReport, LoadResult
    from etl.pgstac.session import connect_pgstac
    from etl.pgstac.writer import PartitionTrunc, PgstacWriter

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "BatchReport",
    "CollectionNotFoundError",
    "ItemError",
    "ItemIdConflictError",
    "LoadConcurrency",
    "LoadResult",
    "LoadRetryPolicy",
    "LoadSlotTimeoutError",
    "LockScope",
    "PartitionTrunc",
    "PgstacWriter",
    "connect_pgstac",
    "parse_ndjson",
    "read_ndjson",
]

_LAZY = {
    "BatchReport": "etl.pgstac.load",
    "LoadResult": "etl.pgstac.load",
    "connect_pgstac": "etl.pgstac.session",
    "PartitionTrunc": "etl.pgstac.writer",
    "PgstacWriter": "etl.pgstac.writer",
}


__getattr__ = lazy_getattr(__name__, _LAZY)
