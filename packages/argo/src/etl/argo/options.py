"""What to compile: the command, the collections, and the run options, checked before compiling."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from etl.core.errors import OptionError
from etl.core.pod_contract import LAST_SUCCESS, StacValidationMode

__all__ = ["CompileOptions", "WorkflowCommand"]

_CRON_FIELD = re.compile(r"^[\w*/,?#LW-]+$")


class WorkflowCommand(StrEnum):
    """The ``etl dataset`` work commands; each compiles to one workflow."""

    PROCESS_ITEMS = "process-items"
    CREATE_CHUNKS = "create-chunks"
    INGEST_COLLECTION = "ingest-collection"


def _check_since(since: str) -> None:
    if since == LAST_SUCCESS:
        return
    try:
        datetime.fromisoformat(since)
    except ValueError:
        raise OptionError(
            "since",
            f"{since!r}: give an ISO-8601 time (2024-05-01 or 2024-05-01T12:00:00Z)"
            f" or {LAST_SUCCESS!r}",
        ) from None


def _check_timezone(timezone: str) -> None:
    """An IANA zone name (``Europe/Paris``, ``UTC``), as Argo's controller loads it."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise OptionError(
            "timezone", f"{timezone!r}: give an IANA time zone, e.g. 'Europe/Paris' or 'UTC'"
        ) from None


def _check_schedule(schedule: str) -> None:
    fields = schedule.split()
    macro = len(fields) == 1 and fields[0].startswith("@")
    if not macro and (len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields)):
        raise OptionError(
            "schedule", f"{schedule!r}: give a cron expression of five fields, e.g. '0 3 * * *'"
        )


@dataclass(frozen=True)
class CompileOptions:
    """The options of one compile.

    Attributes:
        command: Which workflow to build.
        collections: Collection ids to include, in order; ``None`` means every collection.
        limit: At most this many assets per collection.
        since: Only assets modified since this ISO-8601 time, or ``"last-success"``.
        schedule: A cron expression: build a ``CronWorkflow`` (``process-items`` only).
        timezone: The IANA time zone the schedule is read in (default: the controller's, UTC).
        missing: ``report`` or ``remove`` the items whose assets are gone (default: each
            collection's ``missing_items``); needs a listing of every asset (no limit, no since).
        max_removals: Most items a run may remove, ``250`` or ``10%`` (default: the collection's).
        stac_validation: ``off``, ``sample`` or ``full``: overrides each collection's
            ``stac_validation.mode`` (process-items).
    """

    command: WorkflowCommand
    collections: tuple[str, ...] | None = None
    limit: int | None = None
    since: str | None = None
    schedule: str | None = None
    timezone: str | None = None
    missing: str | None = None
    max_removals: str | None = None
    stac_validation: str | None = None

    def __post_init__(self) -> None:
        if self.command is WorkflowCommand.INGEST_COLLECTION:
            given = [
                name for name, value in (("limit", self.limit), ("since", self.since)) if value
            ]
            if given:
                raise OptionError(
                    given[0], "is for process-items and create-chunks, not ingest-collection"
                )
        if self.limit is not None and self.limit < 1:
            raise OptionError("limit", f"{self.limit}: give a positive number of assets")
        if self.since is not None:
            _check_since(self.since)
        if self.schedule is not None:
            if self.command is not WorkflowCommand.PROCESS_ITEMS:
                raise OptionError("schedule", f"is for process-items, not {self.command.value}")
            _check_schedule(self.schedule)
        if self.timezone is not None:
            if self.schedule is None:
                raise OptionError("timezone", "is for a --schedule")
            _check_timezone(self.timezone)
        self._check_missing()
        self._check_stac_validation()

    def _check_stac_validation(self) -> None:
        if self.stac_validation is None:
            return
        if self.command is not WorkflowCommand.PROCESS_ITEMS:
            raise OptionError("stac-validation", "is for process-items")
        modes = [mode.value for mode in StacValidationMode]
        if self.stac_validation not in modes:
            raise OptionError(
                "stac-validation", f"{self.stac_validation!r}: give one of {', '.join(modes)}"
            )

    def _check_missing(self) -> None:
        from etl.dataset.chunking import partial_listing
        from etl.dataset.model import MAX_REMOVALS_PATTERN

        if self.missing is not None:
            if self.command is not WorkflowCommand.PROCESS_ITEMS:
                raise OptionError(f"{self.missing}-missing", "is for process-items")
            partial = partial_listing(limit=self.limit, since=self.since)
            if partial:
                raise OptionError(
                    f"{self.missing}-missing",
                    f"needs a listing of every asset: drop {partial} (only a full listing can say "
                    "which assets are gone)",
                )
        if self.max_removals is not None and not re.match(MAX_REMOVALS_PATTERN, self.max_removals):
            raise OptionError(
                "max-removals", f"{self.max_removals!r}: give a count (250) or a percentage (10%)"
            )
