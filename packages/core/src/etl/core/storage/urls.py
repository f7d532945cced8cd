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
"""

from __future__ import annotations

from urllib.parse import quote

from etl.core.profiles.local_services import azurite_blob_endpoint
from etl.core.profiles.model import Profile
from etl.core.storage.uris import BlobLocation, parse_blob_uri

__all__ = ["BlobUrls", "blob_endpoint", "blob_url", "url_at_endpoint"]


def blob_endpoint(account: str, profile: Profile | None = None) -> str:
    """The blob endpoint of ``account`` in ``profile``, without a trailing ``/``."""
    settings = profile.storage.get(account) if profile is not None else None
    if settings is not None and settings.account_url:
        return settings.account_url.rstrip("/")
    if settings is not None and settings.connection_string:
        endpoint = _connection_string_endpoint(account, settings.connection_string)
        if endpoint:
            return endpoint.rstrip("/")
    return f"https://{account}.blob.core.windows.net"


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


def _connection_string_endpoint(account: str, connection_string: str) -> str | None:
    """The blob endpoint a connection string names, or ``None`` when it names none."""
    settings = {
        key.strip().lower(): value.strip()
        for key, _, value in (part.partition("=") for part in connection_string.split(";"))
    }
    if settings.get("usedevelopmentstorage", "").lower() == "true":
        return azurite_blob_endpoint()
    if settings.get("blobendpoint"):
        return settings["blobendpoint"]
    if settings.get("endpointsuffix") or settings.get("accountname"):
        protocol = settings.get("defaultendpointsprotocol") or "https"
        name = settings.get("accountname") or account
        suffix = settings.get("endpointsuffix") or "core.windows.net"
        return f"{protocol}://{name}.blob.{suffix}"
    return None
