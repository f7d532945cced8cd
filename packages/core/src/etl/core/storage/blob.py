"""The Azure Blob backend of :class:`~etl.core.storage.base.Storage` (``blob://ACCOUNT/CONTAINER/PREFIX``).

Imported only when a ``blob://`` URI is opened. Every Azure SDK error becomes a one-line
:class:`~etl.core.errors.StorageError` naming the URI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC
from itertools import islice

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.storage.blob import BlobPrefix, BlobProperties, ContainerClient

from etl.core.errors import EtlError, StorageAuthenticationError, StorageError
from etl.core.profiles.model import StorageTimeouts
from etl.core.storage.base import ObjectInfo, Storage
from etl.core.storage.blob_clients import BlobCredentials, service_client
from etl.core.storage.container_names import closest_names
from etl.core.storage.uris import BlobLocation
from etl.core.storage.urls import url_at_endpoint

__all__ = ["BlobStorage"]


class BlobStorage(Storage):
    """Objects are blobs under a container prefix; ``/`` in names makes the "folders"."""

    def __init__(
        self, location: BlobLocation, client: ContainerClient, credentials: BlobCredentials
    ) -> None:
        super().__init__(location.uri)
        self.location = location
        self._client = client
        self._credentials = credentials
        self._name_prefix = location.prefix + "/" if location.prefix else ""

    @property
    def credential_source(self) -> str:
        """Where this storage's credential comes from (``profile 'x' storage.acct.key``), never
        the credential itself."""
        return self._credentials.source

    def _name(self, path: str) -> str:
        return self._name_prefix + self.relative_path(path)

    def href_of(self, path: str) -> str:
        """The blob's URL at the account's endpoint (the one this storage connects to)."""
        name = self._name(path)
        location = BlobLocation(self.location.account, self.location.container, name)
        return url_at_endpoint(self._credentials.account_url, location)

    def list_objects(
        self,
        prefix: str = "",
        *,
        with_properties: bool = False,
        recursive: bool = True,
        accept: Callable[[str], bool] | None = None,
    ) -> Iterator[ObjectInfo]:
        """Blobs whose relative path starts with ``prefix``, in the service's (lexicographic) order.

        Recursive listings without properties use ``list_blob_names``, several times cheaper per
        blob than ``list_blobs``; a non-recursive listing is ``walk_blobs`` with delimiter ``/``.
        """
        start = self._name(prefix)
        skip = len(self._name_prefix)
        try:
            if not recursive:
                for item in self._client.walk_blobs(name_starts_with=start or None, delimiter="/"):
                    if not isinstance(item, BlobPrefix) and (
                        accept is None or accept(str(item.name)[skip:])
                    ):
                        yield self._object_info(item, skip, with_properties=with_properties)
                return
            if not with_properties:
                for name in self._client.list_blob_names(name_starts_with=start or None):
                    path = name[skip:]
                    if accept is None or accept(path):
                        yield ObjectInfo(uri=self._uri_prefix + path, path=path)
                return
            for blob in self._client.list_blobs(name_starts_with=start or None):
                if accept is None or accept(str(blob.name)[skip:]):
                    yield self._object_info(blob, skip, with_properties=True)
        except AzureError as exc:
            raise self._error(exc, self.uri_of(prefix), listing=True) from None

    def _object_info(self, blob: BlobProperties, skip: int, *, with_properties: bool) -> ObjectInfo:
        path = str(blob.name)[skip:]
        if not with_properties:
            return ObjectInfo(uri=self._uri_prefix + path, path=path)
        modified = blob.last_modified
        if modified is not None and modified.tzinfo is None:
            modified = modified.replace(tzinfo=UTC)
        return ObjectInfo(
            uri=self._uri_prefix + path,
            path=path,
            size=blob.size,
            last_modified=modified,
            etag=blob.etag,
            content_type=blob.content_settings.content_type,
        )

    def probe(self) -> None:
        """Ask for one blob name under the root: the account answers and the credential may list.

        Raises:
            StorageError: as any listing does (not found, authentication, not reachable).
        """
        try:
            pages = self._client.list_blob_names(
                name_starts_with=self._name_prefix or None, results_per_page=1
            ).by_page()
            next(pages, None)
        except AzureError as exc:
            raise self._error(exc, self.uri, listing=True) from None

    def list_prefixes(self, prefix: str = "") -> Iterator[str]:
        """One level of "folders" below ``prefix`` (``walk_blobs`` with delimiter ``/``)."""
        start = self._name(prefix)
        skip = len(self._name_prefix)
        try:
            for item in self._client.walk_blobs(name_starts_with=start or None, delimiter="/"):
                if isinstance(item, BlobPrefix):
                    yield str(item.name)[skip:]
        except AzureError as exc:
            raise self._error(exc, self.uri_of(prefix), listing=True) from None

    def read_bytes(self, path: str) -> bytes:
        """The content of the blob at ``path``."""
        name = self._name(path)
        try:
            data: bytes = self._client.download_blob(name).readall()
        except AzureError as exc:
            raise self._error(exc, self.uri_of(path)) from None
        return data

    def write_bytes(self, path: str, data: bytes) -> None:
        """Upload ``data`` to ``path``, replacing any blob there (blob uploads are atomic)."""
        name = self._name(path)
        if not self.relative_path(path):
            raise StorageError(f"cannot write to the storage root itself: {self.uri}")
        try:
            self._client.upload_blob(name, data, overwrite=True)
        except AzureError as exc:
            raise self._error(exc, self.uri_of(path)) from None

    def exists(self, path: str) -> bool:
        """Whether a blob exists at ``path``."""
        name = self._name(path)
        try:
            return bool(self._client.get_blob_client(name).exists())
        except AzureError as exc:
            raise self._error(exc, self.uri_of(path)) from None

    def delete(self, path: str) -> None:
        """Delete the blob at ``path``; a missing blob is not an error."""
        name = self._name(path)
        try:
            self._client.delete_blob(name)
        except ResourceNotFoundError as exc:
            if _error_code(exc) == "ContainerNotFound":
                raise self._error(exc, self.uri_of(path)) from None
        except AzureError as exc:
            raise self._error(exc, self.uri_of(path)) from None

    def _error(self, exc: AzureError, uri: str, *, listing: bool = False) -> StorageError:
        """A one-line StorageError for an SDK error met while working on ``uri``."""
        code = _error_code(exc)
        if isinstance(exc, ResourceNotFoundError):
            if code == "ContainerNotFound":
                return StorageError(
                    f"not found: container {self.location.container_uri} (for {uri})"
                    + self._did_you_mean()
                )
            return StorageError(f"not found: {uri}")
        status = getattr(exc, "status_code", None)
        detail = f"HTTP {status} {code}".strip() if status else _first_line(exc)
        if isinstance(exc, ClientAuthenticationError) or status in (401, 403):
            return StorageAuthenticationError(
                f"authentication failed for {uri} using {self._credentials.source}: {detail}"
            )
        what = "listing" if listing else "request"
        if isinstance(exc, HttpResponseError) and status is not None and status in _BUSY:
            return StorageError(
                f"storage service busy or failing for {uri}: {detail}, still failing after retries",
                transient=True,
            )
        if isinstance(exc, ServiceRequestError | ServiceResponseError):
            return StorageError(
                f"cannot reach storage for {uri} after retries: {_first_line(exc)}", transient=True
            )
        return StorageError(f"storage {what} failed for {uri}: {detail}")

    def _did_you_mean(self) -> str:
        """``; did you mean blob://ACCOUNT/NAME?`` with the account's container names closest to
        this one, asked once without retries; empty when none is close or the credential may not
        list the account's containers (a container's SAS, a container-scoped role)."""
        account = self.location.account
        try:
            client = service_client(account, self._credentials, _SUGGEST_TIMEOUTS)
            names = [c.name for c in islice(client.list_containers(), _SUGGEST_FROM)]
        except (AzureError, EtlError):
            return ""
        close = closest_names(self.location.container, names)
        if not close:
            return ""
        return f"; did you mean {' or '.join(f'blob://{account}/{name}' for name in close)}?"


_SUGGEST_TIMEOUTS = StorageTimeouts(connect=2, read=2, retries=0)
"""Listing an account's containers for a did-you-mean: one try, a few seconds."""
_SUGGEST_FROM = 5000
"""At most this many of the account's container names are compared (a few listing pages)."""

_BUSY = frozenset({408, 429, 500, 502, 503, 504})
"""HTTP statuses a retry may cure: timeout, throttling, server errors."""


def _error_code(exc: AzureError) -> str:
    code = getattr(exc, "error_code", None)
    return str(getattr(code, "value", code) or "")


def _first_line(exc: AzureError) -> str:
    text = str(getattr(exc, "message", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
