"""The local runner executes Argo manifests here: order, fan-out, parameters, retries, limits."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from pod_scripts import script

from etl.core.errors import InputError
from etl.runner.local import LocalRunner
from etl.runner.workflow_manifest import UnsupportedManifestError
from etl.runner.workflow_status import WorkflowNotFoundError, WorkflowPhase

PY = sys.executable


class DictSecrets:
    """Secrets from a dict: the local runner only needs ``get``."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def get(self, name: str) -> str:
        return self.values[name]


def counting_script(tmp_path: Path, name: str, counter: Path, then: str) -> str:
    """A script that counts its runs in ``counter`` (as ``n``), then runs ``then``."""
    count = f"""
        import pathlib, sys
        p = pathlib.Path({str(counter)!r})
        n = int(p.read_text()) + 1 if p.exists() else 1
        p.write_text(str(n))
        """
    return script(tmp_path, name, textwrap.dedent(count) + textwrap.dedent(then))


def container(*args: str, env: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"image": "ignored:1", "command": [PY], "args": list(args), "env": env or []}


def workflow(templates: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "test-", "namespace": "etl"},
        "spec": {"entrypoint": "main", "templates": templates, **spec},
    }


@pytest.fixture
def runner(tmp_path: Path) -> LocalRunner:
    return LocalRunner(
        tmp_path / "state", secrets=DictSecrets({"db-password": "s3cret"}), parallelism=4
    )


def test_dag_order_fan_out_and_output_parameters(tmp_path: Path, runner: LocalRunner) -> None:
    out = tmp_path / "out"
    out.mkdir()
    count = script(
        tmp_path,
        "count",
        f"""
        import sys, pathlib
        pathlib.Path(sys.argv[1]).write_text("3")
        pathlib.Path({str(out)!r}, "count-done").write_text("x")
        """,
    )
    work = script(
        tmp_path,
        "work",
        f"""
        import sys, pathlib
        assert pathlib.Path({str(out)!r}, "count-done").exists(), "ran before its dependency"
        pathlib.Path({str(out)!r}, f"item-{{sys.argv[1]}}-of-{{sys.argv[2]}}").write_text(sys.argv[3])
        """,
    )
    manifest = workflow(
        [
            {
                "name": "main",
                "dag": {
                    "tasks": [
                        {"name": "count", "template": "count"},
                        {
                            "name": "work",
                            "template": "work",
                            "depends": "count",
                            "withSequence": {"count": "{{tasks.count.outputs.parameters.n}}"},
                            "arguments": {
                                "parameters": [
                                    {"name": "i", "value": "{{item}}"},
                                    {"name": "n", "value": "{{tasks.count.outputs.parameters.n}}"},
                                ]
                            },
                        },
                    ]
                },
            },
            {
                "name": "count",
                "outputs": {"parameters": [{"name": "n", "valueFrom": {"path": "/tmp/outputs/n"}}]},
                "container": container(count, "{{outputs.parameters.n.path}}"),
            },
            {
                "name": "work",
                "inputs": {"parameters": [{"name": "i"}, {"name": "n"}]},
                "container": container(
                    work, "{{inputs.parameters.i}}", "{{inputs.parameters.n}}", "{{workflow.name}}"
                ),
            },
        ],
        serviceAccountName="etl-workflow",
    )

    submitted = runner.submit(manifest)

    assert submitted.status == "Succeeded"
    assert submitted.runner == "local"
    assert submitted.name.startswith("test-")
    made = sorted(p.name for p in out.iterdir() if p.name.startswith("item-"))
    assert made == ["item-0-of-3", "item-1-of-3", "item-2-of-3"]
    assert (out / "item-2-of-3").read_text() == submitted.name
    listed = runner.list()
    assert [s.name for s in listed] == [submitted.name]
    assert listed[0].phase is WorkflowPhase.SUCCEEDED


