"""What a run would change in a collection: the comparison behind ``etl dataset plan``.

Each listed asset's items (their ids and content hashes) are compared with what the catalog
records for the collection (``etl.item_sources``: item id, asset, content hash at load time):

- **added**: an item id with no record;
- **changed**: a recorded id whose content hash differs (content, never timestamps);
- **unchanged**: a recorded id with the same hash;
- **removed**: a recorded item whose asset is not listed (only known for a full listing);
- **failed**: an asset whose ``create_item`` failed (its recorded items are none of the above).

An asset the caller knows is as it was loaded is *kept*: its recorded items are unchanged without
being made.

Nothing here reads storage or the database: the caller feeds the records and the made items.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import chain
from typing import Any

__all__ = ["EXAMPLES", "CollectionPlan", "Outcome", "PlanBuilder"]

EXAMPLES = 5
"""Ids (or, for failures, asset URIs) shown per outcome."""


class Outcome(StrEnum):
    """What a run would do to an item (or, ``failed``, to an asset)."""

    ADDED = "added"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    FAILED = "failed"


@dataclass(frozen=True)
class CollectionPlan:
    """One collection's plan.

    Attributes:
        collection: The collection id.
        assets: Assets listed.
        counts: Items per outcome (``failed``: assets); ``removed`` is ``None`` when the listing
            is not complete (a storage entry has a ``limit`` or ``since`` option).
        examples: The first :data:`EXAMPLES` item ids per outcome (asset URIs for ``failed``),
            in listing order (``removed``: by item id).
        recorded: Items the catalog records for the collection before the run.
        seconds: How long planning took.
        made: Assets whose items were made (the others were kept as recorded).
    """

    collection: str
    assets: int
    counts: dict[Outcome, int | None]
    examples: dict[Outcome, list[str]]
    recorded: int
    seconds: float = 0.0
    made: int = 0

    def to_json(self) -> dict[str, Any]:
        """The stable ``etl dataset plan -o json`` shape of one collection (see docs/cli.md)."""
        return {
            "collection": self.collection,
            "assets": self.assets,
            "recorded": self.recorded,
            "made": self.made,
            **{outcome.value: self.counts[outcome] for outcome in Outcome},
            "examples": {outcome.value: self.examples[outcome] for outcome in Outcome},
            "seconds": round(self.seconds, 3),
        }


@dataclass
class PlanBuilder:
    """Collects the made items of a collection's listed assets, asset by asset.

    Args:
        collection: The collection id.
        recorded: ``(item_id, asset, content_hash)`` of every item the catalog records.
    """

    collection: str
    recorded: Iterable[tuple[str, str, str]]
    _hashes: dict[str, str] = field(init=False)
    _listed: set[str] = field(init=False, default_factory=set)
    _made: int = field(init=False, default=0)
    _ids_of: dict[str, list[str]] = field(init=False)
    _counts: dict[Outcome, int] = field(init=False)
    _examples: dict[Outcome, list[str]] = field(init=False)

    def __post_init__(self) -> None:
        hashes: dict[str, str] = {}
        ids_of: dict[str, list[str]] = {}
        for item_id, asset, content_hash in self.recorded:
            hashes[item_id] = content_hash
            if (ids := ids_of.get(asset)) is None:
                ids_of[asset] = [item_id]
            else:
                ids.append(item_id)
        self._hashes, self._ids_of = hashes, ids_of
        self._counts = dict.fromkeys(Outcome, 0)
        self._examples = {outcome: [] for outcome in Outcome}

    def made(self, asset: str, items: Iterable[tuple[str, str]]) -> None:
        """Asset ``asset`` was listed and made ``items`` (``(item_id, content_hash)`` pairs)."""
        self._listed.add(asset)
        self._made += 1
        for item_id, content_hash in items:
            recorded = self._hashes.get(item_id)
            if recorded is None:
                self._count(Outcome.ADDED, item_id)
            elif recorded == content_hash:
                self._count(Outcome.UNCHANGED, item_id)
            else:
                self._count(Outcome.CHANGED, item_id)

    def failed(self, asset: str) -> None:
        """Asset ``asset`` was listed but its ``create_item`` failed."""
        self._listed.add(asset)
        self._made += 1
        self._count(Outcome.FAILED, asset)

    def kept(self, assets: Iterable[str]) -> None:
        """``assets`` were listed and are as loaded: their recorded items are unchanged (counted
        in one pass: an unchanged source keeps every asset)."""
        assets = list(assets)
        self._listed.update(assets)
        ids_of = self._ids_of
        self._count(
            Outcome.UNCHANGED, *chain.from_iterable(ids for a in assets if (ids := ids_of.get(a)))
        )

    def finish(self, *, full_listing: bool, seconds: float = 0.0) -> CollectionPlan:
        """The plan; removals are looked for only after a ``full_listing``."""
        counts: dict[Outcome, int | None] = dict(self._counts)
        if full_listing:
            listed = self._listed
            gone = sorted(
                chain.from_iterable(
                    ids for asset, ids in self._ids_of.items() if asset not in listed
                )
            )
            counts[Outcome.REMOVED] = len(gone)
            self._examples[Outcome.REMOVED] = gone[:EXAMPLES]
        else:
            counts[Outcome.REMOVED] = None
        return CollectionPlan(
            collection=self.collection,
            assets=len(self._listed),
            counts=counts,
            examples=self._examples,
            recorded=len(self._hashes),
            seconds=seconds,
            made=self._made,
        )

    def _count(self, outcome: Outcome, *examples: str) -> None:
        self._counts[outcome] += len(examples)
        shown = self._examples[outcome]
        if len(shown) < EXAMPLES:
            shown.extend(examples[: EXAMPLES - len(shown)])
