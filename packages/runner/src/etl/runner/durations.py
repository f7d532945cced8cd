"""Argo durations (``30``, ``"30"``, ``"10s"``, ``"2m"``, ``"1h"``, ``"1h30m"``) in seconds."""

from __future__ import annotations

import re
from typing import Any

from etl.runner.manifest_keys import UnsupportedManifestError

__all__ = ["parse_duration"]

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: Any, where: str = "") -> float:
    """``value`` in seconds; a bare number is seconds, as Argo reads it."""
    text = str(value).strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    if text and _PART.sub("", text) == "":
        return sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(text))
    prefix = f"{where}: " if where else ""
    raise UnsupportedManifestError(f"{prefix}cannot read duration {value!r}")
