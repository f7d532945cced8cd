"""What ``finish-collection`` did to a collection in one run: the extent and the removals.

``etl-task finish-collection`` writes it to ``{run_id}/finish-collection.json`` in the chunk
storage, next to the ``missing.ndjson`` that names every missing item; the end of a followed run
and ``etl workflow get`` read it back (:mod:`etl.runner.run_report`), as they read ``errors/``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from etl.core.counts import counted
from etl.core.storage.base import Storage
from etl.dataset.layout import RunLayout
from etl.dataset.step_records import read_step_record, write_step_record

__all__ = [
    "SHOWN_IDS",
    "ExtentResult",
    "FinishSummary",
    "Removal",
    "RemovalAction",
    "read_finish_summary",
    "write_finish_summary",
]

SHOWN_IDS = 5
"""Missing item ids the summary keeps (``missing.ndjson`` has all of them)."""


class RemovalAction(StrEnum):
    """What became of the items whose assets are gone."""

    REMOVED = "removed"
    REPORTED = "reported"
    REFUSED = "refused"
    NOT_LOOKED_FOR = "not-looked-for"


@dataclass(frozen=True)
class ExtentResult:
    """The collection's extent after the run.

    Attributes:
        changed: Whether the step wrote it (it differed from the one the run's
            ``ingest-collection`` had just written from the template).
        reason: Why it is what it is (``items``, ``template covers the items``, ...).
        extent: The collection's ``extent`` afterwards.
    """

    changed: bool
    reason: str
    extent: dict[str, Any] | None = None

    def line(self) -> str:
        """One line for people: ``extent updated (items): bbox [...], START to END``."""
        state = "updated" if self.changed else "unchanged"
        return f"extent {state} ({self.reason}){_described(self.extent)}"


def _described(extent: dict[str, Any] | None) -> str:
    """``: bbox [...], START to END`` of a STAC extent, or nothing for any other shape."""
    if extent is None:
        return ""
    try:
        bbox = extent["spatial"]["bbox"][0]
        start, end = extent["temporal"]["interval"][0]
    except (KeyError, IndexError, TypeError, ValueError):
        return ""
    return f": bbox {bbox}, {start or '..'} to {end or '..'}"


@dataclass(frozen=True)
class Removal:
    """The items whose assets are gone.

    Attributes:
        action: Removed, only reported, refused by the guard, or not looked for (a partial
            listing).
        missing: How many items lost their asset (0 when not looked for).
        tracked: Items of the collection etl tracks (``etl.item_sources``).
        examples: The first :data:`SHOWN_IDS` missing item ids, sorted.
        reason: The guard's refusal, or why the listing was partial.
    """

    action: RemovalAction
    missing: int = 0
    tracked: int = 0
    examples: tuple[str, ...] = ()
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {**asdict(self), "action": self.action.value, "examples": list(self.examples)}

    def line(self) -> str:
        """One line for people."""
        if self.action is RemovalAction.NOT_LOOKED_FOR:
            return f"missing items not looked for: the run listed part ({self.reason})"
        if self.action is RemovalAction.REFUSED:
            return f"removal refused, nothing removed: {self.reason}"
        if not self.missing:
            return f"no item lost its asset ({self.tracked} tracked)"
        items = counted(self.missing, "item")
        ids = ", ".join(self.examples) + (", ..." if self.missing > len(self.examples) else "")
        if self.action is RemovalAction.REMOVED:
            return f"{items} removed (assets no longer listed): {ids}"
        refused = f"; a removal would be refused: {self.reason}" if self.reason else ""
        return f"{items} would be removed (report only): {ids}{refused}"


@dataclass(frozen=True)
class FinishSummary:
    """One collection's ``finish-collection`` in one run.

    Attributes:
        collection: The collection id.
        extent: The extent update; ``None`` when the step stopped before it (a refused removal).
        removal: The missing items; ``None`` when the run kept them without looking.
    """

    collection: str
    extent: ExtentResult | None
    removal: Removal | None

    def lines(self) -> list[str]:
        """What the step did, one line each, for people."""
        lines = []
        if self.removal is not None:
            lines.append(self.removal.line())
        if self.extent is not None:
            lines.append(self.extent.line())
        return [f"{self.collection}: {line}" for line in lines]

    def to_json(self) -> dict[str, Any]:
        """The stable shape: written by the step, shown by ``etl workflow get -o json``."""
        return {
            "collection": self.collection,
            "extent": asdict(self.extent) if self.extent is not None else None,
            "removal": self.removal.to_json() if self.removal is not None else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FinishSummary:
        """Parse :meth:`to_json`'s shape."""
        extent, removal = data.get("extent"), data.get("removal")
        return cls(
            collection=data["collection"],
            extent=ExtentResult(**extent) if extent else None,
            removal=_removal(removal) if removal else None,
        )


def _removal(data: dict[str, Any]) -> Removal:
    return Removal(
        action=RemovalAction(data["action"]),
        missing=data["missing"],
        tracked=data["tracked"],
        examples=tuple(data["examples"]),
        reason=data["reason"],
    )


def write_finish_summary(storage: Storage, layout: RunLayout, summary: FinishSummary) -> None:
    """Write ``summary`` as the run's record (a retried step overwrites it)."""
    write_step_record(storage, layout.finish_path, summary.to_json())


def read_finish_summary(storage: Storage, layout: RunLayout) -> FinishSummary | None:
    """The run's summary, or ``None`` when no ``finish-collection`` wrote one.

    Raises:
        StorageError: it cannot be read or is not a summary.
    """
    return read_step_record(
        storage, layout.finish_path, FinishSummary.from_json, "finish-collection summary"
    )
