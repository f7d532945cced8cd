"""The Argo Server client (etl.runner.argo_server.client) against the stand-in Argo Server.

The stand-in (``argo_server.py``) checks every request against Argo's OpenAPI spec and fails the
test on any request off the spec; ``etl workflow`` is driven through the real ``etl`` command.
"""

from __future__ import annotations

import copy
import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml
from argo_api import ArgoApi
from argo_server import TOKEN, ArgoServerStandIn, RunPlan
from etl_cli import run_etl

from etl.core.errors import InputError, ProfileError, RemoteError
from etl.core.profiles.model import ArgoSettings
from etl.runner.argo_server.client import ArgoClient, argo_base_url
from etl.runner.workflow_status import WorkflowNotFoundError, WorkflowPhase

ROOT = Path(__file__).resolve().parents[2]

MANIFEST: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"generateName": "demo-process-items-", "labels": {"etl/dataset": "demo"}},
    "spec": {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "dag": {
                    "tasks": [
                        {"name": "create-chunks", "template": "task"},
                        {"name": "process", "template": "task", "depends": "create-chunks"},
                    ]
                },
            },
            {
                "name": "task",
                "retryStrategy": {"limit": 2},
                "container": {
                    "image": "etl-task:latest",
                    "command": ["etl-task"],
                    "resources": {"requests": {"cpu": 1, "memory": "256Mi"}},
                },
            },
        ],
    },
}


