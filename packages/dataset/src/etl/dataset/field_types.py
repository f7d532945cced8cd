"""The field types of the ``dataset.yaml`` model: patterns, and values validated or normalised.

Each type is an ``Annotated`` alias whose validator raises a message written for the user (no
pydantic prefix): a regular expression that compiles, a storage URI with a supported scheme (and,
for ``blob://``, a container name Azure accepts), a Kubernetes quantity, an environment value
written as text, a ``since`` that is a UTC time.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from etl.core.errors import InputError, StorageError
from etl.core.queues.uris import (
    MAX_QUEUE_NAME,
    POISON_SUFFIX,
    parse_queue_uri,
    queue_name_problem,
)
from etl.core.storage.container_names import container_name_problem
from etl.core.storage.uris import (
    BLOB_SCHEME,
    FILE_SCHEME,
    STORAGE_SCHEMES,
    parse_blob_uri,
    unsupported_scheme,
    uri_scheme,
)
from etl.core.templating.secret_refs import find_secret_refs

__all__ = [
    "ARG_NAME_PATTERN",
    "CLASS_PATTERN",
    "ENV_NAME_PATTERN",
    "ID_PATTERN",
    "ArgName",
    "ClassReference",
    "ConfigModel",
    "EnvName",
    "EnvValue",
    "LocalFile",
    "Quantity",
    "QueueUri",
    "Regex",
    "StorageUri",
    "UtcTime",
]


class ConfigModel(BaseModel):
    """The base of every ``dataset.yaml`` model: unknown keys refused, values frozen, numbers
    given where text is wanted read as text. Validators are built on first use (``defer_build``):
    a command pays only for the models it validates, not for every model it imports."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, coerce_numbers_to_str=True, defer_build=True
    )


ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
"""Dataset and collection ids: letters, digits, ``.``, ``_`` and ``-``, not starting with a symbol."""

CLASS_PATTERN = r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$"
"""A collection class reference, ``package.module:ClassName``."""

_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]*$"
"""Environment variable names."""

ARG_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]*$"
"""Argument names: letters, digits, ``_`` and ``-`` (``$<< args.year-prefix >>``)."""


def _fail(kind: str, message: str) -> PydanticCustomError:
    """A validation error whose message is ``message`` as written (no pydantic prefix)."""
    return PydanticCustomError(kind, "{message}", {"message": message})


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise _fail("etl_regex", f"invalid regular expression {value!r}: {exc}") from None
    return value


def _class_reference(value: str) -> str:
    if not re.match(CLASS_PATTERN, value):
        raise _fail(
            "etl_class",
            f"class must be written 'module:ClassName' (e.g. 'my_module:MyCollection'), got {value!r}",
        )
    return value


def _storage_uri(value: str) -> str:
    """A storage location: ``blob://``, ``file://`` or a local path (``ftp://`` is an error); a
    ``blob://`` URI names an account and a container Azure accepts (``UX_Stations`` is an error)."""
    problem = unsupported_scheme(value, STORAGE_SCHEMES) or _blob_problem(value)
    if problem:
        raise _fail("etl_uri", problem)
    return value


def _queue_uri(value: str) -> str:
    """A queue that dead-letters: ``queue://ACCOUNT/NAME``, ``NAME`` and ``NAME-poison`` both
    Azure queue names."""
    try:
        location = parse_queue_uri(value)
    except InputError as exc:
        raise _fail("etl_queue", str(exc)) from None
    if queue_name_problem(location.poison.name):
        longest = MAX_QUEUE_NAME - len(POISON_SUFFIX)
        raise _fail(
            "etl_queue",
            f"queue name {location.name!r} is too long for its dead-letter queue "
            f"{location.poison.name!r}: at most {longest} characters",
        )
    return value


def _blob_problem(value: str) -> str | None:
    """What is wrong with a ``blob://`` URI's account or container; a container given by a
    secret reference is known only at run time."""
    if uri_scheme(value) != BLOB_SCHEME:
        return None
    try:
        container = parse_blob_uri(value).container
    except StorageError as exc:
        return str(exc)
    return None if find_secret_refs(container) else container_name_problem(container)


def _local_file(value: str) -> str:
    """A file etl reads on this machine (code, templates): ``file://`` or a local path."""
    problem = unsupported_scheme(value, (FILE_SCHEME,))
    if problem:
        raise _fail("etl_uri", f"{problem} here: code and templates are uploaded from this machine")
    return value


def _quantity(value: Any) -> Any:
    """A Kubernetes quantity: ``500m``, ``2``, ``0.5``, ``512Mi``; YAML numbers become strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        value = str(value)
    if isinstance(value, str) and not _QUANTITY.match(value):
        raise _fail(
            "etl_quantity",
            f"{value!r} is not a Kubernetes quantity (e.g. '500m', '2', '512Mi', '4Gi')",
        )
    return value


def _env_value(value: Any) -> Any:
    """Environment values are strings; YAML scalars (numbers, booleans) are written as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _aware(value: Any) -> Any:
    """``since``: a YAML date means midnight UTC; a time without a zone is UTC."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=UTC)
    return value


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


Regex = Annotated[str, AfterValidator(_regex)]
StorageUri = Annotated[str, AfterValidator(_storage_uri)]
QueueUri = Annotated[str, AfterValidator(_queue_uri)]
LocalFile = Annotated[str, AfterValidator(_local_file)]
Quantity = Annotated[str, BeforeValidator(_quantity)]
EnvValue = Annotated[str, BeforeValidator(_env_value)]
EnvName = Annotated[str, Field(pattern=ENV_NAME_PATTERN)]
UtcTime = Annotated[datetime, BeforeValidator(_aware), AfterValidator(_utc)]
ClassReference = Annotated[str, AfterValidator(_class_reference)]
ArgName = Annotated[str, Field(pattern=ARG_NAME_PATTERN)]
