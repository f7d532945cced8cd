"""Opening a :class:`~etl.core.storage.base.Storage` for a URI."""

from __future__ import annotations

from etl.core.profiles.model import Profile
from etl.core.storage.base import Storage
from etl.core.storage.filesystem import FileStorage
from etl.core.storage.uris import BLOB_SCHEME, local_path_of, storage_root_of

__all__ = ["open_storage", "open_storage_for"]


def open_storage(
    uri: str, *, profile: Profile | None = None, sas_token: str | None = None
) -> Storage:
    """A Storage rooted at ``uri``: ``file:///PATH``, a local path, or ``blob://ACCOUNT/CONTAINER/PREFIX``.

    Blob clients are created once per process for each account, container and credential, so
    opening the same container again is cheap.

    Args:
        uri: The root of the storage.
        profile: Whose ``storage[ACCOUNT]`` credentials apply to blob URIs.
        sas_token: A SAS token given with the dataset; it wins over the profile's credentials.

    Raises:
        StorageError: for a malformed or unsupported URI.
    """
    if uri.startswith(BLOB_SCHEME):
        from etl.core.storage.blob import BlobStorage
        from etl.core.storage.blob_clients import container_client, resolve_credentials
        from etl.core.storage.uris import parse_blob_uri

        location = parse_blob_uri(uri)
        credentials = resolve_credentials(location.account, profile=profile, sas_token=sas_token)
        timeouts = profile.storage_timeouts if profile is not None else None
        client = container_client(location, credentials, timeouts)
        return BlobStorage(location, client, credentials)
    return FileStorage(local_path_of(uri))


def open_storage_for(
    uri: str, *, profile: Profile | None = None, sas_token: str | None = None
) -> Storage:
    """A Storage that can read ``uri`` itself (and anything beside it), given as a full URI.

    It is rooted at the URI's container (or at ``file:///``), so user code can call
    ``storage.read_text(asset_uri)`` with any asset URI of that container.
    """
    return open_storage(storage_root_of(uri), profile=profile, sas_token=sas_token)
