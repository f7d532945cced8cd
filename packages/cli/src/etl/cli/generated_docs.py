"""Generated parts of the Markdown docs: the text between two marker comments, written from code.

A :class:`GeneratedSection` names a file, its markers and the function that renders the text:
``etl.cli.field_reference_docs.REFERENCE`` (the field reference of ``docs/dataset-yaml.md``),
``etl.cli.reference_docs.REFERENCE`` (the command reference of ``docs/cli.md``) and
``etl.cli.pod_environment_docs.REFERENCE`` (the pod-environment table of ``docs/internals.md``).
``scripts/gen_docs`` rewrites them, keeping the hand-written text around the markers;
``scripts/gen_docs --check`` and a test of each only compare.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GeneratedSection", "splice_between"]

REGENERATE = "scripts/gen_docs"
"""The command that rewrites every generated section."""


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


@dataclass(frozen=True)
class GeneratedSection:
    """The generated part of one Markdown file.

    Attributes:
        path: The file, relative to the repository root.
        name: What it holds, for the markers (``BEGIN GENERATED <NAME>``).
        render: Makes the current text.
    """

    path: str
    name: str
    render: Callable[[], str]

    @property
    def begin(self) -> str:
        """The opening marker."""
        return f"<!-- BEGIN GENERATED {self.name.upper()} ({REGENERATE}) -->"

    @property
    def end(self) -> str:
        """The closing marker."""
        return f"<!-- END GENERATED {self.name.upper()} -->"

    def splice(self, document: str) -> str:
        """``document`` with its generated part made current.

        Raises:
            ValueError: The markers are missing.
        """
        return splice_between(document, self.begin, self.end, self.render())

    def update(self, root: Path, *, check: bool = False) -> bool:
        """Rewrite the file under ``root``; with ``check``, only compare.

        Returns:
            Whether the file was already current.
        """
        path = root / self.path
        current = path.read_text(encoding="utf-8")
        wanted = self.splice(current)
        if not check and wanted != current:
            path.write_text(wanted, encoding="utf-8")
        return wanted == current
