"""How many listings may run at once against one storage account, process-wide.

A big dataset split into thousands of parts must not saturate or throttle the account it reads
from, even when several collections on the same account are chunked in one process (the local
runner). Every listing call of create-chunks holds one slot of its account's semaphore.
"""

from __future__ import annotations

import os
import threading

from etl.core.errors import InputError
from etl.core.pod_contract import LISTING_CONCURRENCY_ENV
from etl.core.storage.uris import parse_blob_uri

__all__ = [
    "DEFAULT_CONCURRENCY",
    "account_of",
    "account_slots",
    "listing_concurrency",
]

DEFAULT_CONCURRENCY = 8
"""Listings at once per account: enough to hide request latency, far below Azure's request limits."""

_slots: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_lock = threading.Lock()


def account_of(uri: str) -> str:
    """The storage account a URI lives in (``file`` for local storage)."""
    return parse_blob_uri(uri).account if uri.startswith("blob://") else "file"


def account_slots(uri: str, concurrency: int) -> threading.BoundedSemaphore:
    """The process-wide semaphore bounding listings against ``uri``'s account to ``concurrency``."""
    key = (account_of(uri), concurrency)
    with _lock:
        return _slots.setdefault(key, threading.BoundedSemaphore(concurrency))


def listing_concurrency(value: int | None = None) -> int:
    """``value``, else ``$ETL_LISTING_CONCURRENCY``, else :data:`DEFAULT_CONCURRENCY`.

    Raises:
        InputError: when the value is not a positive integer.
    """
    raw: object = value if value is not None else os.environ.get(LISTING_CONCURRENCY_ENV)
    if raw is None or raw == "":
        return DEFAULT_CONCURRENCY
    try:
        number = int(str(raw))
    except ValueError:
        number = 0
    if number < 1:
        raise InputError(
            f"listing concurrency must be a positive integer, not {raw!r} ({LISTING_CONCURRENCY_ENV})"
        )
    return number
