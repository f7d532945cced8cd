"""The command reference of ``docs/cli.md``, generated from the ``etl`` command tree.

``scripts/gen_docs`` writes it between two markers (:data:`REFERENCE`): every command and group,
with its usage line, help and the rows its ``--help`` lists (metavars, choices, defaults); a test
checks that the committed text is current.
"""

from __future__ import annotations

from typing import Any

import typer

from etl.cli.generated_docs import GeneratedSection
from etl.cli.help_format import help_records, walk_commands

__all__ = ["REFERENCE", "command_tree", "render_command_reference"]


def command_tree() -> list[tuple[Any, Any]]:
    """``(command, ctx)`` for ``etl`` and every command and group below it, depth first."""
    from etl.cli.main import app

    root = typer.main.get_command(app)
    return list(walk_commands(root, typer.Context(root, info_name="etl")))


def render_command_reference() -> str:
    """One section per command: heading, usage, help, and a table of its arguments and options."""
    return "\n".join(_section(command, ctx) for command, ctx in command_tree())


def _section(command: Any, ctx: Any) -> str:
    usage = " ".join([ctx.command_path, *command.collect_usage_pieces(ctx)])
    level = "####" if ctx.command_path.count(" ") > 1 else "###"
    lines = [f"{level} `{ctx.command_path}`", "", "```text", usage, "```", ""]
    if command.help:
        lines += [command.help.strip(), ""]
    arguments, options = help_records(command, ctx)
    rows = [*arguments, *((name, text) for name, text in options if name != "--help")]
    if rows:
        lines += ["| argument / option | meaning |", "| --- | --- |"]
        lines += [f"| `{_cell(name)}` | {_cell(text)} |" for name, text in rows]
        lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


REFERENCE = GeneratedSection("docs/cli.md", "command reference", render_command_reference)
"""The command reference of ``docs/cli.md``."""
