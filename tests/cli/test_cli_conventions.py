"""CLI conventions (issue 12, item 7): shell completion, help that names every value, and the
command reference in docs/cli.md generated from the command tree."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from etl_cli import ROOT, run_etl
from typer.testing import CliRunner

from etl.cli.main import app
from etl.cli.reference_docs import REFERENCE, command_tree

DOC = ROOT / "docs" / "cli.md"
TREE = command_tree()
# What typer or click print when a parameter has no metavar: `<str>`, `<list[str]>`, `TEXT`.
TYPE_SHOWN = re.compile(
    r"<(?:str|int|float|bool|path|datetime|list\[.*?\]|[a-z]+ range)>"
    r"|\b(?:TEXT|INTEGER|FLOAT|BOOLEAN|FILENAME|DIRECTORY|UUID)\b"
)

runner = CliRunner()


def _path_id(entry: tuple[Any, Any]) -> str:
    return str(entry[1].command_path)


def _help(ctx: Any) -> str:
    result = runner.invoke(app, [*ctx.command_path.split()[1:], "--help"])
    assert result.exit_code == 0, result.output
    return result.stdout


def _bash_complete(line: str) -> list[str]:
    """What TAB offers after ``line`` in bash with ``etl completion bash`` loaded."""
    words = line.split() + ([""] if line.endswith(" ") else [])
    script = (
        'source <(etl completion bash)\nCOMP_WORDS=("$@")\nCOMP_CWORD=$(($# - 1))\n'
        '_etl_completion etl\nprintf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    result = subprocess.run(
        ["bash", "-c", script, "bash", *words],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PATH": path},
    )
    return result.stdout.split()


@pytest.mark.parametrize(
    ("line", "offered"),
    [
        ("etl wor", ["workflow"]),
        ("etl profile create dev --runner ", ["local", "argo"]),
        ("etl dataset render --command ", ["process-items", "create-chunks", "ingest-collection"]),
        ("etl ingest items x.ndjson --method i", ["insert", "ignore"]),
        ("etl completion ", ["bash", "zsh", "fish", "powershell", "pwsh"]),
    ],
)
def test_bash_completes_commands_and_option_values(line: str, offered: list[str]) -> None:
    assert _bash_complete(line) == offered


def test_zsh_and_fish_complete_option_values_with_their_help() -> None:
    line = {"_TYPER_COMPLETE_ARGS": "etl profile create dev --runner "}
    zsh = run_etl(env={"_ETL_COMPLETE": "complete_zsh", **line})
    assert zsh.returncode == 0, zsh.stderr
    assert '"local"' in zsh.stdout and '"argo"' in zsh.stdout
    fish = run_etl(
        env={"_ETL_COMPLETE": "complete_fish", "_TYPER_COMPLETE_FISH_ACTION": "get-args", **line}
    )
    assert fish.returncode == 0, fish.stderr
    assert fish.stdout.split() == ["local", "argo"]
    commands = run_etl(env={"_ETL_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "etl "})
    assert '"profile":"Create, select and inspect profiles."' in commands.stdout


def test_completion_prints_each_shells_script_and_refuses_others() -> None:
    expected = {
        "bash": "complete -o default -F _etl_completion etl",
        "zsh": "compdef _etl_completion etl",
        "fish": "complete --command etl",
        "pwsh": "Register-ArgumentCompleter -Native -CommandName etl",
    }
    for shell, line in expected.items():
        result = run_etl("completion", shell)
        assert result.returncode == 0, result.stderr
        assert line in result.stdout and "_ETL_COMPLETE" in result.stdout
    refused = run_etl("completion", "tcsh")
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: ") and "'tcsh' is not one of 'bash'" in refused.stderr
    root = run_etl("--help").stdout
    assert "--install-completion" in root and "--show-completion" in root
    assert re.search(r"^  completion +Print the completion script for SHELL\.$", root, re.M)


def test_help_names_choices_and_what_a_limit_counts() -> None:
    create = run_etl("profile", "create", "--help").stdout
    assert "Usage: etl profile create [OPTIONS] NAME\n" in create
    assert re.search(r"^  --runner local\|argo +Where workflows run", create, re.M)
    listing = run_etl("workflow", "list", "--help").stdout
    assert re.search(r"--limit N +At most N workflows", listing)
    assert "asset" not in listing
    items = run_etl("ingest", "items", "--help").stdout
    assert "Usage: etl ingest items [OPTIONS] SOURCE...\n" in items
    assert re.search(r"^  SOURCE\.\.\. +ndjson files", items, re.M)


@pytest.mark.parametrize(("command", "ctx"), TREE, ids=[_path_id(e) for e in TREE])
def test_help_names_every_value_never_its_type(command: Any, ctx: Any) -> None:
    page = _help(ctx)
    assert not TYPE_SHOWN.findall(page), page
    assert "{" not in page.splitlines()[0], "usage shows an argument as {NAME}"
    for param in command.get_params(ctx):
        choices = [item.value for item in param.shell_complete(ctx, "") if item.type == "plain"]
        if choices:
            assert "|".join(choices) in page, f"{param.name}: its choices are not in --help"


def test_the_committed_command_reference_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert REFERENCE.splice(text) == text, "docs/cli.md is stale: run scripts/gen_docs"


def test_the_reference_documents_every_command_argument_and_option() -> None:
    text = DOC.read_text(encoding="utf-8")
    reference = text.split(REFERENCE.begin)[1].split(REFERENCE.end)[0]
    sections = dict(
        section.split("`", 2)[1:]
        for section in re.split(r"^#{3,4} ", reference, flags=re.M)
        if section.startswith("`")
    )
    for command, ctx in TREE:
        section = sections.get(ctx.command_path)
        assert section is not None, f"{ctx.command_path} is missing: run scripts/gen_docs"
        rows = re.findall(r"^\| `([^`]*)` \|", section, re.M)
        shown = {word.rstrip(".") for row in rows for word in row.replace(",", " ").split()}
        for param in command.get_params(ctx):
            if param.name != "help":
                names = [param.metavar] if param.param_type_name == "argument" else param.opts
                assert shown.issuperset(names), f"{ctx.command_path}: {names} are missing"
