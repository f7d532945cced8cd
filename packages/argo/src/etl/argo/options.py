"""A run request: the command, the collections and the run options, typed and checked once.

The CLI builds one :class:`RunRequest` from a command line (``etl.cli.run_request_options``) and
it travels whole to the compiler (:func:`etl.argo.compile_workflow`), which writes the options a
pod takes with their pairs in :mod:`etl.core.run_options`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from etl.core.errors import OptionError
from etl.core.pod_contract import PROCESS_ITEMS_COMMAND, StacValidationMode
from etl.core.run_options import MaxRemovals, MissingItems, Since, format_since

__all__ = ["RunRequest", "WorkflowCommand"]

_CRON_FIELD = re.compile(r"^[\w*/,?#LW-]+$")


class WorkflowCommand(StrEnum):
    """The ``etl dataset`` work commands; each compiles to one workflow."""

    PROCESS_ITEMS = PROCESS_ITEMS_COMMAND
    CREATE_CHUNKS = "create-chunks"
    INGEST_COLLECTION = "ingest-collection"


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
class RunRequest:
    """What one run of a work command asks for; checked when built (:class:`OptionError`, which
    the CLI shows with the option's flag).

    Attributes:
        command: Which workflow to build.
        collections: Collection ids to include, in order; ``None`` means every collection.
        limit: At most this many assets per collection.
        since: Only assets modified since this time, or since the last success.
        schedule: A cron expression: build a ``CronWorkflow`` (``process-items`` only).
        timezone: The IANA time zone the schedule is read in (default: the controller's, UTC).
        missing: ``report`` or ``remove`` the items whose assets are gone (default: each
            collection's ``missing_items``); needs a listing of every asset (no limit, no since).
        max_removals: Most items a run may remove (default: the collection's).
        stac_validation: Overrides each collection's ``stac_validation.mode`` (process-items).
    """

    command: WorkflowCommand
    collections: tuple[str, ...] | None = None
    limit: int | None = None
    since: Since | None = None
    schedule: str | None = None
    timezone: str | None = None
    missing: MissingItems | None = None
    max_removals: MaxRemovals | None = None
    stac_validation: StacValidationMode | None = None

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
        if self.schedule is not None:
            if self.command is not WorkflowCommand.PROCESS_ITEMS:
                raise OptionError("schedule", f"is for process-items, not {self.command.value}")
            _check_schedule(self.schedule)
        if self.timezone is not None:
            if self.schedule is None:
                raise OptionError("timezone", "is for a --schedule")
            _check_timezone(self.timezone)
        self._check_missing()
        if self.stac_validation is not None and self.command is not WorkflowCommand.PROCESS_ITEMS:
            raise OptionError("stac-validation", "is for process-items")

    def _check_missing(self) -> None:
        from etl.dataset.chunking.create import partial_listing

        if self.missing is not None:
            if self.command is not WorkflowCommand.PROCESS_ITEMS:
                raise OptionError(f"{self.missing.value}-missing", "is for process-items")
            since = format_since(self.since) if self.since is not None else None
            partial = partial_listing(limit=self.limit, since=since)
            if partial:
                raise OptionError(
                    f"{self.missing.value}-missing",
                    f"needs a listing of every asset: drop {partial} (only a full listing can say "
                    "which assets are gone)",
                )
        if self.max_removals is not None and self.command is not WorkflowCommand.PROCESS_ITEMS:
            raise OptionError("max-removals", "is for process-items")
