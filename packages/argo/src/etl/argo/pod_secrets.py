"""The secrets a dataset's pods read, and where each is used: ``etl dataset secrets`` and the compiler.

A pod needs every secret the dataset document refers to (``$<< secrets.NAME >>``, args applied),
those of the profile's ``notifications`` and the profile's ``pgstac.dsn_secret``. The compiler wires exactly these names into every container
(:mod:`etl.argo.compiling.pod_environment`), so a name missing from the profile's backend is a pod
that cannot start (Kubernetes secret) or a step that fails (Key Vault). Names only, never values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from etl.core.profiles.model import Profile, RunnerKind, SecretsBackend
from etl.core.secrets.local import default_secrets_file, secret_env_var
from etl.core.templating.secret_refs import find_secret_refs

__all__ = [
    "PGSTAC_DSN_SECRET_FIELD",
    "PROFILE_NOTIFICATIONS_FIELD",
    "PodSecret",
    "SecretStore",
    "SecretStoreKind",
    "document_secret_names",
    "keyvault_name_problem",
    "pod_secrets",
    "profile_secret_names",
    "secret_store",
]

PGSTAC_DSN_SECRET_FIELD = "profile pgstac.dsn_secret"
PROFILE_NOTIFICATIONS_FIELD = "profile notifications"
"""How a secret of the profile's ``notifications`` (a webhook's, a topic's key) is named as used."""


@dataclass(frozen=True)
class PodSecret:
    """One secret the pods read.

    Attributes:
        name: The secret's name: the key of the Kubernetes secret, the Key Vault secret's name.
        env_var: The ``ETL_SECRET_*`` variable the local backend reads it from.
        used_by: Where it is referred to: dataset fields (``environment.API_TOKEN``) and
            :data:`PGSTAC_DSN_SECRET_FIELD`, in document order.
    """

    name: str
    env_var: str
    used_by: tuple[str, ...]


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string inside ``value`` with its field path (``collections[0].asset_storage[0].token``)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _uses(document: Mapping[str, Any]) -> dict[str, list[str]]:
    uses: dict[str, list[str]] = {}
    for path, text in _strings(document, ""):
        for name in find_secret_refs(text):
            uses.setdefault(name, []).append(path)
    return uses


def _profile_notification_uses(profile: Profile) -> dict[str, list[str]]:
    targets = [target.model_dump(exclude_none=True) for target in profile.notifications or ()]
    return _uses({PROFILE_NOTIFICATIONS_FIELD: targets}) if targets else {}


def profile_secret_names(profile: Profile) -> list[str]:
    """The names of the secrets the profile's ``notifications`` refer to, first use first."""
    return list(_profile_notification_uses(profile))


def document_secret_names(document: Mapping[str, Any]) -> list[str]:
    """The names of the secrets ``document`` refers to (``$<< secrets.NAME >>``), first use first."""
    return list(_uses(document))


def pod_secrets(profile: Profile, document: Mapping[str, Any]) -> list[PodSecret]:
    """Every secret the pods of a workflow of ``document`` read under ``profile``, sorted by name.

    Args:
        profile: The active profile (its ``pgstac.dsn_secret``).
        document: The resolved dataset document (``LoadedDataset.resolved_document()``).
    """
    uses = _uses(document)
    for name, paths in _profile_notification_uses(profile).items():
        uses.setdefault(name, []).extend(paths)
    if profile.pgstac.dsn_secret:
        uses.setdefault(profile.pgstac.dsn_secret, []).append(PGSTAC_DSN_SECRET_FIELD)
    return [
        PodSecret(name=name, env_var=secret_env_var(name), used_by=tuple(paths))
        for name, paths in sorted(uses.items())
    ]


class SecretStoreKind(StrEnum):
    """Where the pods of a profile read their secrets from."""

    KUBERNETES_SECRET = "kubernetes-secret"
    KEYVAULT = "keyvault"
    LOCAL = "local"


@dataclass(frozen=True)
class SecretStore:
    """Where the secrets must be, and the commands that put them there (values left as ``...``).

    Attributes:
        kind: Which backend.
        name: The Kubernetes secret, the Key Vault URL, or the local secrets file.
        namespace: The Kubernetes namespace (``kubernetes-secret`` only).
        commands: Shell commands creating the secrets, a ``...`` where each value goes.
    """

    kind: SecretStoreKind
    name: str
    namespace: str | None
    commands: tuple[str, ...]


def secret_store(profile: Profile, secrets: Sequence[PodSecret]) -> SecretStore:
    """The store ``profile``'s pods read ``secrets`` from, with the commands that fill it."""
    if profile.secrets.backend is SecretsBackend.KEYVAULT:
        url = profile.secrets.vault_url or ""
        vault = urlsplit(url).hostname or "VAULT"
        commands = tuple(
            f"az keyvault secret set --vault-name {vault.split('.')[0]} --name {s.name} --value ..."
            for s in secrets
        )
        return SecretStore(SecretStoreKind.KEYVAULT, url, None, commands)
    if profile.runner is RunnerKind.LOCAL:
        file = profile.secrets.file or default_secrets_file(profile.name)
        return SecretStore(SecretStoreKind.LOCAL, str(file), None, ())
    name, namespace = profile.secrets.kubernetes_secret, profile.argo.namespace
    literals = "".join(f" --from-literal={s.name}=..." for s in secrets)
    commands = (
        (f"kubectl -n {namespace} create secret generic {name}{literals}",) if secrets else ()
    )
    return SecretStore(SecretStoreKind.KUBERNETES_SECRET, name, namespace, commands)


_KEYVAULT_NAME = re.compile(r"[0-9A-Za-z-]{1,127}")


def keyvault_name_problem(name: str) -> str | None:
    """Why Key Vault cannot hold a secret called ``name`` (letters, digits, ``-``), else ``None``."""
    if _KEYVAULT_NAME.fullmatch(name):
        return None
    return f"secret {name!r} cannot be stored in Key Vault: its names are 1-127 letters, digits and '-'"
