"""Storage URIs: ``file:///abs/path``, plain paths and ``blob://ACCOUNT/CONTAINER/PREFIX``.

URIs are plain text: the path after ``file://`` and the blob name after the container are used
verbatim (no percent-decoding), so ``storage.uri_of(path)`` and string concatenation agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from etl.core.errors import StorageError

__all__ = [
    "BLOB_SCHEME",
    "FILE_SCHEME",
    "STORAGE_SCHEMES",
    "BlobLocation",
    "file_uri",
    "local_path_of",
    "parse_blob_uri",
    "storage_root_of",
    "unsupported_scheme",
    "uri_scheme",
]

BLOB_SCHEME = "blob://"
FILE_SCHEME = "file://"
STORAGE_SCHEMES = (BLOB_SCHEME, FILE_SCHEME)
"""The URI schemes etl reads and writes; a value without a scheme is a local path."""

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def uri_scheme(value: str) -> str | None:
    """The scheme ``value`` starts with, ``://`` included (``'blob://'``), or ``None`` for a path.

    Only a scheme at the very start counts, so a value that starts with a ``$<< secrets.NAME >>``
    reference has none, and ``blob://acct/$<< secrets.NAME >>`` has ``blob://``.
    """
    match = _SCHEME.match(value)
    return match.group() if match else None


def unsupported_scheme(value: str, schemes: Sequence[str] = STORAGE_SCHEMES) -> str | None:
    """Why etl cannot read ``value`` when it has a scheme other than ``schemes``; else ``None``.

    The message names the scheme and the value, and lists the ones that would do:
    ``unsupported URI scheme 'ftp://' in 'ftp://host/a/'; etl reads blob://, file:// or a local path``.
    """
    scheme = uri_scheme(value)
    if scheme is None or scheme in schemes:
        return None
    return (
        f"unsupported URI scheme {scheme!r} in {value!r}; "
        f"etl reads {', '.join(schemes)} or a local path"
    )


@dataclass(frozen=True)
class BlobLocation:
    """Where a ``blob://`` URI points: an account, a container and a name prefix (no slashes around)."""

    account: str
    container: str
    prefix: str

    @property
    def container_uri(self) -> str:
        """The URI of the whole container: ``blob://ACCOUNT/CONTAINER``."""
        return f"{BLOB_SCHEME}{self.account}/{self.container}"

    @property
    def uri(self) -> str:
        """The normalised URI: no trailing slash."""
        return f"{self.container_uri}/{self.prefix}" if self.prefix else self.container_uri


def parse_blob_uri(uri: str) -> BlobLocation:
    """Split ``blob://ACCOUNT/CONTAINER[/PREFIX]``.

    Raises:
        StorageError: when the account or the container is missing.
    """
    if not uri.startswith(BLOB_SCHEME):
        raise StorageError(f"not a blob URI: {uri} (expected blob://ACCOUNT/CONTAINER/PREFIX)")
    account, _, rest = uri[len(BLOB_SCHEME) :].partition("/")
    container, _, prefix = rest.partition("/")
    if not account or not container:
        raise StorageError(f"invalid blob URI: {uri} (expected blob://ACCOUNT/CONTAINER/PREFIX)")
    return BlobLocation(account=account, container=container, prefix=prefix.strip("/"))


def file_uri(path: str | Path) -> str:
    """The ``file://`` URI of a local path, made absolute (no trailing slash except for ``/``)."""
    return FILE_SCHEME + Path(path).expanduser().absolute().as_posix()


def local_path_of(uri: str) -> Path:
    """The local path a ``file://`` URI or a plain path names, made absolute.

    Raises:
        StorageError: for ``file://HOST/...`` with a host other than ``localhost``, or another scheme.
    """
    if uri.startswith(FILE_SCHEME):
        rest = uri[len(FILE_SCHEME) :]
        if rest.startswith("localhost/"):
            rest = rest[len("localhost") :]
        if not rest.startswith("/"):
            raise StorageError(f"invalid file URI: {uri} (expected file:///ABSOLUTE/PATH)")
        return Path(rest)
    if "://" in uri:
        raise StorageError(
            f"unsupported storage URI: {uri} (use {', '.join(STORAGE_SCHEMES)} or a local path)"
        )
    return Path(uri).expanduser().absolute()


def storage_root_of(uri: str) -> str:
    """The widest root a Storage can be opened at for ``uri``: its container, or ``file:///``."""
    if uri.startswith(BLOB_SCHEME):
        return parse_blob_uri(uri).container_uri
    local_path_of(uri)
    return FILE_SCHEME + "/"
