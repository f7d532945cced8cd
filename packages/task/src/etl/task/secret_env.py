"""A pod whose secret key is missing fails at once, naming the key.

The compiler makes every ``secretKeyRef`` optional and lists those variables in
:data:`~etl.core.pod_contract.SECRET_ENV` (``VAR=SECRET/KEY,...``). Kubernetes starts a pod whose optional
key is missing with the variable unset (where a required key would keep it ``Pending`` in
``CreateContainerConfigError`` until the workflow's deadline); the local runner does the same. So
``etl-task`` checks them before anything else and fails permanently (exit 2, no retry).
"""

from __future__ import annotations

from collections.abc import Mapping

from etl.core.errors import SecretError
from etl.core.pod_contract import SECRET_ENV

__all__ = ["check_secret_env", "missing_secret_keys"]


def missing_secret_keys(env: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """``(variable, secret, key)`` of each variable :data:`SECRET_ENV` lists that ``env`` lacks."""
    found = []
    for pair in filter(None, env.get(SECRET_ENV, "").split(",")):
        var, _, source = pair.partition("=")
        secret, _, key = source.partition("/")
        if var not in env:
            found.append((var, secret, key))
    return found


def check_secret_env(env: Mapping[str, str]) -> None:
    """Fail when a variable that comes from a secret key is unset: the key is missing.

    Raises:
        SecretError: naming each missing key and how to find what the pods need.
    """
    missing = missing_secret_keys(env)
    if not missing:
        return
    keys = ", ".join(f"{secret}/{key} (for {var})" for var, secret, key in missing)
    raise SecretError(
        f"missing secret key {keys}: the pod's secret has no such key; create it"
        " (`etl dataset secrets -d DATASET` lists every key the pods need, and how to set it)"
    )
