"""What the loader needs of each made item besides the item, prepared where the item is made.

:func:`preparing` wraps the item maker: on the maker's threads, each item is serialised once
(:func:`etl.pgstac.item_sources.canonical_json`: its ndjson line and its content hash come from
the same bytes) and formatted into the row pypgstac writes (``PgstacWriter.row_formatter``), and
it keeps the asset that made it. :class:`LoadLedger` holds, on the loader's thread alone (no
lock), the items on their way to PgSTAC, and gives each batch its rows and its
``etl.item_sources`` rows; an item is forgotten once its batch is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from etl.dataset.run_results import AssetFailure
from etl.pgstac.item_sources import ItemSource, canonical_json
from etl.task.item_maker import MakeItems

__all__ = ["LoadLedger", "MadeItem", "PrepareItems", "preparing"]


@dataclass(frozen=True, slots=True)
class MadeItem:
    """One item made from ``asset``, with what its load needs."""

    item: dict[str, Any]
    asset: str
    content_hash: str
    row: dict[str, Any] | None
    """pypgstac's row of the item; ``None``: formatted at load time (which reports why not)."""


PrepareItems = Callable[[str], "list[tuple[MadeItem, bytes]] | AssetFailure"]
"""Asset URI -> its made items with their ndjson lines, or the failure."""


def preparing(
    make: MakeItems, row_of: Callable[[dict[str, Any]], dict[str, Any]] | None
) -> PrepareItems:
    """``make``, each item serialised, hashed and (with ``row_of``) formatted as it is made."""

    def prepare(asset: str) -> list[tuple[MadeItem, bytes]] | AssetFailure:
        made = make(asset)
        if isinstance(made, AssetFailure):
            return made
        prepared = []
        for item in made:
            line, digest = canonical_json(item)
            prepared.append((MadeItem(item, asset, digest, _row(row_of, item)), line + b"\n"))
        return prepared

    return prepare


def _row(
    row_of: Callable[[dict[str, Any]], dict[str, Any]] | None, item: dict[str, Any]
) -> dict[str, Any] | None:
    if row_of is None:
        return None
    try:
        return row_of(item)
    except Exception:  # pypgstac refuses it: the load formats it again and names the batch
        return None


class LoadLedger:
    """The made items a load has taken but not yet recorded, for one collection and run of the
    code bundle ``bundle`` (its digest; ``None`` when not run from a bundle). Used on the
    loader's thread only."""

    def __init__(self, collection_id: str, run_id: str, bundle: str | None = None) -> None:
        self.collection_id = collection_id
        self.run_id = run_id
        self.bundle = bundle
        self._made: dict[int, MadeItem] = {}  # by id() of the item: alive while it is here

    def take(self, made: list[MadeItem]) -> None:
        """``made`` enter the load."""
        for entry in made:
            self._made[id(entry.item)] = entry

    def rows(self, items: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        """The pypgstac rows of a batch about to be loaded."""
        return [self._made[id(item)].row for item in items]

    def sources(self, items: list[dict[str, Any]]) -> list[ItemSource]:
        """The ``etl.item_sources`` rows of a batch about to be loaded (its items forgotten)."""
        made = [self._made.pop(id(item)) for item in items]
        row = ItemSource._make  # the tuple's own constructor: no keyword handling per row
        collection, run, bundle = self.collection_id, self.run_id, self.bundle
        return [
            row((collection, entry.item["id"], entry.asset, entry.content_hash, run, None, bundle))
            for entry in made
        ]
