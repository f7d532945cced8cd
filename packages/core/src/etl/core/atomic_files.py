"""Writing a local file atomically: readers see the old content or the new, never half of it."""

from __future__ import annotations

import os
import tempfile
from functools import cache
from pathlib import Path

__all__ = ["write_atomically"]


def write_atomically(
    path: Path, data: bytes, *, mode: int | None = None, temp_prefix: str | None = None
) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``.

    Args:
        path: The file to write; missing parent folders are created.
        data: The new content.
        mode: The file's permissions (e.g. ``0o600`` for files holding secrets); default: what a
            new file gets under the process umask.
        temp_prefix: Name prefix of the temporary file (default ``.NAME.``), so listings can skip it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=temp_prefix or f".{path.name}.", suffix=".tmp"
    )
    try:
        os.fchmod(handle, mode if mode is not None else 0o666 & ~_umask())
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@cache
def _umask() -> int:
    """The process umask, read once (reading it means setting it, which races with other threads)."""
    current = os.umask(0)
    os.umask(current)
    return current
