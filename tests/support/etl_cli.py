"""Running the ``etl`` command as a user does, in a new process, for the tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ETL = Path(sys.executable).parent / "etl"
"""The ``etl`` this test session's venv installs (``uv run pytest`` runs in that venv)."""
TIMEOUT = 600.0
"""How long ``run_etl`` waits by default: a hung ``etl`` fails its test instead of the session."""


def run_etl(
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = TIMEOUT,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``etl ARGS`` in a new process from the repository root, as a user runs it: ``env`` added to
    this process's environment (the ``config_dir`` fixture has cleared its ``ETL_``/``ARGO_``
    variables; to take another one away, ``monkeypatch.delenv`` it), ``stdin`` its input;
    ``subprocess.TimeoutExpired`` after ``timeout`` seconds."""
    return subprocess.run(
        [str(ETL), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        input=stdin,
    )


def run_etl_imports(
    *args: str, env: Mapping[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """``etl ARGS`` (as :func:`run_etl`) with Python's import timing on, and the modules the
    command imported, in order (read from its stderr)."""
    result = run_etl(*args, env={**(env or {}), "PYTHONPROFILEIMPORTTIME": "1"})
    imported = [
        line.rsplit("|", 1)[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    ]
    return result, imported


def etl_json(*args: str, env: Mapping[str, str] | None = None) -> Any:
    """``etl ARGS -o json``, which must succeed: what it printed, parsed."""
    result = run_etl(*args, "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def create_argo_profile(name: str, *settings: str, env: Mapping[str, str] | None = None) -> None:
    """``etl profile create NAME`` for an Argo cluster (``https://argo.example.com``, namespace
    ``etl``, image ``example/etl:1``) with ``SETTINGS`` (``--set key=value`` ...) added."""
    created = run_etl("profile", "create", name, "--runner", "argo",
                      "--argo-server", "https://argo.example.com", "--namespace", "etl",
                      "--set", "workflow.image=example/etl:1", *settings, env=env)  # fmt: skip
    assert created.returncode == 0, created.stderr


def help_and_modules() -> tuple[str, set[str]]:
    """What ``etl --help`` prints in a new Python, and the top-level modules imported by then."""
    probe = (
        "import json, sys\n"
        "from etl.cli.main import app\n"
        "try:\n"
        "    app(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    *shown, modules = out.stdout.splitlines()
    return "\n".join(shown), set(json.loads(modules))


def one_pod_workflow(generate_name: str, python_code: str) -> dict[str, Any]:
    """A Workflow of one pod that runs ``python -c PYTHON_CODE`` (for ``etl workflow submit``)."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": generate_name},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "container": {
                        "image": "x:1",
                        "command": [sys.executable],
                        "args": ["-c", python_code],
                    },
                }
            ],
        },
    }
