"""Running the ``etl`` command as a user does, in a new process, for the tests."""

from __future__ import annotations

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
