"""One supported Argo range, checked (issue 13, item 2), and the client following a workflow where
it is (item 8): ``workflow submit FILE --wait`` in the manifest's namespace, ``workflow stop``
reporting the phase once the stop has taken effect.

The client asks the server's version (``GET /api/v1/version``) once, before its first create, and
refuses Argo Workflows older than v3.6 in one line: such a server drops ``spec.schedules`` and
``synchronization.semaphores`` without a word.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from argo_server import TOKEN, ArgoServerStandIn, RunPlan
from compile_cases import DATASETS_DIR
from etl_cli import run_etl

from etl.core.errors import RemoteError
from etl.core.profiles.model import ArgoSettings
from etl.runner.argo_server.client import ArgoClient
from etl.runner.argo_server.cron import check_server_version, parse_version
from etl.runner.workflow_status import WorkflowPhase

GOES = str(DATASETS_DIR / "goes-glm")
WORKFLOW: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"generateName": "demo-"},
    "spec": {
        "entrypoint": "main",
        "templates": [{"name": "main", "container": {"image": "busybox", "command": ["true"]}}],
    },
}


def client_for(server: ArgoServerStandIn, namespace: str = "argo") -> ArgoClient:
    settings = ArgoSettings(server=server.url, token=TOKEN, namespace=namespace)
    return ArgoClient(settings, poll_interval=0.02)


@pytest.fixture
def ci_env(config_dir: Path, argo_server: ArgoServerStandIn) -> dict[str, str]:
    """A CI job's environment: the stand-in server, namespace ``ci``, no profile file."""
    return dict(
        os.environ, ETL_ARGO_SERVER=argo_server.url, ETL_ARGO_TOKEN=TOKEN, ETL_ARGO_NAMESPACE="ci"
    )


def _manifest_file(tmp_path: Path, namespace: str | None = None) -> Path:
    manifest = yaml.safe_load(yaml.safe_dump(WORKFLOW))
    if namespace:
        manifest["metadata"]["namespace"] = namespace
    path = tmp_path / "workflow.yaml"
    path.write_text(yaml.safe_dump(manifest))
    return path


@pytest.mark.parametrize(
    ("version", "parsed"),
    [("v3.6.2", (3, 6, 2)), ("v4.0.0-rc1", (4, 0, 0)), ("3.5", (3, 5, 0)), ("untagged", None)],
)
def test_versions_are_read_as_argo_reports_them(
    version: str, parsed: tuple[int, int, int] | None
) -> None:
    assert parse_version(version) == parsed


@pytest.mark.parametrize("version", ["v3.6.0", "v3.7.1", "v4.1.2", "latest", "untagged"])
def test_v3_6_and_newer_are_accepted(version: str) -> None:
    check_server_version("https://argo.example.com", version)  # a dev build cannot be told old


def test_a_v3_5_server_is_refused_in_one_line_before_anything_is_created(
    ci_env: dict[str, str], argo_server: ArgoServerStandIn, tmp_path: Path
) -> None:
    argo_server.version = "v3.5.5"

    result = run_etl("workflow", "submit", str(_manifest_file(tmp_path)), env=ci_env)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: the Argo Server at {argo_server.url} runs Argo Workflows v3.5.5; etl needs v3.6 "
        "or newer (its manifests use spec.schedules and synchronization.semaphores, which older "
        "servers drop)\n"
    )
    assert argo_server.operations() == ["get_version"]


def test_a_v3_5_server_gets_no_cron_workflow_and_no_upload(
    config_dir: Path, argo_server: ArgoServerStandIn, tmp_path: Path
) -> None:
    argo_server.version = "v3.5.5"
    env = dict(os.environ, ETL_ARGO_TOKEN=TOKEN)
    bundles = tmp_path / "bundles"
    created = run_etl(
        "profile", "create", "prod", "--runner", "argo", "--argo-server", argo_server.url,
        "--set", f"workflow.code_storage=file://{bundles}", "--set", "pgstac.dsn_secret=pgstac-dsn",
        env=env,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr

    result = run_etl(
        "-p", "prod", "dataset", "process-items", "-d", GOES, "--schedule", "@daily", "--submit",
        env=env,
    )  # fmt: skip

    assert result.returncode == 1
    assert result.stderr.startswith(f"error: the Argo Server at {argo_server.url} runs Argo ")
    assert result.stderr.count("\n") == 1
    assert argo_server.operations() == ["get_version"]
    assert not bundles.exists()


def test_the_version_is_asked_once_per_client(argo_server: ArgoServerStandIn) -> None:
    client = client_for(argo_server)
    client.submit(WORKFLOW)
    client.submit(WORKFLOW)

    assert argo_server.operations() == ["get_version", "create_workflow", "create_workflow"]
    assert client.server_version == "v3.6.2"


def test_a_too_old_server_is_a_remote_error_naming_it(argo_server: ArgoServerStandIn) -> None:
    argo_server.version = "v3.4.17"
    with pytest.raises(RemoteError, match=r"runs Argo Workflows v3\.4\.17; etl needs v3\.6"):
        client_for(argo_server).submit(WORKFLOW)


def test_submit_wait_waits_in_the_namespace_of_the_manifest(
    ci_env: dict[str, str], argo_server: ArgoServerStandIn, tmp_path: Path
) -> None:
    # The profile (ETL_ARGO_NAMESPACE) says ci; the manifest says batch.
    result = run_etl(
        "workflow", "submit", str(_manifest_file(tmp_path, "batch")), "--wait", env=ci_env
    )

    assert result.returncode == 0, result.stderr
    name = result.stdout.strip()
    assert f"{name}: Succeeded" in result.stderr
    gets = [r.path for r in argo_server.requests if r.operation == "get_workflow"]
    watches = [r.path for r in argo_server.requests if r.operation == "watch_workflows"]
    assert gets and all(path == f"/api/v1/workflows/batch/{name}" for path in gets)
    assert watches and all(path == "/api/v1/workflow-events/batch" for path in watches)


def test_stop_reports_the_phase_after_the_stop_took_effect(
    argo_server: ArgoServerStandIn,
) -> None:
    argo_server.plan_next(RunPlan(hold=True))
    client = client_for(argo_server)
    name = client.submit(WORKFLOW).name

    stopped = client.stop(name)

    # The server's answer to the stop still says Running; the client read it again.
    (answer_index,) = [
        i for i, r in enumerate(argo_server.requests) if r.operation == "stop_workflow"
    ]
    assert [r.operation for r in argo_server.requests[answer_index + 1 :]][:1] == ["get_workflow"]
    assert stopped.phase is WorkflowPhase.FAILED
    assert stopped.message == "Stopped with strategy 'Stop'"


def test_stop_gives_up_waiting_after_a_while(argo_server: ArgoServerStandIn) -> None:
    argo_server.plan_next(RunPlan(hold=True))
    argo_server.workflows.step_seconds = 60.0  # the stop takes effect a minute later
    settings = ArgoSettings(server=argo_server.url, token=TOKEN, namespace="argo")
    client = ArgoClient(settings, stop_wait=0.3)
    name = client.submit(WORKFLOW).name

    status = client.stop(name)  # `etl workflow stop` prints "NAME: stopping" for this

    assert not status.finished
    assert status.phase is WorkflowPhase.RUNNING
