"""Running the ``etl`` command as a user does, in a new process, for the tests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
