"""The day-2 CLI gaps of issue 25 (part 2), each through ``etl`` as a user meets it.

Runs use a copy of sample-sidecars on the built-in ``local`` profile whose ``create_item`` kills
its own pod for the assets a control file names (as tests/runner/test_runs_truthful.py does).
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
import typer
from etl_cli import ETL
from etl_cli import run_etl as etl
from faulty_sidecars import faulty_sidecars

from etl.cli.reference_docs import command_tree

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "sample-sidecars"
COLLECTION = "sample-sidecars"


@pytest.fixture
def faulty(tmp_path: Path, env: dict[str, str]) -> Path:
    """A copy of sample-sidecars with 10 assets in chunks of 5, no retries; its control folder
    is ``tmp_path / "control"``."""
    return faulty_sidecars(tmp_path, env, retries=False)


def submit(dataset: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    root = str(dataset.parent)
    return etl("dataset", "process-items", "-d", str(dataset), "-a", f"root={root}", "--submit",
               *extra, env=env)  # fmt: skip


def listed(env: dict[str, str], *extra: str) -> list[dict[str, Any]]:
    result = etl("workflow", "list", "-o", "json", *extra, env=env)
    assert result.returncode == 0, result.stderr
    runs: list[dict[str, Any]] = json.loads(result.stdout)
    return runs


# -- gaps 1, 2 and 10: get, list and logs of real runs ---------------------------------------


@pytest.mark.postgres
def test_get_list_and_logs_of_a_failed_then_retried_run(faulty: Path, env: dict[str, str]) -> None:
    die = faulty.parent / "control" / "die"
    die.write_text("sample-scene-0000003.json")
    failed = submit(faulty, env, "-o", "json")
    assert failed.returncode == 1, failed.stderr
    old = json.loads(failed.stdout)["name"]
    die.unlink()
    newer = submit(faulty, env, "-o", "json")
    assert newer.returncode == 0, newer.stderr
    new = json.loads(newer.stdout)["name"]

    got = etl("workflow", "get", old, env=env)

    # Gap 1: times and duration; the finish lines in their own section; failed steps as lines.
    assert got.returncode == 0, got.stderr
    rows = dict(line.split(None, 1) for line in got.stdout.split("\n\n")[0].splitlines())
    assert rows["phase"] == "Failed"
    assert rows["finished"].startswith("20") and rows["started"].startswith("20")
    assert rows["duration"].endswith("s")
    assert "message" not in rows  # not repeating the failed step's line
    assert "\nFailed steps:\n  " in got.stdout and '["' not in got.stdout
    # the step's line: how it ended, then the pod's last line (what it was doing)
    assert "\nFailed steps:\n  batch(0:0): killed by signal 9: making items on " in got.stdout
    as_json = json.loads(etl("workflow", "get", old, "-o", "json", env=env).stdout)
    assert as_json["duration_seconds"] >= 0

    # Gap 2: a retried old run does not jump to the top; filters; duration; no namespace argo.
    die.write_text("nothing-dies")
    retried = etl("workflow", "retry", old, env=env)
    assert retried.returncode == 0, retried.stderr
    assert [run["name"] for run in listed(env)] == [new, old]
    assert [run["name"] for run in listed(env, "--status", "Succeeded", "--limit", "1")] == [new]
    assert [run["name"] for run in listed(env, "--status", "failed,error")] == []
    assert listed(env, "--dataset", "another-dataset") == []
    assert len(listed(env, "--dataset", COLLECTION, "--since", "1h")) == 2
    assert listed(env, "--since", "2999-01-01") == []
    assert {run["namespace"] for run in listed(env)} == {"local"}
    table = etl("workflow", "list", env=env)
    assert table.stdout.splitlines()[0].split() == [
        "NAME", "PHASE", "PROGRESS", "STARTED", "FINISHED", "DURATION"
    ]  # fmt: skip
    bad = etl("workflow", "list", "--status", "Done", env=env)
    assert bad.returncode == 2 and "'done' is not a phase" in bad.stderr

    # Gap 5: completion offers the runs' names where a workflow name belongs.
    assert complete(env, "workflow", "get", "sample-") == {new, old}
    assert complete(env, "workflow", "logs", "-p", "local", old[:-2]) == {old}

    # Gap 10: no protocol lines; a step; the tail of each pod; JSON lines.
    logs = etl("workflow", "logs", new, env=env)
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout and "etl-progress" not in logs.stdout
    pods = {line.split(": ", 1)[0] for line in logs.stdout.splitlines()}
    chunk_pods = {pod for pod in pods if "process-chunks" in pod}
    assert chunk_pods and chunk_pods != pods
    step = etl("workflow", "logs", new, "--step", "process-chunks", env=env)
    assert {line.split(": ", 1)[0] for line in step.stdout.splitlines()} == chunk_pods
    one = sorted(chunk_pods)[0]
    tail = etl("workflow", "logs", new, one, "--tail", "1", "-o", "json", env=env)
    assert [json.loads(line)["pod"] for line in tail.stdout.splitlines()] == [one]
    none = etl("workflow", "logs", new, "no-such-pod", env=env)
    assert none.returncode == 2 and "no-such-pod" in none.stderr


def complete(env: dict[str, str], *words: str) -> set[str]:
    """What bash completion offers for the last of ``words`` after ``etl``."""
    done = subprocess.run(
        [str(ETL)],
        env={**env, "_ETL_COMPLETE": "complete_bash", "COMP_WORDS": " ".join(["etl", *words]),
             "COMP_CWORD": str(len(words))},
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return set(done.stdout.split())


def test_completion_offers_profile_names_not_files(config_dir: Path) -> None:
    env = dict(os.environ)
    assert etl("profile", "create", "staging", "--runner", "local", env=env).returncode == 0

    assert complete(env, "profile", "show", "") == {"local", "staging"}
    assert complete(env, "workflow", "list", "-p", "st") == {"staging"}
    assert complete(env, "profile", "create", "x", "--from", "") == {"local", "staging"}
    assert complete(env, "workflow", "get", "") == set()  # no runs yet, and no file names


# -- gap 6: Ctrl-C while following a run ----------------------------------------------------


@pytest.mark.postgres
def test_ctrl_c_stops_the_run_says_how_to_resume_and_exits_130(
    faulty: Path, env: dict[str, str]
) -> None:
    (faulty.parent / "control" / "slow").write_text("3")
    root = str(faulty.parent)
    with (faulty.parent / "etl.out").open("w+") as out:
        running = subprocess.Popen(
            [str(ETL), "dataset", "process-items", "-d", str(faulty), "-a", f"root={root}",
             "--submit"],
            env=env, stdout=out, stderr=out, text=True,
        )  # fmt: skip
        try:
            for _ in range(300):
                runs = listed(env)
                if runs and runs[0]["phase"] == "Running":
                    break
                time.sleep(0.1)
            assert runs and runs[0]["phase"] == "Running", runs
            running.send_signal(signal.SIGINT)
            code = running.wait(timeout=120)
        finally:
            if running.poll() is None:
                running.kill()
                running.wait()
        out.seek(0)
        said = out.read()
    [run] = listed(env)
    name = run["name"]

    assert code == 130, said
    assert f"stopped; resume with `etl workflow retry {name}`" in said
    assert run["phase"] in {"Failed", "Error"}
    got = etl("workflow", "get", name, env=env)
    assert "Stopped" in got.stdout or "stopped" in got.stdout, got.stdout
    (faulty.parent / "control" / "slow").unlink()
    assert etl("workflow", "retry", name, env=env).returncode == 0


# -- gap 3: -o json everywhere, errors as JSON -----------------------------------------------

_NO_RESULT = {"etl completion", "etl dataset schema"}
"""A shell script and a JSON Schema: their output has one format."""


def test_every_command_with_output_takes_o_json() -> None:
    missing = []
    for command, ctx in command_tree():
        if isinstance(command, typer.core.TyperGroup) or ctx.command_path in _NO_RESULT:
            continue
        output = [p for p in command.params if "--output" in p.opts]
        if not output or "json" not in (output[0].metavar or ""):
            missing.append(ctx.command_path)
    assert missing == []


def test_an_error_under_o_json_is_a_json_object_on_stderr(config_dir: Path, tmp_path: Path) -> None:
    env = dict(os.environ)
    (tmp_path / "dataset.yaml").write_text("id: x\ncollections:\n  - id: c\n    clas: y\n")

    plain = etl("dataset", "validate", "-d", str(tmp_path), env=env)
    as_json = etl("dataset", "validate", "-d", str(tmp_path), "-o", "json", env=env)
    usage = etl("workflow", "list", "--limit", "0", "-o", "json", env=env)

    assert plain.returncode == as_json.returncode == 2
    assert plain.stderr.startswith("error: ")
    error = json.loads(as_json.stderr)["error"]
    assert error["exit_code"] == 2 and as_json.stdout == ""
    assert error["location"]["file"].endswith("dataset.yaml")
    assert error["location"]["line"] == 4 and "clas" in error["message"]
    assert usage.returncode == 2 and json.loads(usage.stderr)["error"]["exit_code"] == 2


def test_profile_commands_answer_in_json(config_dir: Path) -> None:
    env = dict(os.environ)
    created = etl("profile", "create", "dev", "--runner", "local", "-o", "json", env=env)
    chosen = etl("profile", "set", "dev", "-o", "json", env=env)
    edited = etl("profile", "edit", "dev", "--set", "workflow.parallelism=3", "-o", "json", env=env)
    deleted = etl("profile", "delete", "dev", "-o", "json", env=env)

    assert json.loads(created.stdout)["path"] == str(config_dir / "profiles" / "dev.yaml")
    assert json.loads(chosen.stdout) == {"default": "dev"}
    assert json.loads(edited.stdout)["set"] == ["workflow.parallelism"]
    assert json.loads(deleted.stdout)["deleted"] is True


# -- gap 4: global options after the command ---------------------------------------------------


def test_global_options_after_the_command(config_dir: Path) -> None:
    env = dict(os.environ)
    after = etl("workflow", "list", "-p", "staging", env=env)
    equals = etl("profile", "show", "--profile=nosuch", "-v", env=env)
    created = etl("profile", "create", "staging", "--runner", "local", env=env)
    shown = etl("profile", "list", "-o", "json", "-p", "staging", env=env)
    helped = etl("workflow", "list", "--help", env=env)

    assert after.returncode == 2 and "unknown profile 'staging'" in after.stderr
    assert "No such option" not in after.stderr + equals.stderr
    assert equals.returncode == 2 and "unknown profile 'nosuch'" in equals.stderr
    assert created.returncode == 0, created.stderr
    assert [p["name"] for p in json.loads(shown.stdout) if p["active"]] == ["staging"]
    assert "Global options:\n  -p, --profile NAME" in helped.stdout


# -- gap 11: profile edit in $EDITOR -----------------------------------------------------------


def _editor(tmp_path: Path, text: str) -> str:
    """An editor (a script) that replaces the file it is given by ``text``."""
    script = tmp_path / "editor.py"
    script.write_text(f"import sys\nopen(sys.argv[1], 'w').write({text!r})\n")
    return f"{sys.executable} {script}"


def test_profile_edit_opens_the_editor_and_refuses_an_invalid_edit(
    config_dir: Path, tmp_path: Path
) -> None:
    env = dict(os.environ)
    assert etl("profile", "create", "dev", "--runner", "local", env=env).returncode == 0
    path = config_dir / "profiles" / "dev.yaml"
    before = path.read_text()

    invalid = etl("profile", "edit", "dev", env={**env, "EDITOR": _editor(
        tmp_path, "runner: local\nworkflow:\n  parallelism: many\n")})  # fmt: skip
    broken = etl("profile", "edit", "dev", env={**env, "EDITOR": _editor(
        tmp_path, "runner: local\nworkflow: [\n")})  # fmt: skip
    unchanged = etl("profile", "edit", "dev", env={**env, "EDITOR": "true"})
    assert path.read_text() == before
    valid = etl("profile", "edit", "dev", env={**env, "EDITOR": _editor(
        tmp_path, "# mine\nrunner: local\nworkflow:\n  parallelism: 7\n")})  # fmt: skip

    assert invalid.returncode == 2, invalid.stderr
    assert ":3:" in invalid.stderr and "workflow.parallelism" in invalid.stderr
    assert "profile 'dev' is unchanged" in invalid.stderr
    assert broken.returncode == 2 and ".yaml:3:1: invalid YAML" in broken.stderr
    assert unchanged.returncode == 0 and "no changes" in unchanged.stderr
    assert valid.returncode == 0, valid.stderr
    assert path.read_text().startswith("# mine\n") and before != path.read_text()
    shown = etl("profile", "show", "dev", "-o", "json", env=env)
    assert json.loads(shown.stdout)["workflow"]["parallelism"] == 7
