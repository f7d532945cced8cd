"""``etl dataset secrets``: every secret a dataset's pods read, for the profile's backend, run as a
user would. The names it lists are exactly those the rendered manifest wires; no value is shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from compile_cases import DATASETS_DIR
from etl_cli import create_argo_profile, run_etl
from etl_cli import etl_json as _secrets_json

GOES = str(DATASETS_DIR / "goes-glm")
GOES_SECRETS = ["glm-api-token", "goes-sas", "pgstac-dsn"]
VALUES = {"glm-api-token": "TOKEN-VALUE-1", "goes-sas": "sv=2024&sig=SAS-VALUE-2"}


def _create(name: str, *settings: str) -> None:
    create_argo_profile(name, "--set", "workflow.code_storage=blob://etlcode/bundles",
                        "--set", "pgstac.dsn_secret=pgstac-dsn", *settings)  # fmt: skip


def _secret_key_refs(manifest: dict[str, Any]) -> set[tuple[str, str]]:
    refs = set()
    for template in manifest["spec"]["templates"]:
        for var in template.get("container", {}).get("env", []):
            ref = var.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                refs.add((ref["name"], ref["key"]))
    return refs


def test_kubernetes_secret_keys_are_those_the_manifest_wires(config_dir: Path) -> None:
    _create("prod")
    data = _secrets_json("-p", "prod", "dataset", "secrets", "-d", GOES)
    assert [s["name"] for s in data["secrets"]] == GOES_SECRETS
    assert {s["name"]: s["used_by"] for s in data["secrets"]} == {
        "glm-api-token": ["environment.API_TOKEN"],
        "goes-sas": ["collections[0].asset_storage[0].token"],
        "pgstac-dsn": ["profile pgstac.dsn_secret"],
    }
    assert data["store"] == {
        "kind": "kubernetes-secret",
        "name": "etl-secrets",
        "namespace": "etl",
        "commands": [
            "kubectl -n etl create secret generic etl-secrets --from-literal=glm-api-token=... "
            "--from-literal=goes-sas=... --from-literal=pgstac-dsn=..."
        ],
    }
    rendered = run_etl("-p", "prod", "dataset", "render", "-d", GOES, "-o", "json")
    assert rendered.returncode == 0, rendered.stderr
    keys = {key for _, key in _secret_key_refs(json.loads(rendered.stdout))}
    assert keys == set(GOES_SECRETS)


def test_the_table_shows_the_kubectl_line_and_never_a_value(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _create("prod", "--set", "secrets.kubernetes_secret=etl-prod-secrets")
    for name, value in VALUES.items():
        monkeypatch.setenv(f"ETL_SECRET_{name.replace('-', '_').upper()}", value)
    secrets_file = config_dir / "profiles" / "prod.secrets.yaml"
    secrets_file.write_text(yaml.safe_dump({"pgstac-dsn": "postgresql://u:PW-VALUE-3@h/db"}))
    secrets_file.chmod(0o600)
    result = run_etl("-p", "prod", "dataset", "secrets", "-d", GOES)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "USED", "BY"]
    assert [line.split()[0] for line in lines[1:4]] == GOES_SECRETS
    assert lines[-2] == (
        "The pods read them as keys of the Kubernetes secret etl-prod-secrets (namespace etl):"
    )
    assert lines[-1].strip().startswith("kubectl -n etl create secret generic etl-prod-secrets ")
    for value in [*VALUES.values(), "PW-VALUE-3"]:
        assert value not in result.stdout + result.stderr


def test_key_vault_gets_one_az_line_per_secret_and_a_warning_for_a_bad_name(
    config_dir: Path, tmp_path: Path
) -> None:
    _create("kv", "--set", "secrets.backend=keyvault",
            "--set", "secrets.vault_url=https://etl-kv.vault.azure.net")  # fmt: skip
    folder = tmp_path / "ds"
    folder.mkdir()
    (folder / "dataset.yaml").write_text(
        "id: tokens\n"
        "image: example/etl:1\n"
        "environment:\n"
        "  API_KEY: key=$<< secrets.api_key >>\n"
        "collections:\n"
        "  - id: c1\n"
        "    class: etl.dataset:Collection\n"
        "    asset_storage: [{uri: 'blob://assets/scenes', chunks: {}}]\n"
        "    chunk_storage: {uri: 'blob://state/chunks'}\n"
    )
    result = run_etl("-p", "kv", "dataset", "secrets", "-d", str(folder), "-o", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["store"]["kind"] == "keyvault"
    assert data["store"]["name"] == "https://etl-kv.vault.azure.net"
    assert data["store"]["commands"] == [
        "az keyvault secret set --vault-name etl-kv --name api_key --value ...",
        "az keyvault secret set --vault-name etl-kv --name pgstac-dsn --value ...",
    ]
    assert result.stderr.strip() == (
        "warning: secret 'api_key' cannot be stored in Key Vault: its names are 1-127 letters, "
        "digits and '-'"
    )


def test_the_local_runner_reads_variables_or_the_secrets_file(config_dir: Path) -> None:
    data = _secrets_json("dataset", "secrets", "-d", GOES)
    assert data["profile"] == "local"
    assert data["store"] == {
        "kind": "local",
        "name": str(config_dir / "profiles" / "local.secrets.yaml"),
        "namespace": None,
        "commands": [],
    }
    assert [(s["name"], s["env_var"]) for s in data["secrets"]] == [
        ("glm-api-token", "ETL_SECRET_GLM_API_TOKEN"),
        ("goes-sas", "ETL_SECRET_GOES_SAS"),
    ]


def test_a_dataset_without_secrets_says_so(config_dir: Path) -> None:
    landsat = str(DATASETS_DIR / "landsat")
    result = run_etl("dataset", "secrets", "-d", landsat, "-a", "year=2024")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "landsat-c2: its pods read no secrets\n"


def test_a_missing_dataset_is_one_line_and_exit_2(config_dir: Path, tmp_path: Path) -> None:
    result = run_etl("dataset", "secrets", "-d", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""
