"""``etl dataset secrets``: the secrets a dataset's pods read, and how to create them.

Lists each secret's name and where the dataset (or the profile) uses it, for the active profile's
secrets backend, with the commands that create them (``kubectl create secret generic ...`` for the
Kubernetes secret, ``az keyvault secret set ...`` for Key Vault), a ``...`` where each value goes.
Never a value. The command joins the ``etl dataset`` group (:mod:`etl.cli.dataset_cmd`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from etl.cli.options import ArgOption, DatasetOption, OutputOption, command_group
from etl.cli.output import OutputFormat, print_result, warn
from etl.cli.selection import load_selection
from etl.cli.state import active_profile

if TYPE_CHECKING:
    from etl.argo.pod_secrets import PodSecret, SecretStore

__all__ = ["app"]

app = command_group("What a dataset's pods need.")


@app.command()
def secrets(
    ctx: typer.Context,
    *,
    dataset: DatasetOption = Path("."),
    arg: ArgOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """List every secret the dataset's pods read (names, never values) and the commands that
    create them for the profile's secrets backend; -o json for CI."""
    from etl.argo.pod_secrets import (
        SecretStoreKind,
        keyvault_name_problem,
        pod_secrets,
        secret_store,
    )

    loaded, _ = load_selection(ctx, dataset, None, arg)
    profile = active_profile(ctx)
    needed = pod_secrets(profile, loaded.resolved_document())
    store = secret_store(profile, needed)
    if store.kind is SecretStoreKind.KEYVAULT:
        for secret in needed:
            problem = keyvault_name_problem(secret.name)
            if problem:
                warn(problem)
    if output is not OutputFormat.TABLE:
        print_result(_result(loaded.config.id, profile.name, needed, store), output)
        return
    _print_table(loaded.config.id, needed, store)


def _result(
    dataset_id: str, profile_name: str, needed: list[PodSecret], store: SecretStore
) -> dict[str, Any]:
    """The stable ``-o json`` shape."""
    return {
        "dataset": dataset_id,
        "profile": profile_name,
        "store": {
            "kind": store.kind.value,
            "name": store.name,
            "namespace": store.namespace,
            "commands": list(store.commands),
        },
        "secrets": [
            {"name": s.name, "env_var": s.env_var, "used_by": list(s.used_by)} for s in needed
        ],
    }


def _print_table(dataset_id: str, needed: list[PodSecret], store: SecretStore) -> None:
    from etl.argo.pod_secrets import SecretStoreKind

    if not needed:
        print(f"{dataset_id}: its pods read no secrets")
        return
    rows: list[dict[str, str]] = [
        {"name": s.name, "used by": ", ".join(s.used_by)}
        | ({"variable": s.env_var} if store.kind is SecretStoreKind.LOCAL else {})
        for s in needed
    ]
    print_result(rows, OutputFormat.TABLE)
    print()
    where = {
        SecretStoreKind.KUBERNETES_SECRET: f"keys of the Kubernetes secret {store.name} "
        f"(namespace {store.namespace})",
        SecretStoreKind.KEYVAULT: f"secrets of Key Vault {store.name}",
        SecretStoreKind.LOCAL: f"the variables above, or keys of {store.name} (mode 0600)",
    }[store.kind]
    print(f"The pods read them as {where}:" if store.commands else f"Set them as {where}.")
    for command in store.commands:
        print(f"  {command}")
