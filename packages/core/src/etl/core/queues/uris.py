"""Queue URIs: ``queue://ACCOUNT/NAME``, an Azure Storage queue of a storage account.

The account is a storage account of the profile (``storage.ACCOUNT``), reached with the same
credential as its blobs; the name follows Azure's rules for queue names. A queue that dead-letters
(``events.max_deliveries``) has a second queue ``NAME-poison`` beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from etl.core.errors import InputError

__all__ = [
    "MAX_QUEUE_NAME",
    "POISON_SUFFIX",
    "QUEUE_SCHEME",
    "QueueLocation",
    "parse_queue_uri",
    "queue_name_problem",
]

QUEUE_SCHEME = "queue://"
POISON_SUFFIX = "-poison"
"""The dead-letter queue of ``NAME`` is ``NAME-poison`` (the name PCTasks and Azure Functions use)."""
MAX_QUEUE_NAME = 63
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_FORM = "queue://ACCOUNT/NAME"


@dataclass(frozen=True)
class QueueLocation:
    """One queue: a storage account and a queue name."""

    account: str
    name: str

    @property
    def uri(self) -> str:
        """``queue://ACCOUNT/NAME``."""
        return f"{QUEUE_SCHEME}{self.account}/{self.name}"

    @property
    def poison(self) -> QueueLocation:
        """The dead-letter queue beside this one, ``NAME-poison``."""
        return QueueLocation(self.account, self.name + POISON_SUFFIX)


def queue_name_problem(name: str) -> str | None:
    """Why ``name`` is not an Azure queue name (3-63 lowercase letters, digits and single hyphens,
    starting and ending with a letter or digit), or ``None``."""
    if not 3 <= len(name) <= MAX_QUEUE_NAME:
        return f"queue name {name!r} has {len(name)} characters; Azure allows 3 to {MAX_QUEUE_NAME}"
    if not _NAME.match(name):
        return (
            f"queue name {name!r} is not lowercase letters, digits and single hyphens "
            "(not first or last)"
        )
    return None


def parse_queue_uri(uri: str) -> QueueLocation:
    """Split and check ``queue://ACCOUNT/NAME``.

    Raises:
        InputError: not that form, or the name breaks Azure's rules (the message says which).
    """
    if not uri.startswith(QUEUE_SCHEME):
        raise InputError(f"not a queue URI: {uri!r} (expected {_FORM})")
    account, _, name = uri[len(QUEUE_SCHEME) :].partition("/")
    if not account or not name or "/" in name:
        raise InputError(f"invalid queue URI: {uri!r} (expected {_FORM})")
    problem = queue_name_problem(name)
    if problem:
        raise InputError(f"invalid queue URI: {uri!r}: {problem}")
    return QueueLocation(account, name)
