"""How ``etl`` commands show their arguments: ``NAME`` and ``SOURCE...``, as click and gh write
them, where typer would write ``{NAME}`` in the usage line and ``NAME <str>`` in the help.

Every command group built by :func:`etl.cli.options.command_group` makes its commands
:class:`EtlCommand`; :func:`help_records` is what their ``--help`` lists, and what the command
reference in ``docs/cli.md`` is generated from (:mod:`etl.cli.reference_docs`). (Typer vendors
click privately, so click's ``Context``, ``Parameter`` and formatter appear as ``Any`` below.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandFunctionType

__all__ = ["EtlCommand", "EtlTyper", "argument_label", "help_records", "walk_commands"]


def argument_label(param: Any) -> str:
    """An argument as usage and help name it: its metavar, ``...`` when it takes several."""
    label = str(param.metavar or param.name.upper())
    return f"{label}..." if param.nargs != 1 else label


def help_records(command: Any, ctx: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The ``(name, help)`` rows of ``command``'s ``--help``: its arguments, then its options."""
    arguments: list[tuple[str, str]] = []
    options: list[tuple[str, str]] = []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        if param.param_type_name == "argument":
            arguments.append((argument_label(param), record[1]))
        else:
            options.append(record)
    return arguments, options


class EtlCommand(TyperCommand):
    """A typer command that names its arguments ``NAME``, ``[NAME]`` and ``SOURCE...``."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """``[OPTIONS]`` then each argument, ``[NAME]`` when it is optional."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                label = argument_label(param)
                pieces.append(label if param.required else f"[{label}]")
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        """The Arguments and Options sections, from :func:`help_records`, then the root's
        global options (``-p``, ``-v``), which every command takes too."""
        root = ctx.find_root()
        names = getattr(root.command, "global_options", ())
        inherited = [
            record
            for param in root.command.get_params(root)
            if param.name in names and (record := param.get_help_record(root)) is not None
        ]
        sections = (*help_records(self, ctx), inherited)
        titles = ("Arguments", "Options", "Global options")
        for title, rows in zip(titles, sections, strict=True):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


class EtlTyper(typer.Typer):
    """A ``typer.Typer`` whose commands are :class:`EtlCommand` unless they name a ``cls``."""

    def command(
        self, *args: Any, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        """``typer.Typer.command`` with ``cls`` defaulting to :class:`EtlCommand`."""
        kwargs["cls"] = kwargs.get("cls") or EtlCommand
        return super().command(*args, **kwargs)


def walk_commands(command: Any, ctx: Any) -> Iterator[tuple[Any, Any]]:
    """``(command, ctx)`` for ``command`` and, depth first, every command below it."""
    yield command, ctx
    if isinstance(command, TyperGroup):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from walk_commands(sub, type(ctx)(sub, info_name=name, parent=ctx))
