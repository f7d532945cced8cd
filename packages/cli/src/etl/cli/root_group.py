"""The root ``etl`` group: loads command groups on first use and maps errors in one place.

The global options (``-p/--profile``, ``-v/--verbose``, declared once on the root callback in
:mod:`etl.cli.main`) may come anywhere on the line, as gh and kubectl take them:
``etl workflow list -p staging`` is ``etl -p staging workflow list`` (:meth:`EtlGroup.parse_args`
moves them to the front). A line that asks for ``-o json`` gets its error as JSON
(:mod:`etl.cli.error_mapping`).

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

from etl.cli.error_mapping import INTERRUPTED, exit_code_for

__all__ = ["CommandModules", "EtlGroup", "LazyCommand", "LazyGroup", "asks_for_json"]

_END_OF_OPTIONS = "--"


def asks_for_json(args: Sequence[str]) -> bool:
    """Whether the command line asks for JSON output: ``-o json``, ``-ojson``, ``--output json``
    or ``--output=json`` (before any ``--``)."""
    tokens = list(args)
    for i, token in enumerate(tokens):
        if token == _END_OF_OPTIONS:
            return False
        if token in ("-o", "--output") and tokens[i + 1 : i + 2] == ["json"]:
            return True
        if token in ("-ojson", "--output=json"):
            return True
    return False


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


class _Suggesting(TyperGroup):
    """A group whose unknown command names get a "did you mean" from every name it lists, loaded
    or not (typer's own looks only at the commands loaded)."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """Resolve the command; an unknown name gets a "did you mean" from every name."""
        try:
            return super().resolve_command(ctx, args)
        except typer.TyperException as exc:
            close = get_close_matches(args[0], self.list_commands(ctx), n=1) if args else []
            if close and "Did you mean" not in exc.message:
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {close[0]!r}?"
            raise


class CommandModules(_Suggesting):
    """A group some of whose commands are declared in other modules, each module imported when
    one of its commands is first asked for: ``etl dataset plan`` imports the plan's module, not
    the stream's or the notifications' (nor builds their commands). Listing (``--help``,
    completion) names every command, its own first, then :attr:`modules`' in their order.

    Attributes:
        modules: Command name -> the module whose ``app`` (a ``typer.Typer``) declares it.
    """

    modules: ClassVar[dict[str, str]] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        """The group's own commands, then every command of :attr:`modules`, none imported."""
        own = [name for name in super().list_commands(ctx) if name not in self.modules]
        return [*own, *self.modules]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The command ``cmd_name``, importing the module that declares it on first use."""
        module = self.modules.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            group = typer.main.get_group(importlib.import_module(module).app)
            for name, command in group.commands.items():
                self.add_command(command, name)
        return super().get_command(ctx, cmd_name)


class EtlGroup(_Suggesting):
    """The root ``etl`` group.

    Attributes:
        lazy_groups: Command groups by name, loaded on first use.
        verbose: Set by the root callback from ``--verbose``; adds tracebacks to errors.
    """

    lazy_groups: ClassVar[dict[str, LazyGroup]] = {}
    global_options: ClassVar[tuple[str, ...]] = ("profile", "verbose")
    """The root's parameters (by name) that every command takes, wherever they are written."""
    verbose = False

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Parse the root options, after moving every global option (and its value) found
        after the command's name to the front."""
        return super().parse_args(ctx, self._globals_first(args))

    def _globals_first(self, args: list[str]) -> list[str]:
        takes_value: dict[str, bool] = {}
        for param in self.params:
            if param.name in self.global_options:
                for flag in (*param.opts, *param.secondary_opts):
                    takes_value[flag] = not getattr(param, "is_flag", False)
        hoisted: list[str] = []
        rest: list[str] = []
        i = 0
        while i < len(args):
            token = args[i]
            if token == _END_OF_OPTIONS:
                rest += args[i:]
                break
            flag = token.partition("=")[0]
            if flag in takes_value:
                width = 2 if takes_value[flag] and "=" not in token else 1
                hoisted += args[i : i + width]
                i += width
                continue
            rest.append(token)
            i += 1
        return [*hoisted, *rest]

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
        """Run the command line; exit (or, not standalone, return) 0, 1, 2 or 130 (Ctrl-C)."""
        self.verbose = False
        if args is None:
            args = sys.argv[1:]
        try:
            result = super().main(
                args, prog_name, complete_var, False, windows_expand_args, **extra
            )
            code = result if isinstance(result, int) else 0
            if code == INTERRUPTED:  # typer's answer to a KeyboardInterrupt
                code = exit_code_for(KeyboardInterrupt(), as_json=asks_for_json(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException as exc:
            code = exit_code_for(exc, verbose=self.verbose, as_json=asks_for_json(args))
        if standalone_mode:
            sys.exit(code)
        return code
