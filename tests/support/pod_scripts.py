"""Python scripts that tests' pods run: written into a test's own folder, named by path."""

from __future__ import annotations

import textwrap
from pathlib import Path

__all__ = ["script"]


def script(tmp_path: Path, name: str, body: str) -> str:
    """Write ``body`` (dedented) to ``tmp_path/NAME.py``; its path."""
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(body))
    return str(path)
