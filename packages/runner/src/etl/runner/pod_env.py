"""What a local pod's environment starts from: as little as a cluster pod's.

A local pod gets the container's ``env`` (set on top by :mod:`etl.runner.pods`) and only this:

- from the caller's environment, the allow-list :data:`PASSED_ON`: ``PATH``, ``HOME``,
  ``TMPDIR``, the locale (``LANG``, ``LC_*``), the proxies (``HTTP_PROXY``, ``HTTPS_PROXY``,
  ``NO_PROXY``, either case) and the CA bundles (``SSL_CERT_FILE``, ``SSL_CERT_DIR``,
  ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``); nothing else of it, so a variable a cluster pod
  would not see is not seen here either;
- what the local runner injects on purpose (:func:`injected`): ``ETL_CONFIG_DIR``, an empty folder
  (a pod has no profile files: it knows its profile from ``ETL_PROFILE_JSON`` only),
  ``ETL_STATE_DIR`` (the runner's, where a pod caches the bundles it fetches),
  ``ETL_PGSTAC_DSN`` (the DSN the caller's profile resolves to, unless the profile names a
  ``pgstac.dsn_secret``, which the manifest wires), ``ETL_LOCAL_STORAGE_CREDENTIALS`` (the keys of
  storage emulators, :mod:`etl.core.local_pods`), ``HOSTNAME`` (the pod's name cut to 63
  characters, as the kubelet sets it: :func:`pod_hostname`) and ``ARGO_NODE_ID`` (the pod's node
  id, as Argo's controller sets it, :data:`etl.core.pod_contract.NODE_ID_ENV`); :mod:`etl.runner.pods`
  sets these two per pod.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from etl.core.local_pods import emulator_credentials
from etl.core.pod_contract import (
    CONFIG_DIR_ENV,
    LOCAL_STORAGE_CREDENTIALS_ENV,
    PGSTAC_DSN_ENV,
    STATE_DIR_ENV,
)
from etl.core.profiles.local_dsn import with_libpq_env
from etl.core.profiles.local_services import local_pgstac_dsn
from etl.core.profiles.model import Profile

__all__ = [
    "HOSTNAME_LIMIT",
    "PASSED_ON",
    "PASSED_ON_PREFIXES",
    "injected",
    "passed_on",
    "pod_base_env",
    "pod_hostname",
]

PASSED_ON = frozenset(
    {
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
    }
)
"""The caller's variables a local pod sees."""
PASSED_ON_PREFIXES = ("LC_",)
HOSTNAME_LIMIT = 63
"""The longest host name the kubelet gives a pod (a longer pod name is cut)."""


def pod_hostname(pod_name: str) -> str:
    """The ``HOSTNAME`` a pod named ``pod_name`` sees on Kubernetes: the name cut to
    :data:`HOSTNAME_LIMIT` characters, with no ``-`` or ``.`` left at its end (the kubelet's
    ``truncatePodHostnameIfNeeded``)."""
    if len(pod_name) <= HOSTNAME_LIMIT:
        return pod_name
    return pod_name[:HOSTNAME_LIMIT].rstrip("-.")


def passed_on(env: Mapping[str, str]) -> dict[str, str]:
    """The allow-listed part of ``env``."""
    return {k: v for k, v in env.items() if k in PASSED_ON or k.startswith(PASSED_ON_PREFIXES)}


def injected(profile: Profile, env: Mapping[str, str], state_root: Path) -> dict[str, str]:
    """The variables the local runner gives every pod of ``profile`` on purpose."""
    pod_config = state_root / "pod-config"
    pod_config.mkdir(parents=True, exist_ok=True)
    out = {CONFIG_DIR_ENV: str(pod_config), STATE_DIR_ENV: str(state_root)}
    dsn = _pgstac_dsn(profile, env)
    if dsn:
        out[PGSTAC_DSN_ENV] = dsn
    credentials = emulator_credentials(profile)
    if credentials:
        out[LOCAL_STORAGE_CREDENTIALS_ENV] = json.dumps(credentials, sort_keys=True)
    return out


def pod_base_env(profile: Profile, env: Mapping[str, str], state_root: Path) -> dict[str, str]:
    """Every local pod's environment before its container's ``env``."""
    return passed_on(env) | injected(profile, env, state_root)


def _pgstac_dsn(profile: Profile, env: Mapping[str, str]) -> str | None:
    """The DSN a pod of ``profile`` is given; the built-in one takes libpq's ``PG*`` variables."""
    if profile.pgstac.dsn_secret or not profile.pgstac.dsn:
        return None
    if profile.pgstac.dsn != local_pgstac_dsn():
        return profile.pgstac.dsn
    return with_libpq_env(local_pgstac_dsn(), env)
