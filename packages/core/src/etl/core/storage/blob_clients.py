"""Azure Blob clients: which credential an account uses, timeouts and retries, one client per container.

Imported only when a ``blob://`` URI is opened, so ``azure`` stays out of ``etl --help``.

Credentials for an account, first match wins:

1. a SAS token given with the dataset (``sas_token=``);
2. the profile's ``storage[ACCOUNT]``: ``connection_string``, else ``account_url`` + ``key``, else
   ``account_url`` + ``sas``;
3. ``DefaultAzureCredential`` (workload identity in pods, ``az login`` on a laptop).

The endpoint is :func:`~etl.core.storage.urls.blob_endpoint`'s (the profile's ``account_url``, else
the connection string's, else ``https://ACCOUNT.blob.core.windows.net``), which is also where
``Storage.href_of`` points; a client made from a connection string connects to the string's own.

Timeouts and retries are the profile's ``storage_timeouts`` (``connect`` and ``read`` seconds per
try, ``retries`` after the first); while a call waits, :mod:`etl.core.storage.waiting` says so.
What ``requests`` would read from the environment on every request (the host's proxy, a CA
bundle) is read once, when a client is made (:func:`environment_settings`).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from azure.core.credentials import AzureNamedKeyCredential, TokenCredential
from azure.core.exceptions import AzureError, ClientAuthenticationError
from azure.storage.blob import BlobServiceClient, ContainerClient, ExponentialRetry

from etl.core.azure_identity import default_credential
from etl.core.errors import StorageError
from etl.core.profiles.model import Profile, StorageTimeouts
from etl.core.profiles.storage_check import storage_credential_problem
from etl.core.storage.uris import BlobLocation
from etl.core.storage.urls import blob_endpoint
from etl.core.storage.waiting import waiting_on

__all__ = [
    "BlobCredentials",
    "client_options",
    "container_client",
    "environment_settings",
    "resolve_credentials",
    "service_client",
]

# 500/503 (Azure's "server busy" throttling), 408, timeouts and dropped connections are retried by
# the SDK's ExponentialRetry, waiting 1 + 2**n s (3, 5, 9, 17, 33 s for the default 5 retries,
# +-1 s jitter): about a minute in all, plus the tries' own timeouts.
_RETRY_INITIAL_BACKOFF = 1
_RETRY_INCREMENT_BASE = 2
_RETRY_JITTER = 1


@dataclass(frozen=True)
class BlobCredentials:
    """How one account is reached: an endpoint and at most one credential; none means the identity.

    Attributes:
        account_url: The blob endpoint, base of ``href_of`` URLs (a client made from
            ``connection_string`` connects to the string's own).
        connection_string: A full connection string (carries endpoint and key).
        sas: A SAS token without the leading ``?``.
        key: An account key, used with ``account_url``.
        source: Where the credential came from, for error messages (never the secret itself).
    """

    account_url: str
    connection_string: str | None = None
    sas: str | None = None
    key: str | None = None
    source: str = "DefaultAzureCredential"


def resolve_credentials(
    account: str, *, profile: Profile | None = None, sas_token: str | None = None
) -> BlobCredentials:
    """The credentials for ``account``, in the documented order.

    Raises:
        StorageError: when only the identity is left and it cannot work (an ``http://`` endpoint,
            or Azurite's account without settings; see ``etl.core.profiles.storage_check``).
    """
    settings = profile.storage.get(account) if profile is not None else None
    where = f"profile {profile.name!r} storage.{account}" if profile is not None else ""
    account_url = blob_endpoint(account, profile)
    connection_string = settings.connection_string if settings else None
    if sas_token:
        return BlobCredentials(
            account_url=account_url,
            connection_string=connection_string,
            sas=sas_token.lstrip("?"),
            source="the SAS token given with the dataset",
        )
    if settings is not None and connection_string:
        return BlobCredentials(
            account_url=account_url,
            connection_string=connection_string,
            source=f"{where}.connection_string",
        )
    if settings is not None and settings.key:
        return BlobCredentials(account_url=account_url, key=settings.key, source=f"{where}.key")
    if settings is not None and settings.sas:
        return BlobCredentials(
            account_url=account_url, sas=settings.sas.lstrip("?"), source=f"{where}.sas"
        )
    problem = storage_credential_problem(profile, account) if profile is not None else None
    if problem:
        # Fail now, not after the identity's retries: this account cannot be reached that way.
        raise StorageError(problem)
    return BlobCredentials(account_url=account_url)


class _TransientRetry(ExponentialRetry):
    """The SDK's exponential retry, except for authentication failures: no retry cures those.

    The storage SDK retries every ``AzureError``, so a missing Azure AD credential was tried six
    times over about a minute, its dozen-line message logged each time. Each call, its retries
    included, is watched by :func:`~etl.core.storage.waiting.waiting_on` (``place``).
    """

    def __init__(self, place: str, notice: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._place = place
        self._notice = notice

    def send(self, request: Any) -> Any:
        with waiting_on(self._place, notice=self._notice):
            return super().send(request)  # type: ignore[no-untyped-call]

    def increment(
        self,
        settings: dict[str, Any],
        request: Any,
        response: Any = None,
        error: AzureError | None = None,
    ) -> bool:
        if isinstance(error, ClientAuthenticationError):
            return False
        return bool(super().increment(settings, request, response, error))


_CA_BUNDLE_ENV = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
"""Where ``requests`` finds a CA bundle in the environment, in its order."""

_clients: dict[tuple[str, str, BlobCredentials, StorageTimeouts], ContainerClient] = {}
_clients_lock = threading.Lock()


def container_client(
    location: BlobLocation,
    credentials: BlobCredentials,
    timeouts: StorageTimeouts | None = None,
) -> ContainerClient:
    """The process-wide client for one container with these credentials and timeouts (default:
    :class:`~etl.core.profiles.model.StorageTimeouts`'), created once."""
    timeouts = timeouts if timeouts is not None else StorageTimeouts()
    cache_key = (location.account, location.container, credentials, timeouts)
    with _clients_lock:
        client = _clients.get(cache_key)
        if client is None:
            client = _new_container_client(location, credentials, timeouts)
            _clients[cache_key] = client
        return client


def service_client(
    account: str, credentials: BlobCredentials, timeouts: StorageTimeouts
) -> BlobServiceClient:
    """A new client of the whole account (not cached): for checks that name no container."""
    return _new_client(account, f"blob://{account}", credentials, timeouts)


def _new_container_client(
    location: BlobLocation, credentials: BlobCredentials, timeouts: StorageTimeouts
) -> ContainerClient:
    service = _new_client(location.account, location.container_uri, credentials, timeouts)
    return service.get_container_client(location.container)


def client_options(
    place: str, timeouts: StorageTimeouts, url: str, *, pooled: bool = False
) -> dict[str, Any]:
    """The keyword arguments of a storage client (blob or queue) of the service at ``url``: the
    profile's timeouts, etl's retry policy (its waits reported as waiting on ``place``) and the
    environment's settings for that host (:func:`environment_settings`). ``pooled``: requests go
    through a :class:`~etl.core.storage.pooled_transport.PooledTransport` with those settings, not
    through ``requests`` (for services whose answers are small: queues)."""
    retry = {
        "retry_policy": _TransientRetry(
            place,
            timeouts.notice,
            initial_backoff=_RETRY_INITIAL_BACKOFF,
            increment_base=_RETRY_INCREMENT_BASE,
            retry_total=timeouts.retries,
            random_jitter_range=_RETRY_JITTER,
        )
    }
    settings = environment_settings(url)
    if pooled:
        from requests.utils import select_proxy

        from etl.core.storage.pooled_transport import PooledTransport

        transport = PooledTransport(
            connect=timeouts.connect,
            read=timeouts.read,
            proxy=select_proxy(url, settings.get("proxies")),
            ca_bundle=settings.get("connection_verify"),
        )
        return retry | {"transport": transport}
    return (
        settings | retry | {"connection_timeout": timeouts.connect, "read_timeout": timeouts.read}
    )


def environment_settings(url: str) -> dict[str, Any]:
    """Client options that read, once, what ``requests`` reads from the environment on every
    request to ``url``'s host: its proxy (``HTTPS_PROXY``, ``NO_PROXY``, ...) and a CA bundle
    (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``); ``requests`` itself then reads none (nor
    ``~/.netrc``, which Azure's authentication never uses). Per request that reading was a third of
    a queue message delete's CPU and a sixth of a small blob read's."""
    from requests.utils import get_environ_proxies

    options: dict[str, Any] = {"use_env_settings": False}
    if proxies := get_environ_proxies(url):
        options["proxies"] = proxies
    if bundle := next((os.environ[name] for name in _CA_BUNDLE_ENV if os.environ.get(name)), None):
        options["connection_verify"] = bundle
    return options


def _new_client(
    account: str, place: str, credentials: BlobCredentials, timeouts: StorageTimeouts
) -> BlobServiceClient:
    if credentials.connection_string:
        url = BlobServiceClient.from_connection_string(credentials.connection_string).url
        return BlobServiceClient.from_connection_string(
            credentials.connection_string,
            credential=credentials.sas,
            **client_options(place, timeouts, url),
        )
    options = client_options(place, timeouts, credentials.account_url)
    credential: str | AzureNamedKeyCredential | TokenCredential
    if credentials.sas:
        credential = credentials.sas
    elif credentials.key:
        credential = AzureNamedKeyCredential(account, credentials.key)
    else:
        credential = default_credential()
    return BlobServiceClient(credentials.account_url, credential, **options)
