"""Storage whose SAS token comes from a secret: an expired token is fetched again, not fatal.

A long run can outlive the SAS token it started with. When the storage refuses the credentials,
the secret references in the token are resolved again (dropping cached values, so Key Vault is
asked for the current version), the storage is reopened with the new token, and the call is tried
once more. A token that is still refused then is a real error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

from etl.core.errors import StorageAuthenticationError
from etl.core.storage.base import ObjectInfo, Storage

__all__ = ["RefreshingStorage"]

_T = TypeVar("_T")


class RefreshingStorage(Storage):
    """A :class:`Storage` that reopens itself with a fresh token when its token is refused.

    Args:
        uri: The storage root.
        open_with_fresh_token: Opens the storage after resolving its token anew.
    """

    def __init__(self, uri: str, open_with_fresh_token: Callable[[], Storage]) -> None:
        super().__init__(uri)
        self._open = open_with_fresh_token
        self._inner = open_with_fresh_token()
        self._lock = threading.Lock()
        self.refreshes = 0

    def _call(self, action: Callable[[Storage], _T]) -> _T:
        inner = self._inner
        try:
            return action(inner)
        except StorageAuthenticationError:
            with self._lock:
                if self._inner is inner:
                    self._inner = self._open()
                    self.refreshes += 1
            return action(self._inner)

    def href_of(self, path: str) -> str:
        """As :meth:`Storage.href_of`."""
        return self._inner.href_of(path)

    def list_objects(
        self,
        prefix: str = "",
        *,
        with_properties: bool = False,
        recursive: bool = True,
        accept: Callable[[str], bool] | None = None,
    ) -> Iterator[ObjectInfo]:
        """As :meth:`Storage.list_objects` (a listing is not restarted halfway)."""
        return self._inner.list_objects(
            prefix, with_properties=with_properties, recursive=recursive, accept=accept
        )

    def list_prefixes(self, prefix: str = "") -> Iterator[str]:
        """As :meth:`Storage.list_prefixes`."""
        return self._inner.list_prefixes(prefix)

    def read_bytes(self, path: str) -> bytes:
        """As :meth:`Storage.read_bytes`, retried once with a fresh token."""
        return self._call(lambda s: s.read_bytes(path))

    def write_bytes(self, path: str, data: bytes) -> None:
        """As :meth:`Storage.write_bytes`, retried once with a fresh token."""
        self._call(lambda s: s.write_bytes(path, data))

    def exists(self, path: str) -> bool:
        """As :meth:`Storage.exists`, retried once with a fresh token."""
        return self._call(lambda s: s.exists(path))

    def delete(self, path: str) -> None:
        """As :meth:`Storage.delete`, retried once with a fresh token."""
        self._call(lambda s: s.delete(path))
