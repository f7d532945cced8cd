"""Choosing the secret backend a profile asks for."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache

from etl.core.errors import ProfileError
from etl.core.profiles.model import Profile, SecretsBackend
from etl.core.secrets.keyvault import KeyVaultSecrets
from etl.core.secrets.local import LocalSecrets
from etl.core.templating.secret_refs import SecretLookup

__all__ = ["SecretResolver", "secret_resolver_for"]

SecretResolver = SecretLookup
"""What a secret backend offers: ``get(name) -> str``, raising ``SecretError``."""


def secret_resolver_for(
    profile: Profile, *, env: Mapping[str, str] | None = None
) -> LocalSecrets | KeyVaultSecrets:
    """The profile's backend: :class:`LocalSecrets` or a (process-wide) :class:`KeyVaultSecrets`.

    Raises:
        ProfileError: when the backend is ``keyvault`` and ``secrets.vault_url`` is not set.
    """
    settings = profile.secrets
    if settings.backend == SecretsBackend.KEYVAULT:
        if not settings.vault_url:
            raise ProfileError(
                f"profile {profile.name!r}: secrets.backend is keyvault but secrets.vault_url is"
                " not set"
            )
        return _keyvault(settings.vault_url)
    return LocalSecrets(profile.name, env=os.environ if env is None else env, file=settings.file)


@cache
def _keyvault(vault_url: str) -> KeyVaultSecrets:
    """One client per vault per process, so each secret is fetched once."""
    return KeyVaultSecrets(vault_url)
