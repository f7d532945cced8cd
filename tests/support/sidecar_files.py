"""Sidecars of the repository's sample-sidecars dataset, written by its `generate.py` as its README says.

Not named after the dataset's own package (`sample_sidecars`), which tests import from the dataset's
folder.
"""

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
