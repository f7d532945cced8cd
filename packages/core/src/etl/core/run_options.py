"""The run options that reach pods: each one's type, and one format/parse pair for its flag.

A run request (``etl.argo.RunRequest``) holds typed values: ``since`` is a :data:`Since`, the
missing-items mode a :class:`MissingItems`, ``max_removals`` a :class:`MaxRemovals`. The compiler
writes each into an ``etl-task`` argument list with its :class:`PodOption`'s ``format``
(:func:`pod_values`); ``etl-task`` reads it back with the same option's ``parse``
(:func:`add_pod_arguments`). The CLI parses what a user types with the same ``parse``, so a value
is refused, or read, identically on both sides of the pod contract. Every parse function raises
``ValueError(detail)``, where ``detail`` starts with the value (``'soon': give ...``); each side
adds the flag its own way. The flags are :class:`etl.core.pod_contract.Flag`'s; this module adds
only their values. Nothing here imports more than the standard library.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

from etl.core.pod_contract import LAST_SUCCESS, Flag, StacValidationMode

if TYPE_CHECKING:
    import argparse

__all__ = [
    "CREATE_CHUNKS_OPTIONS",
    "FINISH_COLLECTION_OPTIONS",
    "LIMIT",
    "MAX_REMOVALS",
    "MAX_REMOVALS_PATTERN",
    "MISSING",
    "PROCESS_CHUNKS_OPTIONS",
    "SINCE",
    "STAC_VALIDATION",
    "LastSuccess",
    "MaxRemovals",
    "MissingItems",
    "PodOption",
    "Since",
    "add_pod_arguments",
    "format_since",
    "parse_limit",
    "parse_max_removals",
    "parse_since",
    "parse_time",
    "pod_values",
]

T = TypeVar("T")


class LastSuccess(StrEnum):
    """``--since last-success``: since the start of the collection's last successful run (its
    last-success marker); a listing of every asset when there is none. Its one member compares
    equal to the text ``last-success``."""

    MARKER = LAST_SUCCESS


Since = datetime | LastSuccess
"""A run's ``--since``: an aware time, or :attr:`LastSuccess.MARKER`."""


class MissingItems(StrEnum):
    """What a run that lists the whole collection does with items whose assets are gone."""

    KEEP = "keep"
    REPORT = "report"
    REMOVE = "remove"


MAX_REMOVALS_PATTERN: Final = r"^(\d+|\d+(\.\d+)?%)$"
"""``--max-removals`` and ``max_removals``: a count of items, or a percentage such as ``10%``."""


@dataclass(frozen=True)
class MaxRemovals:
    """The most items one run may remove: a count, or a share of the items etl tracks.

    Attributes:
        text: As written: ``250`` or ``10%``.
    """

    text: str

    def __post_init__(self) -> None:
        if not re.match(MAX_REMOVALS_PATTERN, self.text):
            raise ValueError(f"{self.text!r}: give a count (250) or a percentage (10%)")

    def allowed(self, tracked: int) -> int:
        """How many of ``tracked`` items may go."""
        if self.text.endswith("%"):
            return int(tracked * float(self.text[:-1]) / 100)
        return int(self.text)

    def __str__(self) -> str:
        return self.text


