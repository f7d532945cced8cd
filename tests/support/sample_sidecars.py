"""The sample-sidecars dataset of the repository, and its sidecars generated as its README says."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "sample-sidecars"
"""The dataset's folder (``-d`` of ``etl dataset ...``)."""


def generate_sidecars(count: int, target: str | Path, env: Mapping[str, str] | None = None) -> None:
    """Write ``count`` sidecars to ``target`` (a folder, or a ``blob://`` URI with ``env``'s
    storage settings) with the dataset's ``generate.py``."""
    subprocess.run(
        [sys.executable, str(SAMPLE / "generate.py"), "--count", str(count), str(target)],
        env=None if env is None else dict(env), check=True, capture_output=True,
    )  # fmt: skip
