"""The :class:`Storage` interface every backend implements, and :class:`ObjectInfo`.

A Storage has a root ``uri``; every method takes a path relative to that root or a full URI under
it. Paths use ``/`` separators, never start with ``/`` and contain no ``.`` or ``..`` segments.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import NamedTuple

from etl.core.errors import StorageError

__all__ = ["ObjectInfo", "Storage"]


class ObjectInfo(NamedTuple):
    """One object found by :meth:`Storage.list_objects` (a named tuple: listings make one per
    object, and a tuple is made five times faster than a frozen dataclass).

    Attributes:
        uri: The object's full URI.
        path: Its path relative to the storage root.
        size: Its size in bytes; ``None`` unless listed ``with_properties``.
        last_modified: When it last changed (UTC); ``None`` unless listed ``with_properties``.
        etag: A blob's ETag (as the SDK gives it, unquoted); ``None`` for files or without
            properties.
        content_type: A blob's content type; ``None`` for files or without properties.
    """

    uri: str
    path: str
    size: int | None = None
    last_modified: datetime | None = None
    etag: str | None = None
    content_type: str | None = None


class Storage(ABC):
    """A tree of objects under a root URI: a local folder or a blob container prefix."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._uri_prefix = uri if uri.endswith("/") else uri + "/"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"

    def uri_of(self, path: str) -> str:
        """The full URI of ``path`` (relative to the root, or already a URI under it)."""
        relative = self.relative_path(path)
        return self._uri_prefix + relative if relative else self.uri

    def relative_path(self, path: str) -> str:
        """``path`` relative to the root; a full URI must lie under the root.

        Raises:
            StorageError: for a URI outside the root, an absolute path, or ``.``/``..`` segments.
        """
        if "://" in path:
            if path in (self.uri, self._uri_prefix):
                return ""
            if not path.startswith(self._uri_prefix):
                raise StorageError(f"{path} is outside the storage root {self.uri}")
            relative = path[len(self._uri_prefix) :]
        else:
            relative = path
        if relative.startswith("/"):
            raise StorageError(
                f"absolute path {path!r} given to storage {self.uri}: use a path relative to the"
                " root or a full URI"
            )
        if _has_dot_segment(relative):
            raise StorageError(f"path {path!r} has '.' or '..' segments (storage {self.uri})")
        return relative

    def contains(self, uri: str) -> bool:
        """Whether ``uri`` is the full URI of an object under the root (no ``.``/``..`` segments).

        Only a name is checked: a local file reached through a symbolic link out of the root is
        still refused when it is read (:class:`~etl.core.storage.filesystem.FileStorage`).
        """
        prefix = self._uri_prefix
        if not uri.startswith(prefix) or "://" not in uri:
            return False
        relative = uri[len(prefix) :]  # as relative_path() finds it, without raising
        return bool(relative) and not relative.startswith("/") and not _has_dot_segment(relative)

    def read_text(self, path: str, encoding: str = "utf-8") -> str:
        """The object at ``path`` decoded as text."""
        data = self.read_bytes(path)
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise StorageError(
                f"{self.uri_of(path)} is not {encoding} text: {exc.reason}"
            ) from None

    def write_text(self, path: str, text: str, encoding: str = "utf-8") -> None:
        """Write ``text`` to ``path``, replacing any object there."""
        self.write_bytes(path, text.encode(encoding))

    @abstractmethod
    def href_of(self, path: str) -> str:
        """The URL a STAC client, browser or GDAL opens for ``path``: for an item's hrefs.

        A blob's URL at its account's endpoint (``https://ACCOUNT.blob.core.windows.net/...``,
        Azurite's locally; no SAS), a local file's ``file://`` URI.
        """

    @abstractmethod
    def list_objects(
        self,
        prefix: str = "",
        *,
        with_properties: bool = False,
        recursive: bool = True,
        accept: Callable[[str], bool] | None = None,
    ) -> Iterator[ObjectInfo]:
        """Every object whose relative path starts with ``prefix``: a flat listing.

        Streams in lexicographic order of the relative path (the order of blob listings), so both
        backends list the same tree identically. ``size`` and ``last_modified`` are filled only
        ``with_properties`` (a cheaper listing without them). ``recursive=False`` keeps only the
        objects with no ``/`` after ``prefix``: the files directly in that folder. ``accept``,
        when given, keeps only the objects whose relative path it accepts (a local listing reads
        the properties of those alone).
        """

    @abstractmethod
    def list_prefixes(self, prefix: str = "") -> Iterator[str]:
        """The "folders" one level below ``prefix``, as relative paths ending with ``/``, sorted."""

    @abstractmethod
    def read_bytes(self, path: str) -> bytes:
        """The content of the object at ``path``.

        Raises:
            StorageError: naming the URI when it does not exist or cannot be read.
        """

    @abstractmethod
    def write_bytes(self, path: str, data: bytes) -> None:
        """Write ``data`` to ``path`` atomically, replacing any object there."""

    @abstractmethod
    def exists(self, path: str) -> bool:
        """Whether an object exists at ``path``."""

    @abstractmethod
    def delete(self, path: str) -> None:
        """Delete the object at ``path``; deleting a missing object is not an error."""


def _has_dot_segment(relative: str) -> bool:
    """Whether the relative path has a ``.`` or ``..`` segment."""
    bounded = f"/{relative}/"  # a "." or ".." segment lies between two slashes here
    return "/./" in bounded or "/../" in bounded
