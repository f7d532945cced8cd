"""What ``etl dataset plan`` pays for besides the plan (docs/performance.md, "Planning"): it
imports the module of the command it runs, not those of every ``etl dataset`` command, while
``etl dataset --help`` still lists them all; and it reads the recorded load times in UTC
whatever the database's time zone, which changes what it costs, never what it keeps. Through the
``etl`` command on the built-in ``local`` profile and a PgSTAC database of the test's own.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import time
from pathlib import Path

import pytest
import typer
from etl_cli import run_etl
from sidecar_dataset import Dataset, make_dataset

OTHER_COMMANDS = (
    "etl.cli.dataset_work_cmd",
    "etl.cli.dataset_secrets_cmd",
    "etl.cli.dataset_events_cmd",
    "etl.cli.dataset_stream_cmd",
    "etl.cli.dataset_notify_cmd",
)
"""The modules of the ``etl dataset`` commands other than plan's."""

IMPORTED = re.compile(r"^import '([\w.]+)' #", re.MULTILINE)
"""A module imported, in Python's verbose output (``PYTHONVERBOSE``): unlike the import timing,
it names modules imported with ``importlib.import_module`` too, as the command groups are."""


def _loaded(tmp_path: Path, pgstac_dsn: str, assets: int) -> Dataset:
    """A dataset of ``assets`` sidecars changed well before ``process-items`` loads them."""
    data = make_dataset(tmp_path, pgstac_dsn, assets=assets, broken=set())
    long_before = time.time() - 60
    for sidecar in data.assets.iterdir():
        os.utime(sidecar, (long_before, long_before))
    loaded = data.run("dataset", "process-items", "-d", str(data.folder), "--submit")
    assert loaded.returncode == 0, loaded.stderr
    return data


@pytest.mark.postgres
def test_a_plan_imports_none_of_the_other_dataset_commands(tmp_path: Path, pgstac_dsn: str) -> None:
    data = _loaded(tmp_path, pgstac_dsn, assets=2)

    result = run_etl(
        "dataset", "plan", "-d", str(data.folder), "-o", "json",
        env={**data.env, "PYTHONVERBOSE": "1"},
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)["collections"][0]
    assert (plan["made"], plan["unchanged"]) == (0, 2)
    imported = IMPORTED.findall(result.stderr)
    assert "etl.cli.dataset_plan_cmd" in imported
    assert [name for name in imported if name in OTHER_COMMANDS] == []


def test_dataset_help_lists_every_command_of_every_dataset_command_module() -> None:
    declared = {
        name
        for module in ("etl.cli.dataset_cmd", *OTHER_COMMANDS, "etl.cli.dataset_plan_cmd")
        for name, command in typer.main.get_group(
            importlib.import_module(module).app
        ).commands.items()
        if not command.hidden
    }

    result = run_etl("dataset", "--help")

    assert result.returncode == 0, result.stderr
    listed = result.stdout.split("Commands:", 1)[1].split()
    assert declared - set(listed) == set()
    misspelt = run_etl("dataset", "forget-failure")
    assert misspelt.returncode == 2
    assert "Did you mean 'forget-failures'?" in misspelt.stderr


@pytest.mark.postgres
def test_a_plan_keeps_what_was_loaded_whatever_the_database_time_zone(
    tmp_path: Path, pgstac_dsn: str
) -> None:
    data = _loaded(tmp_path, pgstac_dsn, assets=3)
    (data.assets / "00001.json").write_text(
        json.dumps({"id": "item-00001", "n": 1, "x": 9, "y": 9, "t": "2021-05-01T00:00:00+00:00"})
    )
    far_from_utc = {**data.env, "PGTZ": "Pacific/Kiritimati"}  # UTC+14: libpq sets the session's

    result = run_etl("dataset", "plan", "-d", str(data.folder), "-o", "json", env=far_from_utc)

    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)["collections"][0]
    assert (plan["made"], plan["changed"], plan["unchanged"]) == (1, 1, 2)
