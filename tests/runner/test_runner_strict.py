"""The local runner is as strict as a cluster: pods see only their manifest's environment (plus a
documented few), semaphores hold across retries and across runs, and retryStrategy, maxDuration and
timeout mean what they mean on Argo. Small hand-written workflows go through ``etl workflow submit``.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from etl_cli import ETL
from etl_cli import run_etl as etl
from pod_scripts import script

ROOT = Path(__file__).resolve().parents[2]
SEMAPHORE = {"semaphore": {"configMapKeyRef": {"name": "etl-semaphores", "key": "pgstac-ingest"}}}
LOCAL_PGSTAC_LIMIT = 4


@pytest.fixture
def env(config_dir: Path) -> dict[str, str]:
    """A user's environment without PgSTAC: this test's config folder, CI mode."""
    return dict(os.environ, CI="true")


def submit(
    tmp_path: Path, templates: list[dict[str, Any]], env: dict[str, str], **spec: Any
) -> str:
    """Submit a workflow of ``templates`` (entrypoint ``main``), wait, and return its name."""
    manifest = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "strict-"},
        "spec": {"entrypoint": "main", "templates": templates, **spec},
    }
    path = tmp_path / f"wf-{len(list(tmp_path.glob('wf-*')))}.json"
    path.write_text(json.dumps(manifest))
    result = etl("workflow", "submit", str(path), env=env)
    assert result.stdout.strip(), result.stderr
    return result.stdout.strip()


def pod(name: str, path: str, *args: str, **template: Any) -> dict[str, Any]:
    container = {"image": "x:1", "command": [sys.executable], "args": [path, *args]}
    return {"name": name, "container": container, **template}


def fan_out(template: str, items: list[str]) -> dict[str, Any]:
    task = {
        "name": "each",
        "template": template,
        "withItems": items,
        "arguments": {"parameters": [{"name": "i", "value": "{{item}}"}]},
    }
    return {"name": "main", "dag": {"tasks": [task]}}


def failed(name: str, env: dict[str, str]) -> list[str]:
    got = etl("workflow", "get", name, "-o", "json", env=env)
    assert got.returncode == 0, got.stderr
    return [node["message"] for node in json.loads(got.stdout)["failed_nodes"]]


def spans_of(folder: Path) -> dict[str, list[tuple[float, float]]]:
    """Each item's tries, as ``(start, end)`` wall-clock times its pod wrote."""
    return {
        p.name: [tuple(map(float, line.split())) for line in p.read_text().splitlines()]  # type: ignore[misc]
        for p in folder.iterdir()
    }


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    events = sorted(
        itertools.chain(((s, 1) for s, _ in intervals), ((e, -1) for _, e in intervals))
    )
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


SPAN = """
    import pathlib, sys, time
    item, folder = sys.argv[1], pathlib.Path(sys.argv[2])
    record = folder / item
    tries = len(record.read_text().splitlines()) if record.exists() else 0
    start = time.time()
    time.sleep(float(sys.argv[3]))
    with record.open("a") as f:
        f.write(f"{start} {time.time()}\\n")
    sys.exit(1 if tries == 0 and item in sys.argv[4].split(",") else 0)
    """


