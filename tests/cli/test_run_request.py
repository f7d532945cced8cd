"""One run request from the command line to ``etl-task``'s argv (issue 23, item 1).

``etl dataset render`` takes every option ``process-items`` takes and prints the manifest
``process-items --submit`` hands to the runner (here the stand-in Argo Server); ``--since`` is
read by one rule, the same for ``render``, ``process-items``, ``create-chunks`` and the pod that
reads it back from the manifest.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from argo_server import ArgoServerStandIn, stand_in_profile
from compile_cases import DATASETS_DIR
from etl_cli import run_etl

from etl.task.main import build_parser

GOES = str(DATASETS_DIR / "goes-glm")
_INPUT = re.compile(r"\{\{inputs\.parameters\.[\w-]+\}\}")


@pytest.fixture
def argo_env(config_dir: Path, tmp_path: Path, argo_server: ArgoServerStandIn) -> dict[str, str]:
    """Profile ``prod`` (selected) on the stand-in Argo Server, bundles in a local folder."""
    env = stand_in_profile(argo_server, f"file://{tmp_path}/bundles")
    assert run_etl("profile", "set", "prod", env=env).returncode == 0
    return env


def _task_args(manifest: dict[str, Any], step: str) -> list[str]:
    """The ``etl-task`` argv of the template whose name ends with ``step`` (its input parameters
    given the value 0, as Argo gives them one)."""
    for template in manifest["spec"]["templates"]:
        if template["name"].endswith(step):
            return [_INPUT.sub("0", arg) for arg in template["container"]["args"]]
    raise AssertionError(f"no {step} template")


@pytest.mark.parametrize(
    ("options", "step", "pod_flags"),
    [
        (["--stac-validation", "sample"], "process-chunks", ["--stac-validation", "sample"]),
        (
            ["--remove-missing", "--max-removals", "5"],
            "finish-collection",
            ["--missing", "remove", "--max-removals", "5"],
        ),
        (
            ["--report-missing", "--max-removals", "10%"],
            "finish-collection",
            ["--missing", "report", "--max-removals", "10%"],
        ),
    ],
)
def test_render_shows_the_manifest_process_items_submits(
    argo_env: dict[str, str],
    argo_server: ArgoServerStandIn,
    options: list[str],
    step: str,
    pod_flags: list[str],
) -> None:
    submitted = run_etl(
        "dataset", "process-items", "-d", GOES, *options, "--submit", "-o", "json", env=argo_env
    )
    assert submitted.returncode == 0, submitted.stderr
    rendered = run_etl("dataset", "render", "-d", GOES, *options, "-o", "json", env=argo_env)
    assert rendered.returncode == 0, rendered.stderr

    (created,) = [r.body for r in argo_server.requests if r.operation == "create_workflow"]
    manifest = json.loads(rendered.stdout)
    assert created["workflow"] == manifest
    args = _task_args(manifest, step)
    assert args[-len(pod_flags) :] == pod_flags
    # and the pod reads them back as the values the CLI was given
    parsed = build_parser().parse_args(args)
    for flag, value in zip(pod_flags[::2], pod_flags[1::2], strict=True):
        assert str(getattr(parsed, flag[2:].replace("-", "_"))) == value


def test_render_refuses_an_option_its_command_does_not_take(config_dir: Path) -> None:
    result = run_etl(
        "dataset", "render", "-d", GOES, "--command", "create-chunks", "--stac-validation", "full"
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip().splitlines()[-1]
        == "error: --stac-validation is for process-items, not create-chunks"
    )


ACCEPTED = {
    "2024-05-01": datetime(2024, 5, 1, tzinfo=UTC),
    "2024-05-01T12:00:00": datetime(2024, 5, 1, 12, tzinfo=UTC),
    "2024-05-01T12:00:00Z": datetime(2024, 5, 1, 12, tzinfo=UTC),
    "2024-05-01T14:00:00+02:00": datetime(2024, 5, 1, 12, tzinfo=UTC),
    "last-success": "last-success",
}
REFUSED = ["soon", "2024-13-01", "", "yesterday", "last_success"]
COMMANDS = [
    ["dataset", "render", "--command", "process-items"],
    ["dataset", "render", "--command", "create-chunks"],
    ["dataset", "process-items"],
    ["dataset", "create-chunks"],
]


@pytest.mark.parametrize("since", list(ACCEPTED))
def test_since_is_read_alike_by_every_command_and_by_the_pod(config_dir: Path, since: str) -> None:
    written = set()
    for command in COMMANDS:
        result = run_etl(*command, "-d", GOES, "--since", since, "-o", "json")
        assert result.returncode == 0, (command, result.stderr)
        args = _task_args(json.loads(result.stdout), "create-chunks")
        written.add(args[args.index("--since") + 1])
        # etl-task reads the instant the user meant (a time without a zone is UTC)
        assert build_parser().parse_args(args).since == ACCEPTED[since]
    assert len(written) == 1


@pytest.mark.parametrize("since", REFUSED)
def test_a_bad_since_is_refused_alike_by_every_command(config_dir: Path, since: str) -> None:
    said = set()
    for command in COMMANDS:
        result = run_etl(*command, "-d", GOES, "--since", since)
        assert result.returncode == 2, (command, result.stdout)
        assert result.stdout == ""
        said.add(result.stderr.strip().splitlines()[-1])
    (line,) = said
    assert line.startswith(f"error: --since {since!r}: give an ISO-8601 time")
