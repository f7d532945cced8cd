"""What the local runner gives its pods on purpose, beyond the manifest: the emulator's keys.

A pod on a cluster sees no key, SAS or connection string of the profile: it reaches blob storage
with its workload identity. No identity reaches a storage emulator (Azurite, on a plain
``http://`` endpoint), so the local runner passes the credentials of those accounts, and of no
other, in ``ETL_LOCAL_STORAGE_CREDENTIALS`` (JSON: account → credential fields), which
``etl-task`` lays over the pod profile of ``ETL_PROFILE_JSON``. ``docs/argo.md`` lists every
variable a local pod gets ("Argo semantics and the local runner").
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from etl.core.pod_contract import LOCAL_STORAGE_CREDENTIALS_ENV
from etl.core.profiles.model import Profile, is_secret_field
from etl.core.storage.urls import blob_endpoint

__all__ = ["emulator_credentials", "with_injected_credentials"]


def emulator_credentials(profile: Profile) -> dict[str, dict[str, str]]:
    """The credential fields of ``profile``'s accounts on a plain-HTTP (emulator) endpoint."""
    found: dict[str, dict[str, str]] = {}
    for name, account in profile.storage.items():
        if not blob_endpoint(name, profile).startswith("http://"):
            continue
        fields = account.model_dump(exclude_none=True)
        secret = {k: v for k, v in fields.items() if is_secret_field(f"storage.{name}.{k}")}
        if secret:
            found[name] = secret
    return found


def with_injected_credentials(profile: Profile, env: Mapping[str, str]) -> Profile:
    """``profile`` with the credentials ``env``'s ``ETL_LOCAL_STORAGE_CREDENTIALS`` gives."""
    raw = env.get(LOCAL_STORAGE_CREDENTIALS_ENV)
    if not raw:
        return profile
    data = profile.model_dump(mode="json", exclude_none=True)
    storage = data.setdefault("storage", {})
    for name, fields in json.loads(raw).items():
        storage.setdefault(name, {}).update(fields)
    return Profile.model_validate(data)
