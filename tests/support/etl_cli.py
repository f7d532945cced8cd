"""Running the ``etl`` command as a user does, in a new process, for the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run_etl(
    *args: str, env: dict[str, str] | None = None, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """``uv run etl ARGS`` from the repository root, with ``env`` added to this environment;
    ``subprocess.TimeoutExpired`` after ``timeout`` seconds."""
    return subprocess.run(
        ["uv", "run", "--no-sync", "etl", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
        timeout=timeout,
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
