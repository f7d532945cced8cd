"""``etl dataset render`` takes the work commands' ``--limit``, ``--since`` and ``--schedule``, and then
prints what that command would submit with them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from etl_cli import ROOT, run_etl

GOES = str(ROOT / "tests" / "compile_datasets" / "goes-glm")


@pytest.mark.parametrize("command", ["process-items", "create-chunks"])
def test_render_with_limit_and_since_is_what_the_work_command_submits(
    config_dir: Path, command: str
) -> None:
    options = ["-d", GOES, "--limit", "5", "--since", "2024-05-01T00:00:00Z"]
    render = run_etl("dataset", "render", "--command", command, *options)
    work = run_etl("dataset", command, *options)
    plain = run_etl("dataset", "render", "--command", command, "-d", GOES)
    assert render.returncode == 0, render.stderr
    assert render.stdout == work.stdout
    assert render.stdout != plain.stdout
    assert "--limit\n      - '5'\n      - --since\n      - '2024-05-01T00:00:00Z'" in render.stdout


def test_render_with_schedule_prints_the_cron_workflow(config_dir: Path) -> None:
    result = run_etl("dataset", "render", "-d", GOES, "--schedule", "0 * * * *")
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load(result.stdout)
    assert manifest["kind"] == "CronWorkflow"
    assert manifest["spec"]["schedules"] == ["0 * * * *"]
    work = run_etl("dataset", "process-items", "-d", GOES, "--schedule", "0 * * * *")
    assert result.stdout == work.stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--command", "create-chunks", "--schedule", "@daily"],
            "error: --schedule is for process-items, not create-chunks",
        ),
        (
            ["--command", "ingest-collection", "--limit", "5"],
            "error: --limit is for process-items and create-chunks, not ingest-collection",
        ),
        (
            ["--command", "ingest-collection", "--since", "last-success"],
            "error: --since is for process-items and create-chunks, not ingest-collection",
        ),
        (["--since", "soon"], "error: --since 'soon'"),
    ],
)
def test_render_refuses_options_the_command_does_not_take(
    config_dir: Path, options: list[str], message: str
) -> None:
    result = run_etl("dataset", "render", "-d", GOES, *options)
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(message)
