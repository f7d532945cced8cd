"""A profile's resolved services: its secrets, its PgSTAC DSN and storage openers.

Both sides use them: ``etl-task`` in a pod (:class:`etl.task.environment.TaskEnvironment` adds
what a pod's bundle tells), and the application layer on this machine (``etl dataset plan |
status``, ``etl serve``) through :meth:`ProfileServices.for_profile`.

In a pod the compiler sets ``ETL_PROFILE_JSON`` (the profile without credentials, its secrets
backend and vault URL included) and, for the local backend, ``ETL_SECRET_<NAME>`` variables from
Kubernetes secret refs. Under the local runner the same variables are set and the pod sees no more
than on a cluster: not this machine's profile files, only what the runner injects on purpose
(the PgSTAC DSN, a storage emulator's keys: :mod:`etl.core.local_pods`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Self

from etl.core.errors import ProfileError
from etl.core.local_pods import with_injected_credentials
from etl.core.pod_contract import PGSTAC_DSN_ENV, PGSTAC_DSN_SECRET_ENV, PROFILE_JSON_ENV
from etl.core.profiles.local_dsn import with_libpq_env
from etl.core.profiles.local_services import local_pgstac_dsn
from etl.core.profiles.model import Profile
from etl.core.profiles.resolve import resolve_profile
from etl.core.storage.base import Storage
from etl.core.storage.opening import open_storage, open_storage_for
from etl.core.storage.refreshing import RefreshingStorage
from etl.core.templating.secret_refs import find_secret_refs, resolve_secret_refs

if TYPE_CHECKING:
    from etl.core.secrets.keyvault import KeyVaultSecrets
    from etl.core.secrets.local import LocalSecrets

__all__ = ["ProfileServices"]


@dataclass
class ProfileServices:
    """A profile's secrets, PgSTAC DSN and storage, read from environment variables (a pod's) or
    given a profile (:meth:`for_profile`, this machine's)."""

    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @classmethod
    def for_profile(cls, profile: Profile, env: Mapping[str, str] | None = None) -> Self:
        """The environment of a command run on this machine with ``profile`` (the CLI's): its
        storage credentials, secrets and PgSTAC DSN, as a task under the local runner sees them."""
        environment = cls(dict(os.environ) if env is None else env)
        environment.__dict__["profile"] = profile  # the cached_property's value
        return environment

    @cached_property
    def profile(self) -> Profile:
        """The profile the workflow was compiled with: in a pod ``ETL_PROFILE_JSON`` alone (plus the
        emulator keys the local runner injects), never this machine's profile files; by hand
        (no ``ETL_PROFILE_JSON``), the profile ``etl`` would use."""
        raw = self.env.get(PROFILE_JSON_ENV)
        if not raw:
            return resolve_profile(None, self.env)
        return with_injected_credentials(Profile.model_validate_json(raw), self.env)

    @cached_property
    def secrets(self) -> LocalSecrets | KeyVaultSecrets:
        """The profile's secret backend (in a pod: Key Vault, or ``ETL_SECRET_*`` variables)."""
        from etl.core.secrets.resolver import secret_resolver_for

        return secret_resolver_for(self.profile, env=self.env)

    def resolve(self, value: str) -> str:
        """``value`` with its ``$<< secrets.NAME >>`` references replaced by the secrets' values."""
        return resolve_secret_refs(value, self.secrets)

    def pgstac_dsn(self) -> str:
        """The PgSTAC DSN: ``ETL_PGSTAC_DSN``, or the secret ``ETL_PGSTAC_DSN_SECRET`` names, or
        the profile's ``pgstac.dsn``; the built-in default gives way to libpq's ``PG*`` variables."""
        if self.env.get(PGSTAC_DSN_ENV):
            return self.env[PGSTAC_DSN_ENV]
        secret_name = self.env.get(PGSTAC_DSN_SECRET_ENV) or self.profile.pgstac.dsn_secret
        if secret_name:
            return self.secrets.get(secret_name)
        if self.profile.pgstac.dsn == local_pgstac_dsn():
            return with_libpq_env(local_pgstac_dsn(), self.env)
        if self.profile.pgstac.dsn:
            return self.profile.pgstac.dsn
        raise ProfileError(
            f"profile {self.profile.name!r} names no PgSTAC database: set pgstac.dsn or "
            f"pgstac.dsn_secret, or {PGSTAC_DSN_ENV}"
        )

    def storage(self, uri: str, token: str | None = None) -> Storage:
        """Storage rooted at ``uri``; ``token`` (a SAS, maybe a secret reference) is resolved first.

        A token taken from secrets is fetched again when the storage refuses it (it expired).
        """
        return self._open(open_storage, uri, token)

    def storage_for(self, uri: str, token: str | None = None) -> Storage:
        """Storage able to read the object at full URI ``uri``."""
        return self._open(open_storage_for, uri, token)

    def _open(self, opener: Callable[..., Storage], uri: str, token: str | None) -> Storage:
        if not token or not find_secret_refs(token):
            return opener(uri, profile=self.profile, sas_token=token or None)

        def fresh() -> Storage:
            for name in find_secret_refs(token):
                self.secrets.forget(name)
            return opener(uri, profile=self.profile, sas_token=self.resolve(token))

        return RefreshingStorage(uri, fresh)
