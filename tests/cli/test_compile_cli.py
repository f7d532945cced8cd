"""``etl dataset render | create-chunks | process-items | ingest-collection``, run as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from argo_server import ArgoServerStandIn, RunPlan, stand_in_profile
from compile_cases import DATASETS_DIR
from etl_cli import run_etl

GOES = str(DATASETS_DIR / "goes-glm")
LANDSAT = str(DATASETS_DIR / "landsat")


@pytest.fixture
def argo_env(config_dir: Path, tmp_path: Path, argo_server: ArgoServerStandIn) -> dict[str, str]:
    """A profile ``prod`` on the stand-in Argo Server, bundles in a local folder."""
    return stand_in_profile(argo_server, f"file://{tmp_path}/bundles")


def test_render_prints_the_manifest_and_nothing_else(config_dir: Path) -> None:
    result = run_etl("dataset", "render", "-d", GOES)
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load(result.stdout)
    assert manifest["kind"] == "Workflow"
    assert manifest["metadata"]["generateName"] == "goes-glm-process-items-"
    as_json = run_etl("dataset", "render", "-d", GOES, "-o", "json", "--command", "create-chunks")
    assert json.loads(as_json.stdout)["metadata"]["generateName"] == "goes-glm-create-chunks-"


@pytest.mark.parametrize("command", ["process-items", "create-chunks", "ingest-collection"])
def test_work_command_without_submit_prints_what_render_prints(
    config_dir: Path, command: str
) -> None:
    options = ["-d", LANDSAT, "-a", "year=2024", "-c", "landsat-9"]
    work = run_etl("dataset", command, *options)
    render = run_etl("dataset", "render", "--command", command, *options)
    assert work.returncode == 0, work.stderr
    assert work.stdout == render.stdout
    assert yaml.safe_load(work.stdout)["metadata"]["labels"]["etl.dev/collection"] == "landsat-9"


def test_limit_since_and_schedule_reach_the_manifest(config_dir: Path) -> None:
    result = run_etl(
        "dataset", "process-items", "-d", GOES, "--limit", "5", "--since", "last-success",
        "--schedule", "0 3 * * *", "-o", "json",
    )  # fmt: skip
    manifest = json.loads(result.stdout)
    assert manifest["kind"] == "CronWorkflow"
    templates = {t["name"]: t for t in manifest["spec"]["workflowSpec"]["templates"]}
    args = templates["goes-glm-create-chunks"]["container"]["args"]
    assert args[args.index("--limit") + 1] == "5"
    assert args[args.index("--since") + 1] == "last-success"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["process-items", "-d", GOES, "--since", "soon"], "error: --since 'soon'"),
        (
            ["create-chunks", "-d", GOES, "--schedule", "@daily"],
            "No such option: --schedule",
        ),
        (["process-items", "-d", GOES, "-c", "goes-abi"], "error: unknown collection 'goes-abi'"),
        (["render", "-d", LANDSAT], "year"),
        (["process-items", "-d", GOES, "--wait"], "--wait needs --submit"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(config_dir: Path, args: list[str], message: str) -> None:
    result = run_etl("dataset", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_render_imports_nothing_heavy(config_dir: Path) -> None:
    code = (
        "import sys; from etl.cli.main import app; "
        f"app(['dataset', 'render', '-d', {GOES!r}], standalone_mode=False); "
        "heavy = [m for m in ('azure', 'pypgstac', 'pystac', 'psycopg', 'requests') if m in sys.modules]; "
        "print(heavy, file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stderr.strip().splitlines()[-1] == "[]", result.stderr


def test_submit_uploads_the_bundle_and_waits(
    argo_env: dict[str, str], argo_server: ArgoServerStandIn, tmp_path: Path
) -> None:
    result = run_etl(
        "-p", "prod", "dataset", "process-items", "-d", GOES, "--submit", "--wait", "-o", "json",
        env=argo_env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    submitted = json.loads(result.stdout)
    assert submitted["name"].startswith("goes-glm-process-items-")
    assert {submitted["namespace"], submitted["runner"], submitted["status"]} == {
        "ci",
        "argo",
        "Succeeded",
    }
    rendered = json.loads(
        run_etl("-p", "prod", "dataset", "render", "-d", GOES, "-o", "json", env=argo_env).stdout
    )
    (created,) = [r.body for r in argo_server.requests if r.method == "POST"]
    assert created["workflow"] == rendered
    args = rendered["spec"]["templates"][1]["container"]["args"]
    dataset_json = Path(args[args.index("--dataset") + 1].removeprefix("file://"))
    assert dataset_json.parent.parent.parent == tmp_path / "bundles"
    document = json.loads(dataset_json.read_text())
    assert document["code"]["src"] == "code/goes_glm.py"
    assert (dataset_json.parent / "code" / "goes_glm.py").read_text() == (
        DATASETS_DIR / "goes-glm" / "goes_glm.py"
    ).read_text()


def test_submit_wait_exits_1_when_the_workflow_fails(
    argo_env: dict[str, str], argo_server: ArgoServerStandIn
) -> None:
    argo_server.plan_next(
        RunPlan(phase="Failed", failures={"process-chunks": "Error (exit code 1)"})
    )
    result = run_etl(
        "-p", "prod", "dataset", "ingest-collection", "-d", GOES, "--submit", "--wait", env=argo_env
    )
    assert result.returncode == 1
    name = result.stdout.strip()
    assert name.startswith("goes-glm-ingest-collection-")
    assert result.stderr.endswith(f"error: workflow '{name}' ended Failed\n")


def test_submit_without_wait_prints_the_name(argo_env: dict[str, str]) -> None:
    result = run_etl("-p", "prod", "dataset", "create-chunks", "-d", GOES, "--submit", env=argo_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("goes-glm-create-chunks-")
    assert len(result.stdout.splitlines()) == 1
