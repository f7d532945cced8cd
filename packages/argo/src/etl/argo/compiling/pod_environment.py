"""What a workflow's pods learn from the profile: environment variables and pod labels.

Secrets reach pods only as references, never as values:

- ``local`` secrets backend: each secret NAME the dataset refers to becomes an env var
  ``ETL_SECRET_<NAME>`` (upper-cased, ``-``/``.`` → ``_``) whose value comes from a Kubernetes
  ``secretKeyRef`` (the profile's ``secrets.kubernetes_secret``, default ``etl-secrets``, key
  NAME). ``etl-task``'s local backend reads exactly those variables, so the pod resolves
  ``$<< secrets.NAME >>`` with no code of its own.
- ``keyvault`` backend: no variable; the pod profile of ``ETL_PROFILE_JSON`` names the backend and
  ``secrets.vault_url``, and the pod reads Key Vault itself with its workload identity.

Every variable's name is :mod:`etl.core.pod_contract`'s (its ``POD_ENVIRONMENT`` is the table of
``docs/internals.md``).

Pods that authenticate with Azure AD get the ``azure.workload.identity/use`` label, without which
the AKS webhook gives them no identity (:func:`pod_labels`): on Key Vault, and whenever they reach a
``blob://`` storage (or ``queue://``) without a SAS token from the dataset. On Argo that is every such storage, since
the profile's keys, SAS tokens and connection strings never reach a pod.

The PgSTAC DSN follows the same road: ``pgstac.dsn_secret`` names a secret (wired as above) and is
passed as ``ETL_PGSTAC_DSN_SECRET``. On an Argo profile a plain ``pgstac.dsn`` is passed as
``ETL_PGSTAC_DSN`` only when it carries no password, otherwise compiling fails. On a ``local``-runner
profile a plain DSN is never written: the local runner injects the DSN the caller's profile
resolves to (``ETL_PGSTAC_DSN``, libpq's ``PG*`` variables folded in) at run time
(:mod:`etl.runner.pod_env`).

A dataset's ``environment`` values become container variables (:func:`_dataset_env`). A value that
is exactly one ``$<< secrets.NAME >>`` reference is, on the local backend, a ``secretKeyRef``
(``secrets.kubernetes_secret``, key NAME); any other value holding references (and every one on
Key Vault) is written as it is and named in ``ETL_RESOLVE_ENV``, which ``etl-task`` resolves
before it imports user code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from etl.argo.compiling.models import EnvVar, EnvVarSource, SecretKeySelector
from etl.argo.pod_secrets import document_secret_names, profile_secret_names
from etl.core.errors import ProfileError
from etl.core.pod_contract import (
    PGSTAC_DSN_ENV,
    PGSTAC_DSN_SECRET_ENV,
    PROFILE_JSON_ENV,
    RESOLVE_ENV,
    SECRET_ENV,
    WORKLOAD_IDENTITY_LABEL,
)
from etl.core.profiles.model import (
    Profile,
    RunnerKind,
    SecretsBackend,
    StorageTimeouts,
    is_secret_field,
)
from etl.core.profiles.redaction import redact_dsn
from etl.core.secrets.local import secret_env_var
from etl.core.storage.urls import blob_endpoint
from etl.core.templating.secret_refs import find_secret_refs

__all__ = [
    "document_secret_names",
    "pod_env",
    "pod_labels",
    "uses_azure_ad",
]

_ACCOUNT_SCHEMES = ("blob://", "queue://")
"""URIs whose first segment is a storage account, reached with its ``storage.ACCOUNT`` credential."""
_WHOLE_SECRET_REF = re.compile(r"\$<<\s*secrets\.(?P<name>[A-Za-z0-9_][A-Za-z0-9_.-]*?)\s*>>")


def _uses_keyvault(profile: Profile) -> bool:
    return profile.secrets.backend is SecretsBackend.KEYVAULT


def _reaches_with_azure_ad(profile: Profile, uri: str, sas_given: bool) -> bool:
    """Whether a pod reaches ``uri`` with ``DefaultAzureCredential``."""
    scheme = next((scheme for scheme in _ACCOUNT_SCHEMES if uri.startswith(scheme)), None)
    if scheme is None or sas_given:
        return False
    if profile.runner is not RunnerKind.LOCAL:
        return True  # the pod profile holds no key, SAS or connection string
    settings = profile.storage.get(uri[len(scheme) :].split("/", 1)[0])
    return not (settings and (settings.connection_string or settings.key or settings.sas))


def uses_azure_ad(profile: Profile, storage_uris: Iterable[tuple[str, bool]]) -> bool:
    """Whether the pods authenticate with Azure AD: Key Vault, or a storage reached without a key.

    Args:
        profile: The active profile.
        storage_uris: ``(uri, sas_given)`` of every storage the pods read or write.
    """
    return _uses_keyvault(profile) or any(
        _reaches_with_azure_ad(profile, uri, sas_given) for uri, sas_given in storage_uris
    )


def pod_labels(profile: Profile, storage_uris: Iterable[tuple[str, bool]]) -> dict[str, str]:
    """Labels every pod carries because of how it authenticates (workload identity for Azure AD)."""
    return {WORKLOAD_IDENTITY_LABEL: "true"} if uses_azure_ad(profile, storage_uris) else {}


def _pod_profile_json(profile: Profile) -> str:
    """The profile as the pod sees it: every credential field removed, every storage account's
    blob endpoint kept as its ``account_url`` (that of a connection string too), for item hrefs."""
    data: dict[str, Any] = profile.model_dump(mode="json", exclude_none=True)
    data.get("pgstac", {}).pop("dsn", None)
    for name, account in data.get("storage", {}).items():
        account.setdefault("account_url", blob_endpoint(name, profile))
        for field in list(account):
            if is_secret_field(f"storage.x.{field}"):
                del account[field]
    data.get("argo", {}).pop("token", None)
    data.pop("local", None)  # how this machine starts pods: the same manifest for either executor
    data.pop("kubernetes", None)  # how this machine reaches the cluster's API: no pod's business
    data.pop("stream", None)  # what KEDA is told; a consumer pod's share comes as its flags
    if profile.storage_timeouts == StorageTimeouts():
        data.pop("storage_timeouts")  # the pods' defaults: manifests name only what a user set
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _pgstac_env(profile: Profile) -> tuple[list[EnvVar], list[str]]:
    """Env vars for the PgSTAC DSN, and the secret names they need wired."""
    if profile.pgstac.dsn_secret:
        name = profile.pgstac.dsn_secret
        return [EnvVar(name=PGSTAC_DSN_SECRET_ENV, value=name)], [name]
    dsn = profile.pgstac.dsn
    if not dsn or profile.runner is RunnerKind.LOCAL:
        return [], []
    if redact_dsn(dsn) != dsn:
        raise ProfileError(
            f"profile {profile.name!r}: pgstac.dsn holds a password, which would be written into the "
            "workflow manifest; store the DSN as a secret and set pgstac.dsn_secret to its name "
            f"(etl profile edit {profile.name} --set pgstac.dsn_secret=NAME)"
        )
    return [EnvVar(name=PGSTAC_DSN_ENV, value=dsn)], []


def pod_env(
    profile: Profile, secret_names: Iterable[str], environment: Mapping[str, str] | None = None
) -> list[EnvVar]:
    """The environment of every ``etl-task`` container, in a stable order.

    Args:
        profile: The active profile.
        secret_names: Names of the secrets the dataset document refers to.
        environment: The dataset's ``environment`` (:func:`_dataset_env`).

    Raises:
        ProfileError: ``pgstac.dsn`` holds a password, or Key Vault is chosen without a vault URL.
    """
    env = [EnvVar(name=PROFILE_JSON_ENV, value=_pod_profile_json(profile))]
    pgstac_env, pgstac_secrets = _pgstac_env(profile)
    env += pgstac_env
    names = list(dict.fromkeys([*secret_names, *profile_secret_names(profile), *pgstac_secrets]))
    if _uses_keyvault(profile):
        if not profile.secrets.vault_url:
            raise ProfileError(
                f"profile {profile.name!r}: secrets.backend is keyvault but secrets.vault_url is unset"
            )
    else:
        env += [_secret_key_ref(profile, secret_env_var(name), name) for name in sorted(names)]
    env += _dataset_env(profile, environment or {})
    return env + _secret_check(env)


def _secret_key_ref(profile: Profile, name: str, key: str) -> EnvVar:
    """``name`` from ``key`` of the profile's Kubernetes secret; optional, so that a missing key
    fails ``etl-task`` at once, naming it (:data:`~etl.core.pod_contract.SECRET_ENV`), where
    Kubernetes would hold the pod in ``CreateContainerConfigError`` until a deadline."""
    return EnvVar(
        name=name,
        value_from=EnvVarSource(
            secret_key_ref=SecretKeySelector(
                name=profile.secrets.kubernetes_secret, key=key, optional=True
            )
        ),
    )


def _secret_check(env: list[EnvVar]) -> list[EnvVar]:
    """The variable that tells ``etl-task`` which of ``env`` come from secret keys, and which."""
    refs = [(var.name, var.value_from.secret_key_ref) for var in env if var.value_from is not None]
    pairs = [f"{name}={ref.name}/{ref.key}" for name, ref in refs if ref is not None]
    return [EnvVar(name=SECRET_ENV, value=",".join(pairs))] if pairs else []


def _dataset_env(profile: Profile, environment: Mapping[str, str]) -> list[EnvVar]:
    """The dataset's ``environment`` as container variables, secret references never resolved.

    On the local backend a value that is exactly one reference comes from a ``secretKeyRef``;
    other values with references are written as they are and listed in ``ETL_RESOLVE_ENV``.
    """
    env: list[EnvVar] = []
    to_resolve: list[str] = []
    for name, value in sorted(environment.items()):
        refs = find_secret_refs(value)
        whole = _WHOLE_SECRET_REF.fullmatch(value)
        if whole and not _uses_keyvault(profile):
            env.append(_secret_key_ref(profile, name, whole["name"]))
            continue
        env.append(EnvVar(name=name, value=value))
        if refs:
            to_resolve.append(name)
    if to_resolve:
        env.append(EnvVar(name=RESOLVE_ENV, value=",".join(to_resolve)))
    return env
