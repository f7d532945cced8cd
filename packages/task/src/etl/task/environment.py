"""What ``etl-task`` learns from its environment: profile, secrets, storage and the PgSTAC DSN.

In a pod the compiler sets ``ETL_PROFILE_JSON`` (the profile without credentials), and either
``ETL_SECRET_<NAME>`` variables (Kubernetes secret refs) or ``ETL_SECRETS_BACKEND=keyvault`` with
``ETL_KEYVAULT_URL``. Under the local runner the same variables are set, and the profile of that
name also exists on this machine, with the credentials the pod profile leaves out: it is used then.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from etl.core.errors import ProfileError, SecretError
from etl.core.profiles import Profile, resolve_profile
from etl.core.storage import Storage, open_storage, open_storage_for
from etl.core.templating import SecretLookup, resolve_secret_refs

__all__ = ["TaskEnvironment"]


@dataclass
class TaskEnvironment:
    """The task's view of its profile, secrets and services, read from environment variables."""

    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @cached_property
    def profile(self) -> Profile:
        """The profile the workflow was compiled with (with local credentials when on this machine)."""
        raw = self.env.get("ETL_PROFILE_JSON")
        if not raw:
            return resolve_profile(None, self.env)
        pod_profile = Profile.model_validate_json(raw)
        try:
            return resolve_profile(pod_profile.name, self.env)
        except ProfileError:
            return pod_profile

    @cached_property
    def secrets(self) -> SecretLookup:
        """The secret backend: Key Vault when the compiler said so, else the local backend."""
        from etl.core.secrets import KeyVaultSecrets, LocalSecrets

        if self.env.get("ETL_SECRETS_BACKEND") == "keyvault":
            url = self.env.get("ETL_KEYVAULT_URL")
            if not url:
                raise SecretError("ETL_SECRETS_BACKEND is keyvault but ETL_KEYVAULT_URL is unset")
            return KeyVaultSecrets(url)
        return LocalSecrets(self.profile.name, env=self.env)

    def resolve(self, value: str) -> str:
        """``value`` with its ``$<< secrets.NAME >>`` references replaced by the secrets' values."""
        return resolve_secret_refs(value, self.secrets)

    def pgstac_dsn(self) -> str:
        """The PgSTAC DSN: ``ETL_PGSTAC_DSN``, or the secret ``ETL_PGSTAC_DSN_SECRET`` names."""
        if self.env.get("ETL_PGSTAC_DSN"):
            return self.env["ETL_PGSTAC_DSN"]
        secret_name = self.env.get("ETL_PGSTAC_DSN_SECRET") or self.profile.pgstac.dsn_secret
        if secret_name:
            return self.secrets.get(secret_name)
        if self.profile.pgstac.dsn:
            return self.profile.pgstac.dsn
        raise ProfileError(
            f"profile {self.profile.name!r} names no PgSTAC database: set pgstac.dsn or "
            "pgstac.dsn_secret, or ETL_PGSTAC_DSN"
        )

    def storage(self, uri: str, token: str | None = None) -> Storage:
        """Storage rooted at ``uri``; ``token`` (a SAS, maybe a secret reference) is resolved first."""
        return open_storage(uri, profile=self.profile, sas_token=self._token(token))

    def storage_for(self, uri: str, token: str | None = None) -> Storage:
        """Storage able to read the object at full URI ``uri``."""
        return open_storage_for(uri, profile=self.profile, sas_token=self._token(token))

    def _token(self, token: str | None) -> str | None:
        return self.resolve(token) if token else None