def test_a_pod_sees_no_variable_of_the_caller_beyond_the_allow_list(
    tmp_path: Path, env: dict[str, str]
) -> None:
    seen = tmp_path / "seen.json"
    dump = script(
        tmp_path,
        "dump",
        f"import json, os; open({str(seen)!r}, 'w').write(json.dumps(dict(os.environ)))",
    )
    env |= {
        "ETL_TEST_LEAK": "1",
        "AZURE_STORAGE_CONNECTION_STRING": "AccountName=x;AccountKey=leak",
        "ARGO_TOKEN": "leak",
        "LC_ALL": "C.UTF-8",
    }
    template = pod("main", dump)
    template["container"]["env"] = [{"name": "FROM_MANIFEST", "value": "{{workflow.name}}"}]

    name = submit(tmp_path, [template], env)

    pod_env = json.loads(seen.read_text())
    assert "ETL_TEST_LEAK" not in pod_env
    assert "AZURE_STORAGE_CONNECTION_STRING" not in pod_env
    assert not [value for value in pod_env.values() if "leak" in value]
    assert pod_env["FROM_MANIFEST"] == name
    assert pod_env["PATH"] == env["PATH"] and pod_env["LC_ALL"] == "C.UTF-8"
    assert pod_env["HOSTNAME"] == name
    assert pod_env["ARGO_NODE_ID"] == name  # as Argo's controller sets it: the pod's node id
    assert pod_env["ETL_CONFIG_DIR"] != env["ETL_CONFIG_DIR"]
    assert list(Path(pod_env["ETL_CONFIG_DIR"]).iterdir()) == []
    injected = {
        "ETL_CONFIG_DIR",
        "ETL_STATE_DIR",
        "ETL_PGSTAC_DSN",
        "ETL_LOCAL_STORAGE_CREDENTIALS",
    }
    allowed = {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "HOSTNAME", "ARGO_NODE_ID"}
    allowed |= {"FROM_MANIFEST"}
    allowed |= {"SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"}
    allowed |= {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"}
    assert set(pod_env) - injected - allowed == set()


def test_two_runs_at_once_share_the_semaphore(tmp_path: Path, env: dict[str, str]) -> None:
    spans = tmp_path / "spans"
    spans.mkdir()
    span = script(tmp_path, "span", SPAN)
    manifests = []
    for run in ("a", "b"):
        items = [f"{run}{i}" for i in range(6)]
        templates = [
            fan_out("load", items),
            {
                **pod("load", span, "{{inputs.parameters.i}}", str(spans), "0.6", ""),
                "inputs": {"parameters": [{"name": "i"}]},
                "synchronization": SEMAPHORE,
            },
        ]
        manifest = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": {"generateName": f"run-{run}-"},
            "spec": {"entrypoint": "main", "parallelism": 12, "templates": templates},
        }
        path = tmp_path / f"{run}.json"
        path.write_text(json.dumps(manifest))
        manifests.append(path)

    runs = [
        subprocess.Popen(
            [str(ETL), "workflow", "submit", str(p)],
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for p in manifests
    ]
    for process in runs:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr

    tries = [t for ts in spans_of(spans).values() for t in ts]
    assert len(tries) == 12
    assert most_at_once(tries) == LOCAL_PGSTAC_LIMIT


def test_a_node_holds_its_semaphore_through_its_retries_and_backoff(
    tmp_path: Path, env: dict[str, str]
) -> None:
    spans = tmp_path / "spans"
    spans.mkdir()
    span = script(tmp_path, "span", SPAN)
    items = [str(i) for i in range(LOCAL_PGSTAC_LIMIT + 1)]
    retry = {"limit": 1, "backoff": {"duration": "1s"}}
    load = pod("load", span, "{{inputs.parameters.i}}", str(spans), "0.2", "0,1,2,3")
    templates = [
        fan_out("load", items),
        {**load, "inputs": {"parameters": [{"name": "i"}]}, "synchronization": SEMAPHORE,
         "retryStrategy": retry},
    ]  # fmt: skip

    name = submit(tmp_path, templates, env, parallelism=12)

    assert failed(name, env) == []
    tried = spans_of(spans)
    assert sorted(len(t) for t in tried.values()) == [1, 2, 2, 2, 2]
    held = [(t[0][0], t[-1][1]) for t in tried.values()]  # first start to last end
    assert most_at_once(held) == LOCAL_PGSTAC_LIMIT


def test_max_duration_is_a_budget_from_the_first_try_and_kills_a_running_retry(
    tmp_path: Path, env: dict[str, str]
) -> None:
    tries = tmp_path / "tries"
    slow_retry = script(
        tmp_path,
        "slow",
        f"""
        import pathlib, sys, time
        tries = pathlib.Path({str(tries)!r})
        tries.write_text(tries.read_text() + "x" if tries.exists() else "x")
        if len(tries.read_text()) == 1:
            sys.exit(1)
        print("retrying slowly", flush=True)
        time.sleep(60)
        """,
    )
    retry = {"limit": 5, "backoff": {"duration": "0.2s", "maxDuration": "2s"}}

    name = submit(tmp_path, [pod("main", slow_retry, retryStrategy=retry)], env)

    assert tries.read_text() == "xx"
    assert failed(name, env) == ["Max duration limit exceeded: Step exceeded its deadline"]


def test_a_template_timeout_kills_the_pod_with_argos_message(
    tmp_path: Path, env: dict[str, str]
) -> None:
    sleeper = script(tmp_path, "sleeper", "import time\ntime.sleep(60)\n")

    name = submit(tmp_path, [pod("main", sleeper, timeout="1s")], env)

    assert failed(name, env) == ["Pod was active on the node longer than the specified deadline"]


def test_a_permanent_failure_is_not_retried_and_waits_out_no_backoff(
    tmp_path: Path, env: dict[str, str]
) -> None:
    tries = tmp_path / "tries"
    permanent = script(
        tmp_path,
        "permanent",
        f"""
        import pathlib, sys
        tries = pathlib.Path({str(tries)!r})
        tries.write_text(tries.read_text() + "x" if tries.exists() else "x")
        print("error: bad input")
        sys.exit(2)
        """,
    )
    retry = {
        "limit": 3,
        "retryPolicy": "Always",
        "expression": "asInt(lastRetry.exitCode) != 2",
        "backoff": {"duration": "1h"},
    }

    name = submit(tmp_path, [pod("main", permanent, retryStrategy=retry)], env)

    assert tries.read_text() == "x"
    assert failed(name, env) == ["exit code 2: error: bad input"]


def test_retry_policy_and_backoff_cap_are_honoured(tmp_path: Path, env: dict[str, str]) -> None:
    counter = tmp_path / "n"
    flaky = script(
        tmp_path,
        "flaky",
        f"""
        import pathlib, sys
        n = pathlib.Path({str(counter)!r})
        n.write_text(n.read_text() + "x" if n.exists() else "x")
        sys.exit(0 if len(n.read_text()) == 3 else 1)
        """,
    )
    on_error = {"limit": 3, "retryPolicy": "OnError"}
    capped = {"limit": 3, "backoff": {"duration": "1h", "factor": 2, "cap": "0.1s"}}

    not_retried = submit(tmp_path, [pod("main", flaky, retryStrategy=on_error)], env)
    assert counter.read_text() == "x"
    assert failed(not_retried, env) == ["exit code 1"]

    counter.unlink()
    retried = submit(tmp_path, [pod("main", flaky, retryStrategy=capped)], env)
    assert counter.read_text() == "xxx"
    assert failed(retried, env) == []


def test_an_unknown_retry_policy_is_refused_in_one_line(
    tmp_path: Path, env: dict[str, str]
) -> None:
    manifest = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "strict-"},
        "spec": {
            "entrypoint": "main",
            "templates": [pod("main", "x.py", retryStrategy={"retryPolicy": "Sometimes"})],
        },
    }
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(manifest))

    result = etl("workflow", "submit", str(path), env=env)

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "templates[main].retryStrategy.retryPolicy: 'Sometimes' is not one of Always" in (
        result.stderr
    )
