"""Local runs are recorded truthfully when their runner crashes (issue 22, findings 8, 9 and 10).

Everything goes through the ``etl`` command on the built-in ``local`` profile, with a copy of the
sample-sidecars dataset whose ``create_item`` can be held (it waits while a control file exists)
or made to kill its own pod (for the assets a control file names). Faults are injected as a user
or an operator would: ``kill -9`` of the ``etl`` process, a hand-edited or corrupt ``run.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import psycopg
import pytest
from etl_cli import ETL, one_pod_workflow
from etl_cli import run_etl as etl
from faulty_sidecars import faulty_sidecars

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "sample-sidecars"
COLLECTION = "sample-sidecars"


@pytest.fixture
def faulty(tmp_path: Path, env: dict[str, str]) -> Path:
    """A copy of sample-sidecars with 10 assets in chunks of 5; its control folder is
    ``tmp_path / "control"``."""
    return faulty_sidecars(tmp_path, env)


def process_items(
    dataset: Path, env: dict[str, str], output: IO[str] | int
) -> subprocess.Popen[str]:
    """``etl dataset process-items --submit`` as a process of its own (its pid is etl's), its
    stdout and stderr to ``output``."""
    root = dataset.parent
    return subprocess.Popen(
        [str(ETL), "dataset", "process-items", "-d", str(dataset), "-a", f"root={root}",
         "--submit"],
        env=env, stdout=output, stderr=output, text=True,
    )  # fmt: skip


def listed(env: dict[str, str]) -> list[dict[str, Any]]:
    result = etl("workflow", "list", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    runs: list[dict[str, Any]] = json.loads(result.stdout)
    return runs


def held_pod(env: dict[str, str]) -> tuple[str, int]:
    """Wait until a run's pod holds in create_item: the run's name and the pod's pid."""
    for _ in range(600):
        for run in listed(env):
            logs = etl("workflow", "logs", run["name"], env=env).stdout
            for line in logs.splitlines():
                if " holds on " in line:
                    return run["name"], int(line.split("pod ", 1)[1].split()[0])
        time.sleep(0.2)
    raise AssertionError("no pod started")


@contextmanager
def crashed_run(faulty: Path, env: dict[str, str]) -> Iterator[tuple[str, int, int]]:
    """Start a run, wait for its pod, kill -9 the ``etl`` running it: ``(name, etl pid, pod
    pid)``; the run's pods are released (the hold removed) when the test is done."""
    hold = faulty.parent / "control" / "hold"
    hold.write_text("")
    with (faulty.parent / "etl.out").open("w") as output:
        running = process_items(faulty, env, output)
        try:
            name, pod = held_pod(env)
            running.kill()  # kill -9 of the etl command
            running.wait(timeout=60)
            yield name, running.pid, pod
        finally:
            hold.unlink(missing_ok=True)
            if running.poll() is None:
                running.kill()
                running.wait()


def gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie has)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return True


