"""The bounds on every file etl parses from a user: size, nesting depth, YAML aliases and values.

``dataset.yaml``, profiles and ``config.yaml`` (through :mod:`etl.core.located_yaml`), collection
templates and chunk manifests (through :func:`parse_bounded_json`) are parsed within these limits.
A file past one is a located :class:`~etl.core.errors.ConfigError` (exit 2), raised before the work
the limit prevents: the size is read from the file system before the file is, the depth is counted
before JSON is parsed and while YAML is composed, and aliases are counted and their expansion summed
while YAML is composed, so an alias bomb or a 100,000-deep nesting is refused in milliseconds.
``docs/dataset-yaml.md`` (Limits) states them; no real dataset comes near any.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from etl.core.errors import ConfigError, SourceLocation

__all__ = [
    "MAX_ALIASES",
    "MAX_FILE_BYTES",
    "MAX_NESTING_DEPTH",
    "MAX_VALUES",
    "TOO_DEEP",
    "TOO_LARGE",
    "TOO_MANY_ALIASES",
    "TOO_MANY_VALUES",
    "check_text_size",
    "parse_bounded_json",
    "read_bounded_text",
    "text_location",
]

MAX_FILE_BYTES = 1024 * 1024
"""The largest file etl parses (1 MiB): ``dataset.yaml`` files are a few KB, templates tens of KB."""

MAX_NESTING_DEPTH = 100
"""The deepest nesting of lists and mappings (a value inside 100 of them is the deepest allowed)."""

MAX_ALIASES = 1000
"""The most YAML aliases (``*name``) one file may use."""

MAX_VALUES = 250_000
"""The most values (scalars, lists, mappings) a YAML file may hold, each alias counted as the
values it stands for."""

TOO_LARGE = f"the file is larger than etl's limit of {MAX_FILE_BYTES:,} bytes (1 MiB)"
TOO_DEEP = f"nested deeper than etl's limit of {MAX_NESTING_DEPTH} levels"
TOO_MANY_ALIASES = f"more YAML aliases than etl's limit of {MAX_ALIASES:,}"
TOO_MANY_VALUES = (
    f"more values than etl's limit of {MAX_VALUES:,} (each alias counts the values it repeats)"
)

_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def read_bounded_text(path: Path) -> str:
    """The UTF-8 text of the file ``path``, refused before reading when over the size limit.

    Raises:
        ConfigError: The file is missing, unreadable, not UTF-8 or over :data:`MAX_FILE_BYTES`
            (located at ``path``).
    """
    try:
        _check_size(path.stat().st_size, path)
        with path.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)  # a file that grew, or a device
        _check_size(len(data), path)
        return data.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError("no such file", location=SourceLocation(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read file: {exc}", location=SourceLocation(path)) from None


def check_text_size(text: str, source: Path | str) -> None:
    """Refuse ``text`` (read from ``source``) when it is over :data:`MAX_FILE_BYTES`.

    Raises:
        ConfigError: Located at ``source``.
    """
    _check_size(len(text.encode("utf-8", errors="replace")), source)


def parse_bounded_json(text: str, source: Path | str) -> Any:
    """Parse JSON ``text`` (read from ``source``) within the size and depth limits.

    Raises:
        ConfigError: Over :data:`MAX_FILE_BYTES`, or nested deeper than :data:`MAX_NESTING_DEPTH`
            (located at the line and column where the nesting goes too deep).
        json.JSONDecodeError: The text is not JSON (the caller says so in its own words).
    """
    import json

    check_text_size(text, source)
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        opening = token.group()[0]
        if opening in "[{":
            depth += 1
            if depth > MAX_NESTING_DEPTH:
                raise _too_deep(text_location(text, token.start(), source))
        elif opening in "]}":
            depth -= 1
    return json.loads(text)


def text_location(text: str, offset: int, source: Path | str) -> SourceLocation:
    """The 1-based line and column of character ``offset`` of ``text``."""
    line_start = text.rfind("\n", 0, offset) + 1
    return SourceLocation(source, text.count("\n", 0, offset) + 1, offset - line_start + 1)


def _too_deep(location: SourceLocation) -> ConfigError:
    return ConfigError(TOO_DEEP, location=location)


def _check_size(size: int, source: Path | str) -> None:
    if size > MAX_FILE_BYTES:
        raise ConfigError(TOO_LARGE, location=SourceLocation(source))