def test_retry_strategy_retries_until_success(tmp_path: Path, runner: LocalRunner) -> None:
    counter = tmp_path / "attempts"
    flaky = counting_script(
        tmp_path,
        "flaky",
        counter,
        """
        if n < 3:
            print("error: transient failure", n)
            sys.exit(1)
        """,
    )
    manifest = workflow(
        [
            {
                "name": "main",
                "retryStrategy": {
                    "limit": "3",
                    "retryPolicy": "Always",
                    "backoff": {"duration": "0.1s", "factor": "2"},
                },
                "container": container(flaky),
            }
        ]
    )
    assert runner.submit(manifest).status == "Succeeded"
    assert counter.read_text() == "3"


def test_failure_reports_node_messages_and_retry_reruns_only_failed_nodes(
    tmp_path: Path, runner: LocalRunner
) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    gate = tmp_path / "gate"
    task = script(
        tmp_path,
        "task",
        f"""
        import pathlib, sys
        i = sys.argv[1]
        log = pathlib.Path({str(runs)!r}, i)
        log.write_text(log.read_text() + "x" if log.exists() else "x")
        if i == "1" and not pathlib.Path({str(gate)!r}).exists():
            print("error: asset blob://a/b/1.json is broken")
            sys.exit(3)
        """,
    )
    manifest = workflow(
        [
            {
                "name": "main",
                "dag": {
                    "tasks": [
                        {
                            "name": "chunk",
                            "template": "chunk",
                            "withSequence": {"count": "3"},
                            "arguments": {"parameters": [{"name": "i", "value": "{{item}}"}]},
                        }
                    ]
                },
            },
            {
                "name": "chunk",
                "inputs": {"parameters": [{"name": "i"}]},
                "container": container(task, "{{inputs.parameters.i}}"),
            },
        ]
    )

    submitted = runner.submit(manifest)

    assert submitted.status == "Failed"
    status = runner.get(submitted.name)
    assert status.failure_messages() == [
        "chunk(1:1): exit code 3: error: asset blob://a/b/1.json is broken"
    ]
    gate.write_text("fixed")
    retried = runner.retry(submitted.name)

    assert retried.phase is WorkflowPhase.SUCCEEDED
    assert {p.name: p.read_text() for p in runs.iterdir()} == {"0": "x", "1": "xx", "2": "x"}
    with pytest.raises(InputError, match="is Succeeded"):
        runner.retry(submitted.name)


def test_workflow_parallelism_one_never_overlaps(tmp_path: Path, runner: LocalRunner) -> None:
    spans = tmp_path / "spans"
    spans.mkdir()
    task = script(
        tmp_path,
        "span",
        f"""
        import pathlib, sys, time
        start = time.monotonic(); time.sleep(0.2); end = time.monotonic()
        pathlib.Path({str(spans)!r}, sys.argv[1]).write_text(f"{{start}} {{end}}")
        """,
    )
    manifest = workflow(
        [
            {
                "name": "main",
                "dag": {
                    "tasks": [
                        {
                            "name": "t",
                            "template": "t",
                            "withItems": ["a", "b", "c"],
                            "arguments": {"parameters": [{"name": "x", "value": "{{item}}"}]},
                        }
                    ]
                },
            },
            {
                "name": "t",
                "inputs": {"parameters": [{"name": "x"}]},
                "container": container(task, "{{inputs.parameters.x}}"),
            },
        ],
        parallelism=1,
    )
    assert runner.submit(manifest).status == "Succeeded"
    intervals = sorted(tuple(map(float, p.read_text().split())) for p in spans.iterdir())
    assert len(intervals) == 3
    assert all(prev[1] <= nxt[0] for prev, nxt in itertools.pairwise(intervals))


