"""The URL a STAC client, a browser or GDAL opens for a ``blob://ACCOUNT/CONTAINER/PATH`` URI.

The one place that knows an account's blob endpoint: the blob clients connect to it,
``Storage.href_of`` and ``etl-task``'s rewrite of ``blob://`` item hrefs point at it. For an
account it is, first match wins:

1. the profile's ``storage.ACCOUNT.account_url`` (pods see it: it is not a credential);
2. the endpoint of the profile's ``storage.ACCOUNT.connection_string``: Azurite's for
   ``UseDevelopmentStorage=true``, else its ``BlobEndpoint``, else
   ``DefaultEndpointsProtocol://AccountName.blob.EndpointSuffix`` (``https``, the account and
   ``core.windows.net`` when left out) (pods never see connection strings: the compiler gives them this
   endpoint as the account's ``account_url``);
3. ``https://ACCOUNT.blob.core.windows.net``.

The URL is the endpoint, the container and the blob name percent-encoded (as the Azure SDK writes
blob URLs), so a name with spaces or ``%`` opens. It carries no SAS: the container must allow
anonymous reads, or the client appends a SAS token.

:func:`blob_uri_of_url` is the inverse (a storage event's ``data.url`` back to ``blob://``), and
:func:`queue_endpoint` is an account's queue endpoint by the same rules (``queue_url``, the
connection string's ``QueueEndpoint``, ``https://ACCOUNT.queue.core.windows.net``).
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote, unquote, urlsplit

from etl.core.errors import StorageError
from etl.core.profiles.local_services import azurite_blob_endpoint, azurite_queue_endpoint
from etl.core.profiles.model import Profile
from etl.core.storage.uris import BLOB_SCHEME, BlobLocation, parse_blob_uri

__all__ = [
    "BlobUrls",
    "blob_endpoint",
    "blob_uri_of_url",
    "blob_url",
    "queue_endpoint",
    "url_at_endpoint",
]

_Service = Literal["blob", "queue"]
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
"""Hosts whose URLs name the account in the path (Azurite's ``http://127.0.0.1:PORT/ACCOUNT/...``)."""


def blob_endpoint(account: str, profile: Profile | None = None) -> str:
    """The blob endpoint of ``account`` in ``profile``, without a trailing ``/``."""
    settings = profile.storage.get(account) if profile is not None else None
    if settings is not None and settings.account_url:
        return settings.account_url.rstrip("/")
    return _endpoint(account, profile, "blob")


def queue_endpoint(account: str, profile: Profile | None = None) -> str:
    """The queue endpoint of ``account`` in ``profile``, without a trailing ``/``."""
    settings = profile.storage.get(account) if profile is not None else None
    if settings is not None and settings.queue_url:
        return settings.queue_url.rstrip("/")
    return _endpoint(account, profile, "queue")


def _endpoint(account: str, profile: Profile | None, service: _Service) -> str:
    """The connection string's endpoint of ``service``, else Azure's public one."""
    settings = profile.storage.get(account) if profile is not None else None
    if settings is not None and settings.connection_string:
        endpoint = _connection_string_endpoint(account, settings.connection_string, service)
        if endpoint:
            return endpoint.rstrip("/")
    return f"https://{account}.{service}.core.windows.net"


def blob_uri_of_url(url: str, profile: Profile | None = None) -> str:
    """The ``blob://ACCOUNT/CONTAINER/PATH`` URI of a blob's URL: the inverse of :func:`blob_url`.

    The account is the one of ``profile`` whose endpoint the URL starts with, else the first label
    of an ``ACCOUNT.blob.SUFFIX`` host (or ``ACCOUNT.dfs.SUFFIX``, Data Lake's), else (Azurite,
    ``http://127.0.0.1:PORT/ACCOUNT/...``) the first segment of the path. The path is
    percent-decoded.

    Raises:
        StorageError: ``url`` names no account, container and blob.
    """
    for account in profile.storage if profile is not None else ():
        endpoint = blob_endpoint(account, profile) + "/"
        if url.startswith(endpoint):
            return _blob_uri(url, account, url[len(endpoint) :])
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme in ("http", "https") and (".blob." in host or ".dfs." in host):
        return _blob_uri(url, host.partition(".")[0], parts.path.lstrip("/"))
    if parts.scheme in ("http", "https") and host in _LOCAL_HOSTS:
        account, _, rest = parts.path.lstrip("/").partition("/")
        return _blob_uri(url, account, rest)
    raise StorageError(
        f"not a blob URL: {url!r} (expected https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH)"
    )


def _blob_uri(url: str, account: str, encoded_path: str) -> str:
    container, _, name = unquote(encoded_path.partition("?")[0]).partition("/")
    if not account or not container or not name:
        raise StorageError(f"not a blob URL: {url!r} (it names no account, container and blob)")
    return f"{BLOB_SCHEME}{account}/{container}/{name}"


def blob_url(uri: str, profile: Profile | None = None) -> str:
    """``blob://ACCOUNT/CONTAINER/PATH`` as ``ENDPOINT/CONTAINER/PATH`` (https; Azurite: http).

    Raises:
        StorageError: ``uri`` is not a ``blob://ACCOUNT/CONTAINER[/PATH]`` URI.
    """
    location = parse_blob_uri(uri)
    return url_at_endpoint(blob_endpoint(location.account, profile), location)


def url_at_endpoint(endpoint: str, location: BlobLocation) -> str:
    """The URL of ``location`` (a container, or a blob in it) under the account's ``endpoint``."""
    path = f"{location.container}/{location.prefix}" if location.prefix else location.container
    return f"{endpoint.rstrip('/')}/{quote(path, safe='/~')}"


class BlobUrls:
    """:func:`blob_url` for one profile, each account's endpoint worked out once (for many items)."""

    def __init__(self, profile: Profile | None = None) -> None:
        self.profile = profile
        self._endpoints: dict[str, str] = {}

    def __call__(self, uri: str) -> str:
        """The URL of the ``blob://`` URI ``uri``.

        Raises:
            StorageError: ``uri`` is not a ``blob://ACCOUNT/CONTAINER[/PATH]`` URI.
        """
        location = parse_blob_uri(uri)
        endpoint = self._endpoints.get(location.account)
        if endpoint is None:
            endpoint = blob_endpoint(location.account, self.profile)
            self._endpoints[location.account] = endpoint
        return url_at_endpoint(endpoint, location)


def _connection_string_endpoint(
    account: str, connection_string: str, service: _Service
) -> str | None:
    """The endpoint of ``service`` a connection string names, or ``None`` when it names none."""
    settings = {
        key.strip().lower(): value.strip()
        for key, _, value in (part.partition("=") for part in connection_string.split(";"))
    }
    if settings.get("usedevelopmentstorage", "").lower() == "true":
        return azurite_blob_endpoint() if service == "blob" else azurite_queue_endpoint()
    if settings.get(f"{service}endpoint"):
        return settings[f"{service}endpoint"]
    if settings.get("endpointsuffix") or settings.get("accountname"):
        protocol = settings.get("defaultendpointsprotocol") or "https"
        name = settings.get("accountname") or account
        suffix = settings.get("endpointsuffix") or "core.windows.net"
        return f"{protocol}://{name}.{service}.{suffix}"
    return None