def parse_time(text: str) -> datetime:
    """An ISO-8601 date or time (``2024-05-01``, ``2024-05-01T12:00:00Z``); without a zone it is
    UTC.

    Raises:
        ValueError: Not an ISO-8601 date or time.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r}: give an ISO-8601 date or time (2024-05-01 or 2024-05-01T12:00:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_since(text: str) -> Since:
    """``--since``: ``last-success``, or an ISO-8601 date or time (:func:`parse_time`).

    Raises:
        ValueError: Neither.
    """
    if text == LastSuccess.MARKER:
        return LastSuccess.MARKER
    try:
        return parse_time(text)
    except ValueError:
        raise ValueError(
            f"{text!r}: give an ISO-8601 time (2024-05-01 or 2024-05-01T12:00:00Z) "
            f"or {LAST_SUCCESS!r}"
        ) from None


def format_since(since: Since) -> str:
    """The text :func:`parse_since` reads back as ``since``: a UTC time ends in ``Z``."""
    if isinstance(since, LastSuccess):
        return since.value
    text = since.isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def parse_limit(text: str) -> int:
    """``--limit``: a positive number of assets.

    Raises:
        ValueError: Not a positive integer.
    """
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f"{text}: give a positive number of assets")
    return number


def parse_max_removals(text: str) -> MaxRemovals:
    """``--max-removals``: ``250`` or ``10%``.

    Raises:
        ValueError: Anything else.
    """
    return MaxRemovals(text)


def _choice(enum: type[StrEnum]) -> Callable[[str], Any]:
    def parse(text: str) -> StrEnum:
        try:
            return enum(text)
        except ValueError:
            choices = ", ".join(member.value for member in enum)
            raise ValueError(f"{text!r}: give one of {choices}") from None

    return parse


@dataclass(frozen=True)
class PodOption(Generic[T]):
    """One run option as ``etl-task`` takes it.

    Attributes:
        flag: Its ``etl-task`` flag (:class:`etl.core.pod_contract.Flag`).
        attribute: The run request's attribute holding it (``etl-task``'s argparse ``dest``).
        parse: Reads the flag's value (raises ``ValueError``).
        format: Writes a value so that ``parse`` reads it back.
        help: The flag's help, in ``etl-task --help`` and in the ``etl`` work commands' ``--help``
            (the CLI declares the option from this).
        metavar: How ``--help`` shows the value.
    """

    flag: str
    attribute: str
    parse: Callable[[str], T]
    format: Callable[[T], str]
    help: str
    metavar: str

    def write(self, request: object) -> str | None:
        """The flag's value for ``request`` (a run request), ``None`` when it is not given."""
        value = getattr(request, self.attribute)
        return None if value is None else self.format(value)

    def argparse_type(self, text: str) -> T:
        """``parse`` as argparse calls a ``type``: a bad value is a usage error naming the flag."""
        import argparse  # here: only etl-task's parsers use it, not `etl --help`

        try:
            return self.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None


LIMIT: Final = PodOption[int](
    Flag.LIMIT, "limit", parse_limit, str, "At most N assets per collection.", "N"
)
SINCE: Final = PodOption[Since](
    Flag.SINCE,
    "since",
    parse_since,
    format_since,
    f"Only assets modified since this ISO-8601 date or time (no zone: UTC), or {LAST_SUCCESS!r}: "
    "since the start of the collection's last successful process-items run (every asset when "
    "there was none).",
    f"ISO-8601|{LAST_SUCCESS}",
)
STAC_VALIDATION: Final = PodOption[StacValidationMode](
    Flag.STAC_VALIDATION,
    "stac_validation",
    _choice(StacValidationMode),
    str,
    "Validate the items against the STAC schemas, core and extensions (default: each "
    "collection's stac_validation, off): every item, a sample, or none; a failure fails its "
    "asset.",
    "|".join(StacValidationMode),
)
MISSING: Final = PodOption[MissingItems](
    Flag.MISSING,
    "missing",
    _choice(MissingItems),
    str,
    "What to do with the items whose assets are gone (default: the collection's missing_items).",
    "|".join(MissingItems),
)
MAX_REMOVALS: Final = PodOption[MaxRemovals](
    Flag.MAX_REMOVALS,
    "max_removals",
    parse_max_removals,
    str,
    "Most items one run may remove, a count or a percentage of the collection's items "
    "(default: the collection's max_removals, 10%).",
    "COUNT|PERCENT%",
)

CREATE_CHUNKS_OPTIONS: Final[tuple[PodOption[Any], ...]] = (LIMIT, SINCE)
"""The run options ``etl-task create-chunks`` takes."""
PROCESS_CHUNKS_OPTIONS: Final[tuple[PodOption[Any], ...]] = (STAC_VALIDATION,)
"""The run options ``etl-task process-chunks`` takes."""
FINISH_COLLECTION_OPTIONS: Final[tuple[PodOption[Any], ...]] = (MISSING, MAX_REMOVALS)
"""The run options ``etl-task finish-collection`` takes."""


def pod_values(options: tuple[PodOption[Any], ...], request: object) -> Mapping[str, str | None]:
    """``{flag: value}`` of ``options`` for ``request``, for ``Subcommand.command_line``."""
    return {option.flag: option.write(request) for option in options}


def add_pod_arguments(parser: argparse.ArgumentParser, options: tuple[PodOption[Any], ...]) -> None:
    """Add ``options`` to an ``etl-task`` subcommand's parser, each read by its ``parse``."""
    for option in options:
        parser.add_argument(
            option.flag,
            dest=option.attribute,
            type=option.argparse_type,
            metavar=option.metavar,
            help=option.help.replace("%", "%%"),  # argparse formats help with %
        )
