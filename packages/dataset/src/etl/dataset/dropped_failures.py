"""Failed assets a user chose to stop owing: ``_dropped_failures.json`` at the chunk storage's root.

An asset that failed stays *outstanding* (``etl dataset status`` lists it, every ``--since
last-success`` run takes it again) until a later run makes its items, or until ``etl dataset
forget-failures`` drops it: that records the asset with the time of the drop, and the failures of
runs created before then are no longer owed. A failure in a later run owes the asset again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from etl.core.errors import ConfigError, SourceLocation
from etl.core.storage.base import Storage

__all__ = ["DROPPED_FAILURES_FILE", "drop_failures", "read_dropped_failures"]

DROPPED_FAILURES_FILE = "_dropped_failures.json"


def read_dropped_failures(storage: Storage) -> dict[str, datetime]:
    """Each dropped asset and when it was last dropped (empty when none was).

    Raises:
        ConfigError: the file is not a record of drops (located; delete it to owe them again).
        StorageError: the chunk storage cannot be read.
    """
    if not storage.exists(DROPPED_FAILURES_FILE):
        return {}
    try:
        data = json.loads(storage.read_bytes(DROPPED_FAILURES_FILE).decode())
        return {str(asset): datetime.fromisoformat(at) for asset, at in data["dropped"].items()}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ConfigError(
            f"not a record of dropped failures ({exc}); delete it: the failures are owed again",
            location=SourceLocation(storage.uri_of(DROPPED_FAILURES_FILE)),
        ) from None


def drop_failures(
    storage: Storage, assets: Iterable[str], *, at: datetime | None = None
) -> Mapping[str, datetime]:
    """Record ``assets`` as dropped at ``at`` (default: now); return every drop recorded."""
    dropped = read_dropped_failures(storage)
    moment = at or datetime.now(UTC)
    dropped.update(dict.fromkeys(assets, moment))
    document = {"dropped": {asset: when.isoformat() for asset, when in sorted(dropped.items())}}
    storage.write_text(DROPPED_FAILURES_FILE, json.dumps(document, indent=1) + "\n")
    return dropped
