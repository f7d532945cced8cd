"""Counts in the sentences etl prints: ``1 chunk``, ``2 chunks``, ``1 batch``, ``3 batches``."""

from __future__ import annotations

__all__ = ["counted"]


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``NUMBER NOUN``: ``noun`` when ``number`` is 1, else ``plural`` (default ``noun + "s"``)."""
    return f"{number} {noun}" if number == 1 else f"{number} {plural or noun + 's'}"
