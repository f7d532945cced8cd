"""Azure container names: the service's naming rule, and the names closest to a misspelt one.

Azure refuses a container name that is not 3 to 63 characters of lowercase letters, digits and
single hyphens, starting and ending with a letter or digit (``UX_Stations``), with an HTTP 400 only
when a run first lists it; :func:`container_name_problem` says so while a ``dataset.yaml`` is
validated. A valid name that does not exist (``statoins``) can only be found out by asking the
account: :func:`closest_names` picks the account's names a person most likely meant.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

__all__ = ["CONTAINER_NAME_RULE", "closest_names", "container_name_problem"]

CONTAINER_NAME_RULE = (
    "Azure container names are 3 to 63 characters: lowercase letters, digits and single hyphens, "
    "starting and ending with a letter or digit"
)
_VALID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_MIN_LENGTH, _MAX_LENGTH = 3, 63
_SUGGESTIONS = 3
_CUTOFF = 0.6
"""difflib's similarity (0 to 1) a name needs to be suggested; its own default."""


def container_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an Azure container's name (the rule, and a valid spelling when one
    is near), or ``None`` when it can."""
    if _MIN_LENGTH <= len(name) <= _MAX_LENGTH and _VALID.fullmatch(name):
        return None
    problem = f"invalid container name {name!r}: {CONTAINER_NAME_RULE}"
    fixed = "-".join(re.findall(r"[a-z0-9]+", name.lower()))
    if fixed != name and _MIN_LENGTH <= len(fixed) <= _MAX_LENGTH:
        problem += f" (e.g. {fixed!r})"
    return problem


def closest_names(name: str, existing: Iterable[str]) -> list[str]:
    """The (at most three) names of ``existing`` closest to ``name``, closest first."""
    return difflib.get_close_matches(name, list(existing), n=_SUGGESTIONS, cutoff=_CUTOFF)
