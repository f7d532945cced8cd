"""Redaction: a profile as it may be printed, with every credential replaced by ``***``.

Tokens, keys, SAS tokens and connection strings are hidden whole; a PgSTAC DSN keeps everything but
its password (``postgresql://etl:***@db:5432/pgstac``), so users can still see where it points.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from etl.core.profiles.model import Profile, is_secret_field

__all__ = ["REDACTED", "lost_settings", "redact_dsn", "redacted_profile"]

REDACTED = "***"

_KEYWORD_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&]*", re.IGNORECASE)


def redact_dsn(dsn: str) -> str:
    """``dsn`` (URL or ``key=value`` form) with its password replaced by ``***``."""
    if "://" not in dsn:
        return _KEYWORD_PASSWORD.sub(rf"\g<1>{REDACTED}", dsn)
    parts = urlsplit(dsn)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, has_password, _ = userinfo.partition(":")
        netloc = f"{user}:{REDACTED}@{host}" if has_password else netloc
    redacted = urlunsplit(parts._replace(netloc=netloc))
    return _QUERY_PASSWORD.sub(rf"\g<1>{REDACTED}", redacted)


def redacted_profile(profile: Profile) -> dict[str, Any]:
    """``profile`` as plain JSON-able data, credentials redacted, unset fields left out."""
    data: dict[str, Any] = profile.model_dump(mode="json", exclude_none=True)
    _redact(data, ())
    return data


def lost_settings(old: Profile, new: Profile) -> list[str]:
    """The ``key=value`` settings of ``old`` that ``new`` does not keep, credentials redacted."""
    kept = _flat(redacted_profile(new), ())
    return [
        f"{key}={value}"
        for key, value in _flat(redacted_profile(old), ()).items()
        if kept.get(key) != value
    ]


def _flat(data: dict[str, Any], at: tuple[str, ...]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flat(value, (*at, key)))
        elif key != "name":
            flat[".".join((*at, key))] = value
    return flat


def _redact(data: dict[str, Any], at: tuple[str, ...]) -> None:
    for key, value in data.items():
        path = (*at, key)
        if isinstance(value, dict):
            _redact(value, path)
        elif isinstance(value, str) and is_secret_field(".".join(path)):
            data[key] = redact_dsn(value) if path == ("pgstac", "dsn") else REDACTED