def items(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pgstac.items WHERE collection = %s", (COLLECTION,)
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.postgres
def test_a_run_whose_etl_was_killed_is_shown_ended_and_retries(
    faulty: Path, env: dict[str, str], pgstac_dsn: str
) -> None:
    with crashed_run(faulty, env) as (name, pid, pod):
        reason = f"the runner (pid {pid}) is gone"

        [run] = listed(env)
        got = etl("workflow", "get", name, "-o", "json", env=env)
        watched = etl("workflow", "watch", name, env=env, timeout=60)
        status = etl("dataset", "status", "-d", str(faulty), "-a", f"root={faulty.parent}",
                     "-o", "json", env=env)  # fmt: skip
        logs = etl("workflow", "logs", name, env=env)

        assert (run["name"], run["phase"]) == (name, "Error") and reason in run["message"]
        assert got.returncode == 0, got.stderr
        failed_nodes = json.loads(got.stdout)["failed_nodes"]
        assert any(reason in node["message"] for node in failed_nodes), got.stdout
        assert watched.returncode == 1 and reason in watched.stderr
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["collections"][0]["runs_in_progress"] == []
        assert f"pod {pod} holds on " in logs.stdout  # what the pod wrote is kept
        for _ in range(300):  # the orphaned pod does not keep running unseen
            if gone(pod):
                break
            time.sleep(0.1)
        assert gone(pod)

        (faulty.parent / "control" / "hold").unlink()
        retried = etl("workflow", "retry", name, env=env)

        assert retried.returncode == 0, retried.stderr
        assert f"{COLLECTION}: 10 assets in 2 chunks, 0 failed" in retried.stderr
        assert listed(env)[0]["phase"] == "Succeeded"
        assert items(pgstac_dsn) == 10


@pytest.mark.postgres
def test_stop_never_signals_a_process_the_run_did_not_start(
    faulty: Path, env: dict[str, str]
) -> None:
    with crashed_run(faulty, env) as (name, _, _):
        bystander = subprocess.Popen(["sleep", "300"])
        try:
            record = Path(env["ETL_STATE_DIR"]) / "runs" / name / "run.json"
            data = json.loads(record.read_text())
            data["pid"] = bystander.pid  # as the crash left it, once the pid was reused
            record.write_text(json.dumps(data))

            stopped = etl("workflow", "stop", name, env=env, timeout=60)

            assert bystander.poll() is None, "stop signalled an unrelated process"
            assert stopped.returncode == 0, stopped.stderr
            assert stopped.stdout == (
                f"{name}: Error: the runner (pid {bystander.pid}) is gone: "
                "it ended without recording the run's end\n"
            )
            assert json.loads(record.read_text())["phase"] == "Error"
        finally:
            bystander.kill()
            bystander.wait()


@pytest.mark.postgres
def test_chunks_whose_pods_were_killed_count_as_failed(
    faulty: Path, env: dict[str, str], pgstac_dsn: str
) -> None:
    (faulty.parent / "control" / "die").write_text("sample-scene-0000007.json")

    run = process_items(faulty, env, subprocess.PIPE)
    _, err = run.communicate(timeout=300)

    assert run.returncode == 1, err
    line = (
        f"{COLLECTION}: 10 assets in 2 chunks, 5 failed; 1 chunk failed without a result (5 assets)"
    )
    assert line in err
    assert "the first 0" not in err  # no per-asset error was written for the lost chunk
    assert items(pgstac_dsn) == 5


def test_a_corrupt_run_record_is_listed_unreadable_and_breaks_no_other(
    config_dir: Path, tmp_path: Path
) -> None:
    env = dict(os.environ, CI="true")
    manifest = one_pod_workflow("fine-", "pass")
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(manifest))
    names = [etl("workflow", "submit", str(path), env=env).stdout.strip() for _ in range(3)]
    runs = Path(env["ETL_STATE_DIR"]) / "runs"
    truncated, scrambled = (runs / names[1] / "run.json"), (runs / names[2] / "run.json")
    truncated.write_text(truncated.read_text()[:40])
    scrambled.write_bytes(bytes(range(256)) * 4)

    table = etl("workflow", "list", env=env)
    as_json = etl("workflow", "list", "-o", "json", env=env)
    got = etl("workflow", "get", names[1], env=env)
    fine = etl("workflow", "get", names[0], env=env)

    assert table.returncode == 0, table.stderr
    rows = {line.split()[0]: line.split()[1] for line in table.stdout.splitlines()[1:]}
    assert rows == {names[0]: "Succeeded", names[1]: "Error", names[2]: "Error"}
    warnings = table.stderr.splitlines()
    assert len(warnings) == 2
    assert any(w.startswith(f"warning: {names[1]}: {truncated}: unreadable run record (")
               for w in warnings)  # fmt: skip
    assert any(f"{scrambled}: unreadable run record (" in w for w in warnings)
    assert as_json.returncode == 0
    by_name = {run["name"]: run for run in json.loads(as_json.stdout)}
    assert str(truncated) in by_name[names[1]]["message"]
    assert got.returncode == 2
    assert got.stderr.startswith(f"error: {truncated}: unreadable run record (not JSON at line ")
    assert len(got.stderr.splitlines()) == 1
    assert fine.returncode == 0 and "Succeeded" in fine.stdout
