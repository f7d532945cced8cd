"""Dotted profile keys: ``--set argo.namespace=jobs``, ``--set storage.ACCOUNT.key=...``.

A key is a path into the profile file. Every key is checked against the model; a wrong one is a
:class:`ProfileError` naming the flag, the key and the closest valid key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from difflib import get_close_matches
from typing import Any

from pydantic import BaseModel, ValidationError

from etl.core.errors import ProfileError
from etl.core.profiles.model import Profile, StorageAccount

__all__ = ["apply_settings", "parse_setting", "set_keys", "unset_keys", "valid_keys"]

_ACCOUNT = "ACCOUNT"


def valid_keys() -> list[str]:
    """Every key ``--set`` accepts, with ``ACCOUNT`` standing for a storage account name."""
    keys: list[str] = []
    for name, field in Profile.model_fields.items():
        if name == "name":
            continue
        annotation = field.annotation
        if name == "storage":
            keys += [f"storage.{_ACCOUNT}.{sub}" for sub in StorageAccount.model_fields]
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += [f"{name}.{sub}" for sub in annotation.model_fields]
        else:
            keys.append(name)
    return keys


def parse_setting(text: str) -> tuple[str, str]:
    """Split ``KEY=VALUE``; the value may itself contain ``=``.

    Raises:
        ProfileError: There is no ``=`` or no key.
    """
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ProfileError(f"--set {text!r}: write KEY=VALUE, e.g. argo.namespace=jobs")
    return key.strip(), value


def apply_settings(profile: Profile, settings: Iterable[tuple[str, str | None]]) -> Profile:
    """A copy of ``profile`` with each ``(key, value)`` set; a ``None`` value is skipped.

    Values are strings as typed on the command line; pydantic converts them (``"true"`` → ``True``).
    An empty string clears an optional field.

    Raises:
        ProfileError: A key is unknown (with the closest valid key) or a value is invalid.
    """
    data = profile.model_dump(mode="json", exclude_none=True)
    return Profile.model_validate(set_keys(data, settings, Profile.model_validate))


def set_keys(
    data: dict[str, Any],
    settings: Iterable[tuple[str, str | None]],
    validate: Callable[[dict[str, Any]], object],
) -> dict[str, Any]:
    """``data`` (a profile file's mapping) with each key set, checked by ``validate`` after each.

    ``None`` values are skipped; an empty string removes the key.

    Raises:
        ProfileError: A key is unknown or ``validate`` refuses a value (named with its ``--set``).
    """
    for key, value in settings:
        if value is None:
            continue
        path = _check_key(key, "--set")
        if value == "":
            _remove(data, path)
            continue
        target = data
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = value
        try:
            validate(data)
        except ValidationError as exc:
            problem = exc.errors()[0]["msg"]
            raise ProfileError(f"--set {key}={value!r}: {problem}") from None
    return data


def unset_keys(data: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """``data`` without ``keys``; ``storage.ACCOUNT`` removes a whole account.

    Raises:
        ProfileError: A key is unknown (with the closest valid key).
    """
    for key in keys:
        parts = key.split(".")
        whole_account = len(parts) == 2 and parts[0] == "storage" and bool(parts[1])
        _remove(data, parts if whole_account else _check_key(key, "--unset"))
    return data


def _remove(data: dict[str, Any], path: list[str]) -> None:
    """Remove ``path`` from ``data`` and the mappings it leaves empty."""
    parents = [data]
    for part in path[:-1]:
        child = parents[-1].get(part)
        if not isinstance(child, dict):
            return
        parents.append(child)
    parents[-1].pop(path[-1], None)
    for parent, part in zip(reversed(parents[:-1]), reversed(path[:-1]), strict=True):
        if parent[part]:
            break
        del parent[part]


def _check_key(key: str, flag: str) -> list[str]:
    parts = key.split(".")
    pattern = ".".join(
        _ACCOUNT if index == 1 and parts[0] == "storage" and len(parts) == 3 else part
        for index, part in enumerate(parts)
    )
    keys = valid_keys()
    if pattern not in keys or any(not part for part in parts):
        close = get_close_matches(pattern, keys, n=1, cutoff=0.5)
        hint = ""
        if close:
            suggestion = close[0].replace(_ACCOUNT, parts[1]) if len(parts) == 3 else close[0]
            hint = f"; did you mean {suggestion!r}?"
        raise ProfileError(
            f"{flag} {key}: unknown profile key {key!r}{hint} (see docs/profiles.md for every key)"
        )
    return parts
