"""etl.runner.warm_start: tasks forked from a warm server behave as new processes would."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from etl.runner.warm_start import TaskProcess, TaskStarter, console_script_entries

PROBE = """
import json, os, sys, time

IMPORTED_WITH = os.environ.get("PROBE_SERVER_ONLY")


def main():
    mode = sys.argv[1]
    if mode == "describe":
        print(json.dumps({"env": dict(os.environ), "cwd": os.getcwd(), "argv": sys.argv,
                          "imported_with": IMPORTED_WITH}))
    elif mode == "exit":
        return int(sys.argv[2])
    elif mode == "raise":
        raise RuntimeError("boom")
    elif mode == "sys-exit":
        sys.exit("bad input")
    elif mode == "sleep":
        print("started", flush=True)
        time.sleep(60)
"""


@pytest.fixture
def starter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TaskStarter]:
    """A starter whose warm server imports ``warm_probe`` (from ``tmp_path``) for ``probe``."""
    (tmp_path / "warm_probe.py").write_text(PROBE)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("PROBE_SERVER_ONLY", "set-in-the-server")
    started = TaskStarter({str(tmp_path / "probe"): "warm_probe:main"})
    yield started
    started.close()


def _run(process: TaskProcess) -> tuple[int, str]:
    assert process.stdout is not None
    output = process.stdout.read().decode()
    process.stdout.close()
    return process.wait(), output


def test_a_warm_task_gets_exactly_the_container_env_cwd_and_argv(
    starter: TaskStarter, tmp_path: Path
) -> None:
    pod = tmp_path / "pod"
    pod.mkdir()
    argv = [str(tmp_path / "probe"), "describe", "--flag"]
    code, output = _run(starter.start(argv, {"ONLY": "this", "PATH": "/usr/bin"}, pod))
    seen = json.loads(output)
    assert code == 0
    assert seen["env"] == {"ONLY": "this", "PATH": "/usr/bin"}
    assert seen["cwd"] == str(pod)
    assert seen["argv"] == argv
    assert seen["imported_with"] == "set-in-the-server"  # imported once, before the fork


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["exit", "3"], 3, ""),
        (["raise"], 1, "RuntimeError: boom"),
        (["sys-exit"], 1, "bad input"),
    ],
)
def test_a_warm_task_ends_with_the_exit_code_a_new_process_would_have(
    starter: TaskStarter, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    ended, output = _run(starter.start([str(tmp_path / "probe"), *args], {}, tmp_path))
    assert ended == code
    assert message in output


def test_a_warm_task_streams_its_output_and_can_be_terminated(
    starter: TaskStarter, tmp_path: Path
) -> None:
    process = starter.start([str(tmp_path / "probe"), "sleep"], {}, tmp_path)
    assert process.stdout is not None
    assert process.stdout.readline() == b"started\n"
    process.terminate()
    assert process.wait() == -signal.SIGTERM
    process.stdout.close()


def test_tasks_run_side_by_side_from_one_server(starter: TaskStarter, tmp_path: Path) -> None:
    sleeper = starter.start([str(tmp_path / "probe"), "sleep"], {}, tmp_path)
    assert sleeper.stdout is not None
    assert sleeper.stdout.readline() == b"started\n"
    assert _run(starter.start([str(tmp_path / "probe"), "exit", "5"], {}, tmp_path))[0] == 5
    sleeper.kill()
    assert sleeper.wait() == -signal.SIGKILL
    sleeper.stdout.close()


def test_a_command_whose_entry_point_does_not_import_starts_cold(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "legacy-tool"
    script.write_text('#!/bin/sh\necho "cold $1 in $(pwd)"\nexit 4\n')
    script.chmod(0o755)
    starter = TaskStarter({str(script): "no_such_module_here:main"})
    try:
        code, output = _run(starter.start([str(script), "hello"], {}, tmp_path))
    finally:
        starter.close()
    assert (code, output) == (4, f"cold hello in {tmp_path}\n")
    assert "warning: legacy-tool tasks start cold" in capfd.readouterr().err


def test_other_commands_start_as_new_processes(starter: TaskStarter, tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import os; print(os.environ.get('X'))"]
    assert _run(starter.start(argv, {"X": "cold"}, tmp_path)) == (0, "cold\n")


STEPPED = """
import os, sys, time

WARMED = False


def warm_up():
    global WARMED
    released = os.path.join(os.environ["PROBE_DIR"], "release")
    for _ in range(1200):  # short steps until the test lets the warm-up end (60 s at most)
        if os.path.exists(released):
            break
        time.sleep(0.05)
        yield "a step"
    WARMED = True
    open(os.path.join(os.environ["PROBE_DIR"], "warmed"), "w").close()
    yield "the last step"


def main():
    print("warmed" if WARMED else "warming")
"""


def test_a_task_asked_for_during_the_warm_up_starts_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "stepped_probe.py").write_text(STEPPED)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("PROBE_DIR", str(tmp_path))
    probe = str(tmp_path / "probe")
    starter = TaskStarter({probe: "stepped_probe:main"})
    try:
        # the server is warming up: the task forks between two steps, without waiting for the end
        assert _run(starter.start([probe], {}, tmp_path)) == (0, "warming\n")
        (tmp_path / "release").touch()
        for _ in range(600):
            if (tmp_path / "warmed").exists():
                break
            time.sleep(0.1)
        # once the warm-up has ended, tasks fork with everything it made
        assert _run(starter.start([probe], {}, tmp_path)) == (0, "warmed\n")
    finally:
        (tmp_path / "release").touch()
        starter.close()


def test_etl_task_is_found_as_a_console_script_of_this_installation() -> None:
    entries = console_script_entries(["etl-task"])
    assert entries == {str(Path(sys.executable).parent / "etl-task"): "etl.task.main:main"}


def test_etl_task_warm_up_loads_what_its_subcommands_use() -> None:
    probe = (
        "import json, sys\n"
        "import etl.task.main as task\n"
        "wanted = ['pystac', 'pypgstac.load', 'psycopg', *task.LIBRARIES]\n"
        "before = [name for name in wanted if name in sys.modules]\n"
        "for _ in task.warm_up(): pass\n"
        "from etl.core.profiles.model import Profile\n"
        "from etl.dataset.model import DatasetConfig\n"
        "built = [type(m.__pydantic_validator__).__name__ for m in (DatasetConfig, Profile)]\n"
        "print(json.dumps([before, [name for name in wanted if name not in sys.modules], built]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    loaded_before, missing_after, validators = json.loads(result.stdout)
    assert loaded_before == []  # importing etl.task.main alone stays light
    assert missing_after == []
    assert validators == ["SchemaValidator", "SchemaValidator"]  # built once, for every fork
