"""Pods that authenticate with Azure AD carry the workload-identity label, whatever the secrets
backend: the AKS webhook gives an identity to labelled pods only. Rendered through ``etl``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from compile_cases import DATASETS_DIR
from etl_cli import create_argo_profile
from etl_cli import etl_json as _render

LABEL = "azure.workload.identity/use"
GOES = str(DATASETS_DIR / "goes-glm")


def _create_argo(name: str, *settings: str) -> None:
    create_argo_profile(name, "--set", "argo.service_account=etl-workflow", *settings)


def _pod_labels(manifest: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = manifest["spec"]["podMetadata"]["labels"]
    return labels


def _dataset(folder: Path, chunk_storage: str) -> str:
    """A dataset whose assets are read with a SAS token; its chunk storage as given."""
    folder.mkdir()
    (folder / "dataset.yaml").write_text(
        "id: sas-only\n"
        "image: example/etl:1\n"
        "collections:\n"
        "  - id: c1\n"
        "    class: etl.dataset:Collection\n"
        "    asset_storage:\n"
        "      - {uri: 'blob://assets/scenes', token: '$<< secrets.assets-sas >>', chunks: {}}\n"
        f"    chunk_storage: {chunk_storage}\n"
    )
    return str(folder)


def test_kubernetes_secrets_with_blob_storage_get_the_identity(config_dir: Path) -> None:
    _create_argo("prod", "--set", "workflow.code_storage=blob://etlcode/bundles",
                 "--set", "pgstac.dsn_secret=pgstac-dsn")  # fmt: skip
    manifest = _render("-p", "prod", "dataset", "render", "-d", GOES)
    assert _pod_labels(manifest)[LABEL] == "true"
    assert manifest["spec"]["serviceAccountName"] == "etl-workflow"
    cron = _render("-p", "prod", "dataset", "render", "-d", GOES, "--schedule", "@daily")
    assert cron["spec"]["workflowSpec"]["podMetadata"]["labels"][LABEL] == "true"
    ingest = _render("-p", "prod", "ingest", "items", "blob://etlstate/items/a.ndjson", "-c", "x")
    assert _pod_labels(ingest)[LABEL] == "true"


def test_a_profile_key_does_not_reach_the_pods_so_the_identity_is_still_needed(
    config_dir: Path, tmp_path: Path
) -> None:
    _create_argo("prod", "--set", f"workflow.code_storage=file://{tmp_path}/bundles",
                 "--set", "storage.state.account_url=https://state.blob.core.windows.net",
                 "--set", "storage.state.key=c2VjcmV0")  # fmt: skip
    with_sas = _dataset(tmp_path / "a", "{uri: 'blob://state/chunks', token: 'sv=1&sig=x'}")
    assert LABEL not in _pod_labels(_render("-p", "prod", "dataset", "render", "-d", with_sas))
    keyed = _dataset(tmp_path / "b", "{uri: 'blob://state/chunks'}")
    manifest = _render("-p", "prod", "dataset", "render", "-d", keyed)
    assert _pod_labels(manifest)[LABEL] == "true"
    assert "c2VjcmV0" not in json.dumps(manifest)


def test_the_local_runner_uses_the_profile_key(config_dir: Path, tmp_path: Path) -> None:
    azurite = _dataset(tmp_path / "a", "{uri: 'blob://devstoreaccount1/state/c1'}")
    assert LABEL not in _pod_labels(_render("dataset", "render", "-d", azurite))
    elsewhere = _dataset(tmp_path / "b", "{uri: 'blob://otheraccount/state/c1'}")
    assert _pod_labels(_render("dataset", "render", "-d", elsewhere))[LABEL] == "true"
