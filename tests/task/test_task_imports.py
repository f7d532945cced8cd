"""etl-task: a task imports its own subcommand's module, not every subcommand's."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from etl.task.main import SUBCOMMAND_MODULES, build_parser


def _imported(*argv: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run etl-task's entry point on ``argv`` in a new Python: what it printed (its help) and
    which modules it had imported when it ended."""
    probe = (
        "import json, sys\n"
        "from etl.task.main import main\n"
        "try:\n"
        f"    main({list(argv)!r})\n"
        "finally:\n"
        "    print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return result, set(json.loads(result.stderr.splitlines()[-1]))


def test_a_create_chunks_task_leaves_the_stream_and_the_database_libraries_unloaded() -> None:
    result, modules = _imported("create-chunks", "--help")
    assert result.returncode == 0
    assert "--collection" in result.stdout
    assert "etl.task.create_chunks" in modules
    for unneeded in ("etl.task.consume_events", "azure.storage.queue", "etl.task.process_chunks"):
        assert unneeded not in modules


def test_help_still_lists_every_subcommand() -> None:
    result, modules = _imported("--help")
    assert result.returncode == 0
    for subcommands in SUBCOMMAND_MODULES.values():
        for subcommand in subcommands:
            assert subcommand.name in result.stdout
    assert set(SUBCOMMAND_MODULES) <= modules


@pytest.mark.parametrize("module", list(SUBCOMMAND_MODULES))
def test_each_module_registers_the_subcommands_listed_for_it(module: str) -> None:
    listed = SUBCOMMAND_MODULES[module]
    (action,) = [
        action
        for action in build_parser(listed[0].name)._actions
        if isinstance(action, argparse._SubParsersAction)
    ]
    assert sorted(action.choices) == sorted(subcommand.name for subcommand in listed)
