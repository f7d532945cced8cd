"""Secret references: ``$<< secrets.NAME >>`` left in rendered documents, resolved at run time.

Rendering never reads a secret. It writes the canonical reference text instead, and the runtime (the
pod, or the local runner) replaces each reference with the value from a secret backend.
"""

from __future__ import annotations

import re
from typing import Protocol

__all__ = ["SecretLookup", "find_secret_refs", "resolve_secret_refs", "secret_ref"]

_SECRET_REF = re.compile(r"\$<<\s*secrets\.(?P<name>[A-Za-z0-9_][A-Za-z0-9_.-]*?)\s*>>")


class SecretLookup(Protocol):
    """What :func:`resolve_secret_refs` needs of a secret backend (``etl.core.secrets``)."""

    def get(self, name: str) -> str:
        """The value of secret ``name``; raises ``SecretError`` when it cannot be read."""
        ...


def secret_ref(name: str) -> str:
    """The canonical reference text for secret ``name``: ``$<< secrets.NAME >>``."""
    return f"$<< secrets.{name} >>"


def find_secret_refs(value: str) -> list[str]:
    """The names of the secrets ``value`` refers to, in order of first appearance, without repeats."""
    names: list[str] = []
    for match in _SECRET_REF.finditer(value):
        if match["name"] not in names:
            names.append(match["name"])
    return names


def resolve_secret_refs(value: str, resolver: SecretLookup) -> str:
    """``value`` with every secret reference replaced by the secret's value from ``resolver``.

    Raises:
        SecretError: From ``resolver``, when a secret cannot be read.
    """
    cache: dict[str, str] = {}

    def lookup(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in cache:
            cache[name] = resolver.get(name)
        return cache[name]

    return _SECRET_REF.sub(lookup, value)
