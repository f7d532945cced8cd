"""Kubernetes-safe names and label values made from dataset and collection ids."""

from __future__ import annotations

import re

__all__ = ["dns_label", "label_value", "template_prefixes"]

_NOT_DNS = re.compile(r"[^a-z0-9]+")
_NOT_LABEL = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_LABEL = 63


def dns_label(text: str, max_length: int = 40) -> str:
    """``text`` lower-cased, runs of other characters turned into ``-``, trimmed to ``max_length``."""
    slug = _NOT_DNS.sub("-", text.lower()).strip("-")[:max_length].rstrip("-")
    return slug or "x"


def label_value(text: str) -> str:
    """A valid Kubernetes label value for ``text`` (at most 63 characters, alphanumeric ends)."""
    return _NOT_LABEL.sub("-", text)[:_MAX_LABEL].strip("._-")


def template_prefixes(collection_ids: list[str]) -> dict[str, str]:
    """A distinct template-name prefix per collection id, starting with a letter.

    Ids that differ only in case or punctuation get a numeric suffix to stay apart.
    """
    prefixes: dict[str, str] = {}
    used: set[str] = set()
    for collection_id in collection_ids:
        base = dns_label(collection_id)
        base = base if base[0].isalpha() else f"c-{base}"
        prefix, number = base, 2
        while prefix in used:
            prefix, number = f"{base}-{number}", number + 1
        used.add(prefix)
        prefixes[collection_id] = prefix
    return prefixes
