"""Generated parts of the Markdown docs: the text between two marker comments, written from code.

``etl.dataset.reference_docs`` writes the field reference of ``docs/dataset-yaml.md`` and
``etl.cli.reference_docs`` the command reference of ``docs/cli.md`` this way; the hand-written
text around the markers is kept, and a test of each checks that the committed text is current.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

__all__ = ["splice_between", "update_generated_file"]


def splice_between(document: str, begin: str, end: str, text: str) -> str:
    """``document`` with what lies between the markers ``begin`` and ``end`` replaced by ``text``.

    Raises:
        ValueError: A marker is missing.
    """
    head, found_begin, rest = document.partition(begin)
    _, found_end, tail = rest.partition(end)
    if not found_begin or not found_end:
        raise ValueError(f"the markers {begin!r} ... {end!r} are missing")
    return f"{head}{begin}\n\n{text}\n{end}{tail}"


def update_generated_file(path: Path, splice: Callable[[str], str], *, check: bool = False) -> bool:
    """Rewrite the Markdown file ``path`` as ``splice`` makes it; with ``check``, only compare.

    Returns:
        Whether the file was already current.
    """
    current = path.read_text(encoding="utf-8")
    wanted = splice(current)
    if not check and wanted != current:
        path.write_text(wanted, encoding="utf-8")
    return wanted == current
