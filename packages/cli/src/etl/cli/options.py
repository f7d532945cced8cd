"""Options shared by many commands, defined once: ``-d``, ``-c``, ``-a``, ``-o``,
``--submit``/``--wait``, and the builder every command group starts from (a run request's
options are :mod:`etl.cli.run_request_options`).

Use them as parameter annotations::

    @app.command()
    def render(dataset: DatasetOption = Path("."), collection: CollectionOption = None, ...)
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from etl.cli.help_format import EtlTyper
from etl.cli.output import ManifestOutput, OutputFormat
from etl.core.run_options import parse_time

__all__ = [
    "ArgOption",
    "CollectionOption",
    "DatasetOption",
    "OptionalOutputOption",
    "OutputOption",
    "SubmitOption",
    "WaitOption",
    "WorkOutput",
    "choices_metavar",
    "command_group",
    "parse_key_values",
    "parse_since_time",
]


def command_group(help_text: str, cls: type[TyperGroup] | None = None) -> typer.Typer:
    """A new ``etl`` command group with ``help_text`` on its ``--help`` page; plain help output
    (fast, no rich), arguments shown as ``NAME`` (:class:`etl.cli.help_format.EtlCommand`).
    ``etl --help`` shows the one-liner registered in ``etl.cli.main``; completion is the root's.
    ``cls``: the group's class (:class:`etl.cli.root_group.CommandModules` for commands of other
    modules)."""
    return EtlTyper(help=help_text, rich_markup_mode=None, add_completion=False, cls=cls)


def choices_metavar(choices: type[StrEnum]) -> str:
    """The metavar of an option taking one of ``choices``: its values, ``json|yaml|table``."""
    return "|".join(choice.value for choice in choices)


def parse_since_time(value: str) -> datetime:
    """A time ``--since``: an ISO-8601 date or time; without a zone it is UTC
    (:func:`etl.core.run_options.parse_time`, the rule of a run's ``--since``)."""
    try:
        return parse_time(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def parse_key_values(values: list[str] | None, option: str = "--arg") -> dict[str, str]:
    """``KEY=VALUE`` strings (``-a`` given several times) as a mapping; the last one wins.

    Raises:
        typer.BadParameter: A value has no ``=`` or an empty key (a usage error, exit 2).
    """
    pairs: dict[str, str] = {}
    for text in values or []:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{option} {text!r}: write KEY=VALUE")
        pairs[key.strip()] = value
    return pairs


DatasetOption = Annotated[
    Path,
    typer.Option(
        "--dataset",
        "-d",
        help="A dataset.yaml, or a folder holding one.",
        metavar="PATH",
    ),
]
CollectionOption = Annotated[
    list[str] | None,
    typer.Option(
        "--collection",
        "-c",
        help="Only this collection (repeatable; default: every collection).",
        metavar="ID",
        show_default=False,
    ),
]
ArgOption = Annotated[
    list[str] | None,
    typer.Option(
        "--arg",
        "-a",
        help="A value for a declared dataset argument (repeatable).",
        metavar="KEY=VALUE",
        show_default=False,
    ),
]
_OUTPUT = typer.Option(
    "--output",
    "-o",
    help="Result format; json is stable for scripts.",
    metavar=choices_metavar(OutputFormat),
)
OutputOption = Annotated[OutputFormat, _OUTPUT]
OptionalOutputOption = Annotated[OutputFormat | None, _OUTPUT]
"""``-o``, whose default (``None``) lets the command choose: a table on a terminal, say."""
SubmitOption = Annotated[
    bool,
    typer.Option(
        "--submit", help="Run the workflow on the profile's runner (uploading what its pods read)."
    ),
]
WaitOption = Annotated[
    bool, typer.Option("--wait", help="With --submit: wait for the end; exit 0 if it Succeeded.")
]
WorkOutput = Annotated[
    ManifestOutput | None,
    typer.Option(
        "--output",
        "-o",
        help="Without --submit: the manifest's format (default yaml). With --submit: print "
        '{"name", "namespace", "runner", "status", "url"} instead of the name.',
        metavar=choices_metavar(ManifestOutput),
        show_default=False,
    ),
]
