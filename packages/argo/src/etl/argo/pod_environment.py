"""What a workflow's pods learn from the profile: environment variables and pod labels.

Secrets reach pods only as references, never as values:

- ``local`` secrets backend: each secret NAME the dataset refers to becomes an env var
  ``ETL_SECRET_<NAME>`` (upper-cased, ``-``/``.`` → ``_``) whose value comes from a Kubernetes
  ``secretKeyRef`` (the profile's ``secrets.kubernetes_secret``, default ``etl-secrets``, key NAME). ``etl-task``'s local backend reads
  exactly those variables, so the pod resolves ``$<< secrets.NAME >>`` with no code of its own.
- ``keyvault`` backend: ``ETL_SECRETS_BACKEND=keyvault`` and ``ETL_KEYVAULT_URL``; the pod reads Key
  Vault itself with its workload identity (pods get the ``azure.workload.identity/use`` label).

The PgSTAC DSN follows the same road: ``pgstac.dsn_secret`` names a secret (wired as above) and is
passed as ``ETL_PGSTAC_DSN_SECRET``; a plain ``pgstac.dsn`` is passed as ``ETL_PGSTAC_DSN`` only when
it carries no password (the built-in ``local`` profile's), otherwise compiling fails.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from etl.core.errors import ProfileError
from etl.core.profiles.model import Profile, SecretsBackend, is_secret_field
from etl.core.profiles.redaction import redact_dsn
from etl.core.secrets import secret_env_var

__all__ = [
    "WORKLOAD_IDENTITY_LABEL",
    "pod_env",
    "pod_labels",
]

WORKLOAD_IDENTITY_LABEL = "azure.workload.identity/use"


def _uses_keyvault(profile: Profile) -> bool:
    return profile.secrets.backend is SecretsBackend.KEYVAULT


def pod_labels(profile: Profile) -> dict[str, str]:
    """Labels every pod carries because of the profile (workload identity for Key Vault)."""
    return {WORKLOAD_IDENTITY_LABEL: "true"} if _uses_keyvault(profile) else {}


def _pod_profile_json(profile: Profile) -> str:
    """The profile as the pod sees it: every credential field removed."""
    data: dict[str, Any] = profile.model_dump(mode="json", exclude_none=True)
    data.get("pgstac", {}).pop("dsn", None)
    for account in data.get("storage", {}).values():
        for field in list(account):
            if is_secret_field(f"storage.x.{field}"):
                del account[field]
    data.get("argo", {}).pop("token", None)
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _pgstac_env(models: ModuleType, profile: Profile) -> tuple[list[Any], list[str]]:
    """Env vars for the PgSTAC DSN, and the secret names they need wired."""
    if profile.pgstac.dsn_secret:
        name = profile.pgstac.dsn_secret
        return [models.EnvVar(name="ETL_PGSTAC_DSN_SECRET", value=name)], [name]
    dsn = profile.pgstac.dsn
    if not dsn:
        return [], []
    if redact_dsn(dsn) != dsn:
        raise ProfileError(
            f"profile {profile.name!r}: pgstac.dsn holds a password, which would be written into the "
            "workflow manifest; store the DSN as a secret and set pgstac.dsn_secret to its name"
        )
    return [models.EnvVar(name="ETL_PGSTAC_DSN", value=dsn)], []


def pod_env(models: ModuleType, profile: Profile, secret_names: Iterable[str]) -> list[Any]:
    """The environment of every ``etl-task`` container (Hera ``EnvVar`` models), in a stable order.

    Args:
        models: ``hera.workflows.models``.
        profile: The active profile.
        secret_names: Names of the secrets the dataset document refers to.

    Raises:
        ProfileError: ``pgstac.dsn`` holds a password, or Key Vault is chosen without a vault URL.
    """
    env = [models.EnvVar(name="ETL_PROFILE_JSON", value=_pod_profile_json(profile))]
    pgstac_env, pgstac_secrets = _pgstac_env(models, profile)
    env += pgstac_env
    names = list(dict.fromkeys([*secret_names, *pgstac_secrets]))
    if _uses_keyvault(profile):
        if not profile.secrets.vault_url:
            raise ProfileError(
                f"profile {profile.name!r}: secrets.backend is keyvault but secrets.vault_url is unset"
            )
        return [
            *env,
            models.EnvVar(name="ETL_SECRETS_BACKEND", value="keyvault"),
            models.EnvVar(name="ETL_KEYVAULT_URL", value=profile.secrets.vault_url),
        ]
    return env + [
        models.EnvVar(
            name=secret_env_var(name),
            value_from=models.EnvVarSource(
                secret_key_ref=models.SecretKeySelector(
                    name=profile.secrets.kubernetes_secret, key=name
                )
            ),
        )
        for name in sorted(names)
    ]
