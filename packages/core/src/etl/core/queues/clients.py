"""Azure Storage queue clients, reached with the credential of the account's blobs.

Imported only when a queue is opened, so ``azure`` stays out of ``etl --help``. The credential is
the one :func:`~etl.core.storage.blob_clients.resolve_credentials` picks for the account's blobs
(the profile's connection string, key or SAS, else ``DefaultAzureCredential``); the endpoint is
:func:`~etl.core.storage.urls.queue_endpoint`'s (a client made from a connection string connects
to the string's own, as blob clients do). Timeouts and retries are the profile's
``storage_timeouts``, as for blobs.

A client talks to one host, so what ``requests`` would read from the environment on every request
(the proxy for the host, a CA bundle, ``~/.netrc``) is read once, when the client is made
(:func:`~etl.core.storage.blob_clients.environment_settings`): per request it was a third of a
message delete's CPU, and the consumer deletes every message on its own request. The requests go
over a :class:`~etl.core.storage.pooled_transport.PooledTransport` with those settings, not
through ``requests``, whose layers were another third (3.0 → 2.0 ms of CPU a delete).

Messages travel as the text the queue holds: no encode or decode policy, so a message that is not
base64 reaches :func:`~etl.core.queues.events.parse_event` (and its typed error) instead of failing
the whole page of messages it arrived with.
"""

from __future__ import annotations

from azure.core.credentials import AzureNamedKeyCredential, TokenCredential
from azure.core.exceptions import AzureError
from azure.storage.queue import QueueClient

from etl.core.azure_identity import default_credential
from etl.core.errors import StorageError
from etl.core.profiles.model import Profile, StorageTimeouts
from etl.core.queues.uris import QueueLocation
from etl.core.storage.blob_clients import client_options, resolve_credentials
from etl.core.storage.urls import queue_endpoint

__all__ = ["queue_client", "queue_error"]

_TRANSIENT_STATUS = (None, 408, 429, 500, 502, 503, 504)
"""A queue answer a retry may cure: no answer at all, a timeout, throttling, a busy server."""


def queue_client(location: QueueLocation, profile: Profile | None = None) -> QueueClient:
    """A new client of the queue at ``location``, with ``profile``'s credential for its account.

    Raises:
        StorageError: the account can certainly not be reached (see ``resolve_credentials``).
    """
    credentials = resolve_credentials(location.account, profile=profile)
    timeouts = profile.storage_timeouts if profile is not None else StorageTimeouts()
    endpoint = queue_endpoint(location.account, profile)
    if credentials.connection_string:
        connection_string = credentials.connection_string
        url = QueueClient.from_connection_string(connection_string, location.name).url
        options = client_options(location.uri, timeouts, url, pooled=True)
        return QueueClient.from_connection_string(connection_string, location.name, **options)
    options = client_options(location.uri, timeouts, endpoint, pooled=True)
    credential: str | AzureNamedKeyCredential | TokenCredential
    if credentials.sas:
        credential = credentials.sas
    elif credentials.key:
        credential = AzureNamedKeyCredential(location.account, credentials.key)
    else:
        credential = default_credential()
    return QueueClient(endpoint, location.name, credential=credential, **options)


def queue_error(exc: AzureError, what: str) -> StorageError:
    """``exc`` of the queue SDK as etl's error: ``what`` failed, with Azure's first line;
    transient when no answer came or the service was busy."""
    detail = str(getattr(exc, "message", None) or exc).strip().splitlines()
    return StorageError(
        f"{what}: {detail[0] if detail else type(exc).__name__}",
        transient=getattr(exc, "status_code", None) in _TRANSIENT_STATUS,
    )
