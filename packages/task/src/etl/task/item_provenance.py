"""Which asset made which item, kept from ``create_item`` until the item's batch is loaded.

The item maker notes each item's asset as it makes it; the loader turns a batch's items into
``etl.item_sources`` rows (with their content hashes) and the note is dropped, so only items on
their way to PgSTAC are remembered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from etl.pgstac.item_sources import ItemSource, content_hash

__all__ = ["ItemProvenance"]

_Failure = TypeVar("_Failure")


class ItemProvenance:
    """Item id -> asset URI of the items made but not yet loaded, for one collection and run of
    the code bundle ``bundle`` (its digest; ``None`` when not run from a bundle)."""

    def __init__(self, collection_id: str, run_id: str, bundle: str | None = None) -> None:
        self.collection_id = collection_id
        self.run_id = run_id
        self.bundle = bundle
        self._assets: dict[str, str] = {}
        self._lock = threading.Lock()

    def note(self, asset: str, items: list[dict[str, Any]]) -> None:
        """``items`` were made from ``asset`` (called from the maker's threads)."""
        with self._lock:
            for item in items:
                self._assets[item["id"]] = asset

    def tracking(
        self, make: Callable[[str], list[dict[str, Any]] | _Failure]
    ) -> Callable[[str], list[dict[str, Any]] | _Failure]:
        """``make`` (asset URI -> items, or a failure) noting the asset of the items it makes."""

        def tracked(asset: str) -> list[dict[str, Any]] | _Failure:
            made = make(asset)
            if isinstance(made, list):
                self.note(asset, made)
            return made

        return tracked

    def rows(self, items: list[dict[str, Any]]) -> list[ItemSource]:
        """The ``etl.item_sources`` rows of a batch about to be loaded."""
        with self._lock:
            assets = [self._assets.pop(item["id"], "") for item in items]
        return [
            ItemSource(
                self.collection_id,
                item["id"],
                asset,
                content_hash(item),
                self.run_id,
                bundle=self.bundle,
            )
            for item, asset in zip(items, assets, strict=True)
            if asset
        ]
