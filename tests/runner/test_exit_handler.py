"""The local runner honours ``spec.onExit`` as Argo does (issue 26, item 4).

After the entrypoint ends, however it ended, the exit handler runs with ``{{workflow.status}}``
and ``{{workflow.failures}}`` (Argo's wire format: a JSON list written as a JSON string); the run
stays Running until it has ended; a run that succeeded is Failed when its exit handler fails; a
stopped run still runs it; a retry runs it again. Small hand-written workflows go through
``etl workflow submit``; the compiled exit handler of a dataset with notifications is in
tests/cli/test_run_outcome.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from etl_cli import ETL, etl_json
from etl_cli import run_etl as etl
from pod_scripts import script


@pytest.fixture
def env(config_dir: Path) -> dict[str, str]:
    """A user's environment without PgSTAC: this test's config folder, CI mode."""
    return dict(os.environ, CI="true")


def manifest_file(tmp_path: Path, main: dict[str, Any], exit_args: list[str]) -> Path:
    """A workflow whose entrypoint is ``main`` and whose exit handler runs ``exit_args``."""
    handler = {
        "name": "tell",
        "container": {"image": "x:1", "command": [sys.executable], "args": exit_args},
    }
    manifest = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "exit-"},
        "spec": {"entrypoint": "main", "onExit": "tell", "templates": [main, handler]},
    }
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(manifest))
    return path


def recorder(tmp_path: Path, out: Path, *, exit_code: int = 0) -> list[str]:
    """Exit handler arguments that write the variables it was given to ``out``, one JSON line
    per try, then exit ``exit_code``."""
    path = script(
        tmp_path,
        "record",
        f"""
        import json, sys
        with open({str(out)!r}, "a") as f:
            f.write(json.dumps({{"name": sys.argv[1], "status": sys.argv[2],
                                 "failures": sys.argv[3]}}) + "\\n")
        sys.exit({exit_code})
        """,
    )
    return [path, "{{workflow.name}}", "{{workflow.status}}", "{{workflow.failures}}"]


def main_pod(tmp_path: Path, body: str) -> dict[str, Any]:
    path = script(tmp_path, "main", body)
    return {"name": "main", "container": {"image": "x:1", "command": [sys.executable, path]}}


def calls(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


def failures(call: dict[str, Any]) -> Any:
    """``{{workflow.failures}}`` as a consumer reads it: decoded twice, as Argo documents."""
    return json.loads(json.loads(call["failures"]))


def test_exit_handler_runs_after_a_succeeded_run(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "calls.ndjson"
    path = manifest_file(tmp_path, main_pod(tmp_path, "print('ok')"), recorder(tmp_path, out))
    result = etl("workflow", "submit", str(path), "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    name = json.loads(result.stdout)["name"]
    assert calls(out) == [{"name": name, "status": "Succeeded", "failures": '"null"'}]
    assert failures(calls(out)[0]) is None
    status = etl_json("workflow", "get", name, env=env)
    assert status["phase"] == "Succeeded"


def test_exit_handler_runs_after_a_failed_run_with_its_failures(
    tmp_path: Path, env: dict[str, str]
) -> None:
    out = tmp_path / "calls.ndjson"
    main = main_pod(tmp_path, "import sys; print('broken input'); sys.exit(2)")
    path = manifest_file(tmp_path, main, recorder(tmp_path, out))
    result = etl("workflow", "submit", str(path), "-o", "json", env=env)
    name = json.loads(result.stdout)["name"]
    assert result.returncode == 1
    [call] = calls(out)
    assert call["status"] == "Failed"
    [failed] = failures(call)
    assert failed["displayName"] == name
    assert failed["templateName"] == "main"
    assert failed["phase"] == "Failed"
    assert "exit code 2" in failed["message"]
    assert set(failed) == {
        "displayName",
        "message",
        "templateName",
        "phase",
        "podName",
        "finishedAt",
    }
    # The run keeps the entrypoint's failure; the handler that succeeded is not a failed step.
    status = etl_json("workflow", "get", name, env=env)
    assert status["phase"] == "Failed"
    assert [n["node"] for n in status["failed_nodes"]] == [name]


def test_a_failing_exit_handler_fails_a_succeeded_run_and_shows_as_a_step(
    tmp_path: Path, env: dict[str, str]
) -> None:
    out = tmp_path / "calls.ndjson"
    handler = recorder(tmp_path, out, exit_code=2)  # permanent: no retry
    path = manifest_file(tmp_path, main_pod(tmp_path, "print('ok')"), handler)
    result = etl("workflow", "submit", str(path), "-o", "json", env=env)
    name = json.loads(result.stdout)["name"]
    assert result.returncode == 1
    assert [c["status"] for c in calls(out)] == ["Succeeded"]
    status = etl_json("workflow", "get", name, env=env)
    assert status["phase"] == "Failed"
    assert [n["node"] for n in status["failed_nodes"]] == [f"{name}.onExit"]
    shown = etl("workflow", "get", name, env=env)
    assert f"{name}.onExit" in shown.stdout


def test_a_retried_run_runs_its_exit_handler_again(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "calls.ndjson"
    flag = tmp_path / "fixed"
    main = main_pod(
        tmp_path, f"import pathlib, sys; sys.exit(0 if pathlib.Path({str(flag)!r}).exists() else 2)"
    )
    path = manifest_file(tmp_path, main, recorder(tmp_path, out))
    name = json.loads(etl("workflow", "submit", str(path), "-o", "json", env=env).stdout)["name"]
    flag.write_text("x")
    retried = etl("workflow", "retry", name, env=env)
    assert retried.returncode == 0, retried.stderr
    assert [c["status"] for c in calls(out)] == ["Failed", "Succeeded"]
    assert etl_json("workflow", "get", name, env=env)["phase"] == "Succeeded"


def test_a_stopped_run_runs_its_exit_handler(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "calls.ndjson"
    started = tmp_path / "started"
    main = main_pod(
        tmp_path,
        f"import pathlib, time; pathlib.Path({str(started)!r}).write_text('x'); time.sleep(300)",
    )
    path = manifest_file(tmp_path, main, recorder(tmp_path, out))
    process = subprocess.Popen(
        [str(ETL), "workflow", "submit", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert started.exists()
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    [call] = calls(out)
    assert call["status"] == "Failed"
    status = etl_json("workflow", "get", stdout.strip(), env=env)
    assert status["phase"] == "Failed", stderr
    assert status["message"] == "Stopped"
