"""The manifests the compiler can produce for the test datasets, shared by the compiler tests.

``CASES`` spans every test and example dataset, every command, with and without ``--limit``/``--since``/
``--schedule``/``-c``, under an Argo profile with Kubernetes secrets and one with Key Vault.
``GOLDEN_CASES`` are the ones committed under ``tests/golden/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from etl.argo.compiling.workflow import compile_workflow
from etl.argo.options import RunRequest, WorkflowCommand
from etl.core.profiles.model import (
    ArgoSettings,
    PgstacSettings,
    Profile,
    RunnerKind,
    SecretsBackend,
    SecretsSettings,
    WorkflowDefaults,
)
from etl.core.run_options import parse_since
from etl.dataset.loader import LoadedDataset, load_dataset

ROOT = Path(__file__).resolve().parents[2]
DATASETS_DIR = Path(__file__).resolve().parents[1] / "compile_datasets"
DATASETS: dict[str, tuple[Path, dict[str, str]]] = {
    # the test datasets of the compiler tests
    "goes-glm": (DATASETS_DIR / "goes-glm", {}),
    "landsat": (DATASETS_DIR / "landsat", {"year": "2024"}),
    # the example datasets users start from
    "sample-sidecars": (ROOT / "datasets" / "sample-sidecars", {"root": "blob://samples/sidecars"}),
    "sentinel-2-l2a": (ROOT / "datasets" / "sentinel-2-l2a", {}),
}


def argo_profile(**changes: Any) -> Profile:
    """A production-like Argo profile: Kubernetes secrets, DSN from a secret, blob code storage."""
    profile = Profile(
        name="prod",
        runner=RunnerKind.ARGO,
        argo=ArgoSettings(
            server="https://argo.example.com:2746", namespace="etl", service_account="etl-workflow"
        ),
        pgstac=PgstacSettings(dsn_secret="pgstac-dsn"),
        workflow=WorkflowDefaults(
            image="ghcr.io/example/etl-task:latest",
            code_storage="blob://etlcode/bundles",
            parallelism=300,
            active_deadline_seconds=86400,
        ),
    )
    return profile.model_copy(update=changes)


def keyvault_profile() -> Profile:
    """The Argo profile with secrets in Key Vault (pods use workload identity)."""
    return argo_profile(
        name="kv",
        secrets=SecretsSettings(
            backend=SecretsBackend.KEYVAULT, vault_url="https://etl-kv.vault.azure.net"
        ),
    )


def dataset(name: str) -> LoadedDataset:
    """A test or example dataset, loaded with its arguments."""
    path, args = DATASETS[name]
    return load_dataset(path, args=args)


@dataclass(frozen=True)
class Case:
    """One compile: dataset, command, profile and options."""

    dataset: str
    command: WorkflowCommand
    profile: str = "argo"
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        opts = "-".join(f"{k}={v}" for k, v in sorted(self.options.items()))
        return f"{self.dataset}.{self.command.value}.{self.profile}" + (f".{opts}" if opts else "")

    def compile(self) -> dict[str, Any]:
        profile = argo_profile() if self.profile == "argo" else keyvault_profile()
        return compile_workflow(dataset(self.dataset), self.request(), profile)

    def request(self) -> RunRequest:
        """The case's run request (``since`` read as the CLI reads ``--since``)."""
        options = dict(self.options)
        if "since" in options:
            options["since"] = parse_since(options["since"])
        return RunRequest(self.command, **options)


_OPTION_SETS: list[dict[str, Any]] = [
    {},
    {"limit": 10},
    {"since": "2024-05-01T00:00:00Z"},
    {"since": "last-success"},
]


def _cases() -> list[Case]:
    cases = []
    for name in DATASETS:
        for profile in ("argo", "keyvault"):
            for command in WorkflowCommand:
                # ingest-collection refuses --limit and --since (tests/cli/test_render_options.py)
                option_sets = (
                    _OPTION_SETS[:1]
                    if command is WorkflowCommand.INGEST_COLLECTION
                    else _OPTION_SETS
                )
                cases += [Case(name, command, profile, options) for options in option_sets]
            cases.append(
                Case(name, WorkflowCommand.PROCESS_ITEMS, profile, {"schedule": "0 3 * * *"})
            )
            cases.append(
                Case(
                    name,
                    WorkflowCommand.PROCESS_ITEMS,
                    profile,
                    {"schedule": "@daily", "since": "last-success", "limit": 100},
                )
            )
    cases.append(
        Case("landsat", WorkflowCommand.PROCESS_ITEMS, "argo", {"collections": ["landsat-9"]})
    )
    return cases


CASES = _cases()
GOLDEN_CASES = {
    f"{name}.{command.value}": Case(name, command)
    for name in DATASETS
    for command in WorkflowCommand
} | {
    f"{name}.process-items.cron": Case(
        name,
        WorkflowCommand.PROCESS_ITEMS,
        options={"schedule": "0 3 * * *", "since": "last-success"},
    )
    for name in DATASETS
}
