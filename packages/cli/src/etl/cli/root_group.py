"""The root ``etl`` group: loads command groups on first use and maps errors in one place.

``etl --help`` lists the groups from a registry (name, module, one-line help) without importing
them, so start-up costs typer and nothing else; ``etl profile ...`` imports only
``etl.cli.profile_cmd``. (Typer vendors click privately, so click's ``Context`` and ``Command``
appear as ``Any`` below.)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from difflib import get_close_matches
from typing import Any, ClassVar

import typer
from typer.core import TyperGroup

from etl.cli.error_mapping import exit_code_for

__all__ = ["EtlGroup", "LazyCommand", "LazyGroup"]

_INTERRUPTED = 130


class LazyGroup:
    """A command group registered by name, imported on first use.

    Args:
        module: The module whose ``app`` (a ``typer.Typer``) holds the group's commands.
        help_text: The group's one-line help, shown by ``etl --help`` and shell completion (and
            by ``etl NAME --help`` when the ``app`` has no help of its own).
    """

    def __init__(self, module: str, help_text: str) -> None:
        self.module = module
        self.help_text = help_text

    def load(self, name: str) -> Any:
        """Import the module and build the group's click command."""
        app = importlib.import_module(self.module).app
        group = typer.main.get_group(app)
        group.name = name
        group.help = group.help or self.help_text
        group.short_help = self.help_text
        return group


class LazyCommand(LazyGroup):
    """A single command registered by name (the module's ``app`` holds that command alone),
    imported on first use."""

    def load(self, name: str) -> Any:
        """Import the module and build the command."""
        command = typer.main.get_command(importlib.import_module(self.module).app)
        command.name = name
        command.short_help = self.help_text
        return command


class EtlGroup(TyperGroup):
    """The root ``etl`` group.

    Attributes:
        lazy_groups: Command groups by name, loaded on first use.
        verbose: Set by the root callback from ``--verbose``; adds tracebacks to errors.
    """

    lazy_groups: ClassVar[dict[str, LazyGroup]] = {}
    verbose = False

    def list_commands(self, ctx: Any) -> list[str]:
        """Every command and group name, loaded or not: the registered groups first."""
        loaded = super().list_commands(ctx)
        return [*self.lazy_groups, *(name for name in loaded if name not in self.lazy_groups)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The command or group ``cmd_name``, importing a registered group on first use."""
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self.lazy_groups:
            command = self.lazy_groups[cmd_name].load(cmd_name)
            self.add_command(command, cmd_name)
        return command

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """Resolve the command; an unknown name gets a "did you mean" from every name."""
        try:
            return super().resolve_command(ctx, args)
        except typer.TyperException as exc:
            close = get_close_matches(args[0], self.list_commands(ctx), n=1) if args else []
            if close and "Did you mean" not in exc.message:
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {close[0]!r}?"
            raise

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """List the groups with their registered help, without importing them."""
        rows = [
            (name, self.lazy_groups[name].help_text)
            if name in self.lazy_groups
            else (name, self.get_command(ctx, name).get_short_help_str())
            for name in self.list_commands(ctx)
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; exit (or, not standalone, return) 0, 1 or 2."""
        self.verbose = False
        try:
            result = super().main(
                args, prog_name, complete_var, False, windows_expand_args, **extra
            )
            code = result if isinstance(result, int) else 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException as exc:
            code = exit_code_for(exc, verbose=self.verbose)
        if code == _INTERRUPTED:
            code = exit_code_for(KeyboardInterrupt())
        if standalone_mode:
            sys.exit(code)
        return code
