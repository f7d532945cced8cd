"""Storage accounts a profile certainly cannot reach, found before anything runs.

Without a key, SAS or connection string an account falls back to ``DefaultAzureCredential``. Two
cases can never work that way, and used to fail only after minutes of retries inside the pods:

- an ``http://`` endpoint (Azurite's): identity tokens are never sent over plain HTTP;
- Azurite's account ``devstoreaccount1`` with no ``storage.devstoreaccount1`` in the profile: it
  would be looked for in Azure, where it does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable

from etl.core.errors import ProfileError
from etl.core.profiles.local_services import AZURITE_ACCOUNT, azurite_blob_endpoint
from etl.core.profiles.model import Profile

__all__ = ["check_storage_uris", "storage_credential_problem", "storage_warnings"]

_BLOB_SCHEME = "blob://"


def storage_credential_problem(
    profile: Profile, account: str, *, sas_given: bool = False
) -> str | None:
    """Why ``profile`` cannot reach storage ``account``, when that is certain; else ``None``.

    Args:
        profile: The profile whose ``storage.ACCOUNT`` settings are used.
        account: The storage account name.
        sas_given: Whether the dataset gives a SAS token for this storage (that always works).
    """
    settings = profile.storage.get(account)
    if sas_given or (settings and (settings.connection_string or settings.key or settings.sas)):
        return None
    if settings and _is_plain_http(settings.account_url):
        return (
            f"profile {profile.name!r} has no credential for storage account {account!r} at "
            f"{settings.account_url} (identity tokens are never sent over http): "
            f"{_fix(profile, account)} (or .sas, .connection_string), or give the dataset's "
            "storage a token"
        )
    if account == AZURITE_ACCOUNT and not (settings and settings.account_url):
        return (
            f"profile {profile.name!r} has no storage.{account}, so Azurite's account {account!r}"
            f" would be looked for in Azure: etl profile edit {profile.name} --set"
            f" storage.{account}.account_url={azurite_blob_endpoint()} --set storage.{account}.key=..."
            f" (Azurite's well-known key), or etl profile create {profile.name} --from local --force"
        )
    return None


def check_storage_uris(profile: Profile, uris: Iterable[tuple[str, bool]]) -> None:
    """Refuse before a run when a ``blob://`` URI's account cannot be reached.

    Args:
        profile: The profile the run uses.
        uris: ``(uri, sas_given)`` pairs; URIs that are not ``blob://`` are skipped.

    Raises:
        ProfileError: One line naming the profile, the account and the fix.
    """
    for uri, sas_given in uris:
        if not uri.startswith(_BLOB_SCHEME):
            continue
        account = uri[len(_BLOB_SCHEME) :].split("/", 1)[0]
        problem = storage_credential_problem(profile, account, sas_given=sas_given)
        if problem:
            raise ProfileError(problem)


def storage_warnings(profile: Profile) -> list[str]:
    """The accounts of ``profile`` that only a dataset's SAS token can reach, one line each."""
    return [
        f"profile {profile.name!r}: storage.{account} has an http:// endpoint and no key, SAS or "
        f"connection string, so only a dataset's SAS token can reach it ({_fix(profile, account)})"
        for account, settings in profile.storage.items()
        if _is_plain_http(settings.account_url)
        and storage_credential_problem(profile, account) is not None
    ]


def _is_plain_http(account_url: str | None) -> bool:
    return account_url is not None and not account_url.lower().startswith("https://")


def _fix(profile: Profile, account: str) -> str:
    return f"etl profile edit {profile.name} --set storage.{account}.key=..."
