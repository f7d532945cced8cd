"""Warnings about a dataset file: accepted, but worth telling the user about."""

from __future__ import annotations

from dataclasses import dataclass

from etl.core.errors import SourceLocation

__all__ = ["ConfigWarning"]


@dataclass(frozen=True)
class ConfigWarning:
    """Something in a dataset file that is accepted but has no effect, located like an error.

    Renders as ``PATH:LINE:COL: field.path: warning: message`` (the CLI prints it on stderr).
    """

    message: str
    location: SourceLocation | None = None
    field: str | None = None

    def __str__(self) -> str:
        prefix = f"{self.location}: " if self.location else ""
        field = f"{self.field}: " if self.field else ""
        return f"{prefix}{field}warning: {self.message}"
