"""A run request: the command, the collections and the run options, typed and checked once.

The CLI builds one :class:`RunRequest` from a command line (``etl.cli.run_request_options``) and
it travels whole to the compiler (:func:`etl.argo.compile_workflow`), which writes the options a
pod takes with their pairs in :mod:`etl.core.run_options`. Which work command takes which of those
options follows from the pods it runs (:data:`POD_OPTIONS`): a new pod option is a field here, its
:class:`~etl.core.run_options.PodOption` and its flag in :mod:`etl.core.pod_contract`, and the CLI
declares it from the ``PodOption``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from etl.core.errors import OptionError
from etl.core.pod_contract import PROCESS_ITEMS_COMMAND, StacValidationMode
from etl.core.run_options import (
    CREATE_CHUNKS_OPTIONS,
    FINISH_COLLECTION_OPTIONS,
    MISSING,
    PROCESS_CHUNKS_OPTIONS,
    MaxRemovals,
    MissingItems,
    PodOption,
    Since,
    format_since,
)

__all__ = ["POD_OPTIONS", "RunRequest", "WorkflowCommand", "commands_taking"]

_CRON_FIELD = re.compile(r"^[\w*/,?#LW-]+$")


class WorkflowCommand(StrEnum):
    """The ``etl dataset`` work commands; each compiles to one workflow."""

    PROCESS_ITEMS = PROCESS_ITEMS_COMMAND
    CREATE_CHUNKS = "create-chunks"
    INGEST_COLLECTION = "ingest-collection"


POD_OPTIONS: Final[dict[WorkflowCommand, tuple[PodOption[Any], ...]]] = {
    WorkflowCommand.PROCESS_ITEMS: (
        *CREATE_CHUNKS_OPTIONS,
        *PROCESS_CHUNKS_OPTIONS,
        *FINISH_COLLECTION_OPTIONS,
    ),
    WorkflowCommand.CREATE_CHUNKS: CREATE_CHUNKS_OPTIONS,
    WorkflowCommand.INGEST_COLLECTION: (),
}
"""The pod options each work command takes: those of the ``etl-task`` subcommands it runs."""


def commands_taking(option: PodOption[Any]) -> tuple[WorkflowCommand, ...]:
    """The work commands that take ``option``, in :class:`WorkflowCommand`'s order."""
    return tuple(command for command, options in POD_OPTIONS.items() if option in options)


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
        for option in POD_OPTIONS[WorkflowCommand.PROCESS_ITEMS]:
            if getattr(self, option.attribute) is not None:
                self._check_taken(option)
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
        if self.missing is not None:
            self._check_full_listing(self.missing)

    def _check_taken(self, option: PodOption[Any]) -> None:
        """``option`` is given: refuse it unless this request's command takes it."""
        takers = commands_taking(option)
        if self.command not in takers:
            flag = (
                f"{self.missing}-missing" if option is MISSING else option.flag.removeprefix("--")
            )
            taken_by = " and ".join(command.value for command in takers)
            raise OptionError(flag, f"is for {taken_by}, not {self.command.value}")

    def _check_full_listing(self, missing: MissingItems) -> None:
        from etl.dataset.chunking.create import partial_listing

        since = format_since(self.since) if self.since is not None else None
        partial = partial_listing(limit=self.limit, since=since)
        if partial:
            raise OptionError(
                f"{missing.value}-missing",
                f"needs a listing of every asset: drop {partial} (only a full listing can say "
                "which assets are gone)",
            )