def client_for(server: ArgoServerStandIn, **settings: Any) -> ArgoClient:
    values = {"server": server.url, "token": TOKEN, "namespace": "argo", **settings}
    return ArgoClient(ArgoSettings(**values), poll_interval=0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_submit_creates_the_workflow_and_leaves_the_manifest_untouched(
    argo_server: ArgoServerStandIn,
) -> None:
    manifest = copy.deepcopy(MANIFEST)

    submitted = client_for(argo_server).submit(manifest)

    assert manifest == MANIFEST
    assert submitted.name.startswith("demo-process-items-")
    assert len(submitted.name) == len("demo-process-items-") + 5
    assert (submitted.namespace, submitted.runner, submitted.status) == ("argo", "argo", "Pending")
    assert submitted.url == f"{argo_server.url}/workflows/argo/{submitted.name}"
    (create,) = [r for r in argo_server.requests if r.operation == "create_workflow"]
    sent = create.body["workflow"]
    assert sent["metadata"]["labels"] == {"etl/dataset": "demo"}
    assert sent["spec"]["templates"][1]["retryStrategy"] == {"limit": 2}
    # Kubernetes reads cpu: 1 and cpu: "1" alike; Hera's model wants the string.
    assert sent["spec"]["templates"][1]["container"]["resources"]["requests"]["cpu"] == "1"


def test_submit_rejects_a_manifest_that_is_not_a_workflow(argo_server: ArgoServerStandIn) -> None:
    client = client_for(argo_server)
    with pytest.raises(InputError, match="got kind 'CronWorkflow'"):
        client.submit({**MANIFEST, "kind": "CronWorkflow"})
    with pytest.raises(InputError, match=r"not a valid Argo Workflow manifest: spec\.templates"):
        client.submit({**MANIFEST, "spec": {"templates": "main"}})
    assert argo_server.requests == []


def test_wait_follows_the_event_stream_to_succeeded(argo_server: ArgoServerStandIn) -> None:
    client = client_for(argo_server)
    name = client.submit(MANIFEST).name

    phases = [status.phase for status in client.watch(name)]
    final = client.wait(name)

    assert phases == [WorkflowPhase.PENDING, WorkflowPhase.RUNNING, WorkflowPhase.SUCCEEDED]
    assert final.succeeded and final.failed_nodes == () and final.progress == "2/2"
    watch = [r for r in argo_server.requests if r.operation == "watch_workflows"]
    assert watch[0].query == {"listOptions.fieldSelector": [f"metadata.name={name}"]}


def test_wait_reports_the_failed_steps_and_their_messages(argo_server: ArgoServerStandIn) -> None:
    argo_server.plan_next(
        RunPlan(phase="Failed", failures={"process": "Error (exit code 1): no such blob"})
    )
    client = client_for(argo_server)

    final = client.wait(client.submit(MANIFEST).name)

    assert final.phase is WorkflowPhase.FAILED
    assert final.failure_messages() == ["process: Error (exit code 1): no such blob"]


def test_watch_polls_when_the_event_stream_is_refused(argo_server: ArgoServerStandIn) -> None:
    argo_server.fail_next(501, "not implemented", operation="watch_workflows")
    client = client_for(argo_server)
    name = client.submit(MANIFEST).name

    phases = [status.phase.value for status in client.watch(name)]

    assert phases[0] == "Pending" and phases[-1] == "Succeeded"
    assert argo_server.operations().count("watch_workflows") == 1
    assert argo_server.operations().count("get_workflow") > 2


def test_list_returns_the_newest_first_up_to_the_limit(argo_server: ArgoServerStandIn) -> None:
    client = client_for(argo_server)
    names = [client.submit(MANIFEST).name for _ in range(3)]

    listed = client.list(limit=2)

    assert [status.name for status in listed] == names[:0:-1]
    assert len(client.list()) == 3
    assert argo_server.requests[-2].query == {"listOptions.limit": ["2"]}


def test_get_of_an_unknown_workflow_names_it(argo_server: ArgoServerStandIn) -> None:
    with pytest.raises(
        WorkflowNotFoundError, match="workflow 'nope' not found in namespace 'argo'"
    ):
        client_for(argo_server).get("nope")


def test_logs_read_a_multi_line_stream_in_order(argo_server: ArgoServerStandIn) -> None:
    client = client_for(argo_server)
    name = client.wait(client.submit(MANIFEST).name).name

    lines = list(client.logs(name))

    assert [line.content for line in lines] == [
        "create-chunks: starting",
        "create-chunks: wrote 3 items",
        "create-chunks: done",
        "process: starting",
        "process: wrote 3 items",
        "process: done",
    ]
    assert all(line.pod.startswith(f"{name}-create-chunks-") for line in lines[:3])
    (request,) = [r for r in argo_server.requests if r.operation == "workflow_logs"]
    assert request.query == {"logOptions.container": ["main"], "logOptions.follow": ["false"]}


def test_logs_follow_reads_until_the_workflow_ends(argo_server: ArgoServerStandIn) -> None:
    argo_server.workflows.step_seconds = 1.0  # Pending for a whole second, even under load
    client = client_for(argo_server)
    name = client.submit(MANIFEST).name
    unfollowed = list(client.logs(name))

    followed = [line.content for line in client.logs(name, follow=True)]

    assert unfollowed == []  # still Pending: no pod has written anything
    assert followed[-1] == "process: done" and len(followed) == 6


def test_stop_ends_a_running_workflow(argo_server: ArgoServerStandIn) -> None:
    argo_server.plan_next(RunPlan(hold=True))
    client = client_for(argo_server)
    name = client.submit(MANIFEST).name

    stopped = client.stop(name)

    assert stopped.phase is WorkflowPhase.FAILED
    assert stopped.message == "Stopped with strategy 'Stop'"
    assert client.get(name).phase is WorkflowPhase.FAILED
    (request,) = [r for r in argo_server.requests if r.operation == "stop_workflow"]
    assert request.body == {"name": name, "namespace": "argo"}


def test_retry_runs_a_failed_workflow_again(argo_server: ArgoServerStandIn) -> None:
    argo_server.plan_next(RunPlan(phase="Failed", failures={"process": "OOMKilled"}))
    client = client_for(argo_server)
    name = client.wait(client.submit(MANIFEST).name).name

    retried = client.retry(name)

    assert retried.phase is WorkflowPhase.RUNNING
    assert client.wait(name).succeeded


def test_retry_of_a_succeeded_workflow_says_why_not(argo_server: ArgoServerStandIn) -> None:
    client = client_for(argo_server)
    name = client.wait(client.submit(MANIFEST).name).name

    with pytest.raises(RemoteError, match=r"rejected the request \(400\): workflow must be Failed"):
        client.retry(name)


def test_lint_and_delete(argo_server: ArgoServerStandIn) -> None:
    client = client_for(argo_server)
    client.lint(MANIFEST)
    name = client.submit(MANIFEST).name

    client.delete(name)

    with pytest.raises(WorkflowNotFoundError):
        client.get(name)
    with pytest.raises(RemoteError, match="at least one template"):
        client.lint({**MANIFEST, "spec": {"entrypoint": "main", "templates": []}})


def test_a_wrong_token_is_refused_in_one_line(argo_server: ArgoServerStandIn) -> None:
    client = client_for(argo_server, token="wrong")
    with pytest.raises(RemoteError) as caught:
        client.list()
    assert str(caught.value).startswith("Argo Server refused the token (401): token not valid")
    assert "\n" not in str(caught.value)


def test_a_forbidden_token_is_refused(argo_server: ArgoServerStandIn) -> None:
    argo_server.fail_next(403, 'workflows.argoproj.io is forbidden: User "ci" cannot list')
    with pytest.raises(RemoteError, match=r"Argo Server refused the token \(403\): .*forbidden"):
        client_for(argo_server).list()


def test_a_failing_server_is_named(argo_server: ArgoServerStandIn) -> None:
    argo_server.fail_next(503, "upstream connect error")
    with pytest.raises(RemoteError) as caught:
        client_for(argo_server).get("any")
    assert str(caught.value) == (
        f"the Argo Server at {argo_server.url}/ failed (503): upstream connect error"
    )


def test_an_unreachable_server_is_named() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    client = ArgoClient(ArgoSettings(server=url, token=TOKEN))
    with pytest.raises(
        RemoteError, match=f"cannot reach the Argo Server at {url}/: connection refused"
    ):
        client.submit(MANIFEST)


def test_a_server_under_a_path_prefix(argo_apis: tuple[ArgoApi, ...]) -> None:
    server = ArgoServerStandIn(argo_apis, base_path="/argo")
    server.start()
    try:
        client = ArgoClient(
            ArgoSettings(server=server.url.removesuffix("/argo"), base_href="/argo/", token=TOKEN)
        )
        assert client.wait(client.submit(MANIFEST).name).succeeded
    finally:
        server.stop()
    assert server.violations == []
    assert all(request.path.startswith("/argo/api/v1/") for request in server.requests)


@pytest.mark.parametrize(
    ("server", "base_href", "expected"),
    [
        ("http://127.0.0.1:2746", "", "http://127.0.0.1:2746/"),
        ("https://example.com/argo", "", "https://example.com/argo/"),
        ("https://example.com", "/argo", "https://example.com/argo/"),
    ],
)
def test_base_url_always_ends_with_a_slash(server: str, base_href: str, expected: str) -> None:
    assert argo_base_url(ArgoSettings(server=server, base_href=base_href)) == expected


def test_a_profile_without_a_server_says_how_to_set_one() -> None:
    with pytest.raises(ProfileError, match="ETL_ARGO_SERVER"):
        ArgoClient(ArgoSettings())


# -- the `etl workflow` commands, run as a CI job would: real process, configuration from env ----


@pytest.fixture
def ci_env(config_dir: Path, argo_server: ArgoServerStandIn) -> dict[str, str]:
    """An environment with no profile file: only the ETL_ARGO_* variables of a CI job."""
    env = dict(os.environ)
    env.update(ETL_ARGO_SERVER=argo_server.url, ETL_ARGO_TOKEN=TOKEN, ETL_ARGO_NAMESPACE="ci")
    return env


@pytest.fixture
def manifest_file(tmp_path: Path) -> Path:
    path = tmp_path / "workflow.yaml"
    path.write_text(yaml.safe_dump(MANIFEST))
    return path


def test_ci_submit_wait_succeeds_with_only_env_vars(
    ci_env: dict[str, str], manifest_file: Path, argo_server: ArgoServerStandIn
) -> None:
    result = run_etl("workflow", "submit", str(manifest_file), "--wait", "-o", "json", env=ci_env)

    assert result.returncode == 0, result.stderr
    submitted = json.loads(result.stdout)
    assert submitted["name"].startswith("demo-process-items-")
    assert {k: submitted[k] for k in ("namespace", "runner", "status")} == {
        "namespace": "ci",
        "runner": "argo",
        "status": "Succeeded",
    }
    assert submitted["url"] == f"{argo_server.url}/workflows/ci/{submitted['name']}"
    assert f"{submitted['name']}: Succeeded (2/2)" in result.stderr


def test_ci_submit_wait_fails_with_the_failed_steps_on_stderr(
    ci_env: dict[str, str], manifest_file: Path, argo_server: ArgoServerStandIn
) -> None:
    argo_server.plan_next(RunPlan(phase="Failed", failures={"process": "Error (exit code 3)"}))

    result = run_etl("workflow", "submit", str(manifest_file), "--wait", env=ci_env)

    assert result.returncode == 1
    name = result.stdout.strip()
    assert name.startswith("demo-process-items-")
    assert "  failed: process: Error (exit code 3)\n" in result.stderr
    assert result.stderr.endswith(f"error: workflow '{name}' ended Failed\n")
    assert "Traceback" not in result.stderr


def test_ci_with_the_argo_cli_variables(config_dir: Path, argo_server: ArgoServerStandIn) -> None:
    client = client_for(argo_server)
    name = client.wait(client.submit(MANIFEST).name).name
    env = dict(os.environ)
    env.update(
        ARGO_SERVER=argo_server.url.removeprefix("http://"),
        ARGO_SECURE="false",
        ARGO_TOKEN=f"Bearer {TOKEN}",
        ARGO_NAMESPACE="argo",
    )

    listed = run_etl("workflow", "list", "-o", "json", env=env)
    got = run_etl("workflow", "get", name, "-o", "json", env=env)
    logs = run_etl("workflow", "logs", name, env=env)

    assert listed.returncode == 0, listed.stderr
    assert [(w["name"], w["phase"]) for w in json.loads(listed.stdout)] == [(name, "Succeeded")]
    assert json.loads(got.stdout)["progress"] == "2/2"
    assert logs.stdout.splitlines()[0].endswith(": create-chunks: starting")
    assert len(logs.stdout.splitlines()) == 6


def test_cli_stop_and_retry(ci_env: dict[str, str], argo_server: ArgoServerStandIn) -> None:
    argo_server.plan_next(RunPlan(hold=True))
    client = client_for(argo_server, namespace="ci")
    name = client.submit(MANIFEST).name

    stopped = run_etl("workflow", "stop", name, env=ci_env)
    retried = run_etl("workflow", "retry", name, env=ci_env)
    watched = run_etl("workflow", "watch", name, env=ci_env)

    assert stopped.stdout == f"{name}: Failed\n"
    assert retried.stdout == f"{name}: Running\n"
    assert watched.returncode == 0 and f"{name}: Succeeded" in watched.stderr


def test_cli_wrong_token(ci_env: dict[str, str]) -> None:
    result = run_etl("workflow", "list", env={**ci_env, "ETL_ARGO_TOKEN": "expired"})

    assert result.returncode == 1
    assert result.stderr.startswith("error: Argo Server refused the token (401): token not valid")
    assert result.stderr.count("\n") == 1


def test_cli_server_down(ci_env: dict[str, str], manifest_file: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"

    result = run_etl(
        "workflow", "submit", str(manifest_file), env={**ci_env, "ETL_ARGO_SERVER": url}
    )

    assert result.returncode == 1
    assert result.stderr == f"error: cannot reach the Argo Server at {url}/: connection refused\n"
    assert result.stdout == ""


def test_cli_unknown_workflow_and_bad_manifest(ci_env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: argoproj.io/v1alpha1\nkind: CronWorkflow\n")

    unknown = run_etl("workflow", "get", "nope", env=ci_env)
    invalid = run_etl("workflow", "submit", str(bad), env=ci_env)

    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: workflow 'nope' not found in namespace 'ci'")
    assert invalid.returncode == 2
    assert invalid.stderr == f"error: {bad}:2:7: kind: expected kind Workflow, got 'CronWorkflow'\n"


def test_cli_local_profile_uses_the_local_runner(config_dir: Path) -> None:
    listed = run_etl("workflow", "list", "-o", "json", env=dict(os.environ))
    unknown = run_etl("workflow", "get", "nope", env=dict(os.environ))

    assert (listed.returncode, json.loads(listed.stdout)) == (0, [])
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: workflow 'nope' not found")


def test_cli_argo_profile_without_a_server_says_what_to_do(config_dir: Path) -> None:
    created = run_etl("profile", "create", "ci", "--runner", "argo", env=dict(os.environ))
    result = run_etl("-p", "ci", "workflow", "list", env=dict(os.environ))

    assert created.returncode == 0, created.stderr
    assert result.returncode == 2
    assert result.stderr.startswith("error: no Argo Server configured: set argo.server in the")