def test_secret_refs_reach_the_process_but_not_the_record(
    tmp_path: Path, runner: LocalRunner
) -> None:
    out = tmp_path / "seen"
    task = script(
        tmp_path,
        "env",
        f"""
        import os, pathlib
        pathlib.Path({str(out)!r}).write_text(os.environ["ETL_SECRET_DB_PASSWORD"] + " " + os.environ["MODE"])
        """,
    )
    env = [
        {
            "name": "ETL_SECRET_DB_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": "etl-secrets", "key": "db-password"}},
        },
        {"name": "MODE", "value": "{{workflow.namespace}}"},
    ]
    submitted = runner.submit(workflow([{"name": "main", "container": container(task, env=env)}]))
    assert out.read_text() == "s3cret etl"
    run_dir = runner.store.run_dir(submitted.name)
    assert all("s3cret" not in p.read_text() for p in run_dir.rglob("*.json"))


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ({"name": "main", "script": {"image": "x", "source": "print(1)"}}, "script: not supported"),
        (
            {"name": "main", "container": {"command": ["x"], "volumeMounts": []}},
            "volumeMounts: not supported",
        ),
        (
            {"name": "main", "container": {"command": ["{{=sprig.date()}}"]}},
            "expression tags are not supported",
        ),
        ({"name": "main", "container": {"command": ["{{workflow.nope}}"]}}, "unknown variable"),
    ],
)
def test_unsupported_manifest_features_are_errors(
    runner: LocalRunner, template: dict[str, Any], message: str
) -> None:
    with pytest.raises(UnsupportedManifestError, match=message):
        runner.submit(workflow([template]))


def test_logs_and_unknown_names(tmp_path: Path, runner: LocalRunner) -> None:
    task = script(tmp_path, "hello", "print('line one')\nprint('line two')\n")
    submitted = runner.submit(workflow([{"name": "main", "container": container(task)}]))
    lines = [(line.pod, line.content) for line in runner.logs(submitted.name)]
    assert lines == [(submitted.name, "line one"), (submitted.name, "line two")]
    with pytest.raises(WorkflowNotFoundError):
        runner.get("no-such-run")


def test_stop_ends_a_running_workflow(tmp_path: Path) -> None:
    state = tmp_path / "state"
    slow = script(tmp_path, "slow", "import time\ntime.sleep(60)\n")
    manifest_path = tmp_path / "wf.json"
    manifest_path.write_text(json.dumps(workflow([{"name": "main", "container": container(slow)}])))
    driver = script(
        tmp_path,
        "driver",
        f"""
        import json
        from pathlib import Path
        from etl.runner.local import LocalRunner
        class S:
            def get(self, name): raise KeyError(name)
        LocalRunner(Path({str(state)!r}), secrets=S()).submit(json.loads(Path({str(manifest_path)!r}).read_text()))
        """,
    )
    process = subprocess.Popen([PY, driver])
    runner = LocalRunner(state, secrets=DictSecrets({}))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (
        runner.list() and runner.list()[0].phase is WorkflowPhase.RUNNING
    ):
        time.sleep(0.1)
    name = runner.list()[0].name
    started = time.monotonic()
    status = runner.stop(name)
    process.wait(timeout=20)
    assert status.phase is WorkflowPhase.FAILED
    assert status.message == "Stopped"
    assert time.monotonic() - started < 10


def test_retry_expression_stops_retrying_invalid_input(tmp_path: Path, runner: LocalRunner) -> None:
    counter = tmp_path / "attempts"
    task = counting_script(
        tmp_path,
        "bad_input",
        counter,
        """
        print("error: dataset.yaml:3:5: collections[0].id: field required")
        sys.exit(2 if n == 2 else 1)
        """,
    )
    strategy = {
        "limit": "5",
        "backoff": {"duration": "0.05s"},
        "expression": "asInt(lastRetry.exitCode) != 2",
    }
    manifest = workflow([{"name": "main", "retryStrategy": strategy, "container": container(task)}])

    assert runner.submit(manifest).status == "Failed"
    assert counter.read_text() == "2"  # exit 1 was retried, exit 2 was final
