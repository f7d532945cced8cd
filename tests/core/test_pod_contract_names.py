"""Every name of the pod contract is spelled once, in its module, and the docs are made from it.

- No ``ETL_*`` variable name and no ``etl.dev/`` label key is written as a string in library code
  outside ``etl.core.pod_contract`` (what pods see) and ``etl.core.env_names`` (what ``etl`` alone
  reads); each is defined once there.
- Every variable ``etl dataset render`` writes into a pod is one of the contract's (or the
  dataset's own ``environment``); a Key Vault pod learns its vault from ``ETL_PROFILE_JSON``.
- ``etl dataset status`` hashes label values without importing Hera or the compiler.
- docs/internals.md's pod-environment table is the contract's, and a stale one is reported.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from etl_cli import run_etl, run_etl_imports

from etl.cli.pod_environment_docs import REFERENCE
from etl.core.pod_contract import POD_ENVIRONMENT, PROFILE_JSON_ENV, SECRET_ENV_PREFIX
from etl.core.profile_services import ProfileServices
from etl.core.secrets.keyvault import KeyVaultSecrets

ROOT = Path(__file__).resolve().parents[2]
NAME_HOMES = {
    ROOT / "packages/core/src/etl/core/pod_contract.py",
    ROOT / "packages/core/src/etl/core/env_names.py",
}
"""The only modules that may spell an ``ETL_*`` name or an ``etl.dev/`` label key."""
CONTRACT_NAME = re.compile(r"\bETL_[A-Z][A-Z0-9_]*|\betl\.dev/[a-z-]*")
GOES = ROOT / "tests" / "compile_datasets" / "goes-glm"
GOES_ENVIRONMENT = {"GDAL_HTTP_MAX_RETRY", "API_TOKEN"}
"""The ``environment`` of the goes-glm dataset: the pod gets them as they are."""
VAULT_URL = "https://etl-kv.vault.azure.net"
SAMPLE = ROOT / "datasets" / "sample-sidecars"


def _docstrings(tree: ast.Module) -> set[int]:
    """The ids of the string constants that are docstrings (modules, classes, functions and the
    attribute docstrings that follow an assignment): prose, not a spelling of a name."""
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            found |= {id(s.value) for s in body[:1] if isinstance(s, ast.Expr)}
        for before, statement in itertools.pairwise(body):
            if isinstance(before, ast.Assign | ast.AnnAssign) and isinstance(statement, ast.Expr):
                found.add(id(statement.value))
    return found


def _spelled(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, name)`` of every contract name a string constant of ``path`` spells."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    prose = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            for name in CONTRACT_NAME.findall(node.value):
                yield node.lineno, name


def _library_modules() -> list[Path]:
    return sorted(ROOT.glob("packages/*/src/etl/**/*.py"))


def test_no_contract_name_is_spelled_outside_its_module() -> None:
    spelled = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in _library_modules()
        if path not in NAME_HOMES
        for line, name in _spelled(path)
    ]
    assert spelled == [], "name it from etl.core.pod_contract or etl.core.env_names:\n" + "\n".join(
        spelled
    )


def test_every_name_is_defined_once() -> None:
    defined = [name for path in sorted(NAME_HOMES) for _, name in _spelled(path)]
    assert len(defined) > 20  # the scan sees the definitions
    assert sorted({n for n in defined if defined.count(n) > 1}) == []


def _profile(name: str, *settings: str) -> None:
    created = run_etl("profile", "create", name, "--runner", "argo",
                      "--argo-server", "https://argo.example.com", "--namespace", "etl",
                      "--set", "workflow.image=example/etl:1",
                      "--set", "workflow.code_storage=blob://etlcode/bundles",
                      "--set", "pgstac.dsn_secret=pgstac-dsn", *settings)  # fmt: skip
    assert created.returncode == 0, created.stderr


def _pod_envs(profile: str) -> list[list[dict[str, Any]]]:
    result = run_etl("-p", profile, "dataset", "render", "-d", str(GOES), "-o", "json")
    assert result.returncode == 0, result.stderr
    templates = json.loads(result.stdout)["spec"]["templates"]
    return [t["container"].get("env", []) for t in templates if "container" in t]


def _is_contract_variable(name: str) -> bool:
    contract = {variable.name for variable in POD_ENVIRONMENT}
    return name in contract or name.startswith(SECRET_ENV_PREFIX)


@pytest.mark.parametrize(
    "settings",
    [(), ("--set", "secrets.backend=keyvault", "--set", f"secrets.vault_url={VAULT_URL}")],
    ids=["kubernetes-secrets", "key-vault"],
)
def test_every_variable_a_pod_gets_is_the_contracts(
    config_dir: Path, settings: tuple[str, ...]
) -> None:
    _profile("prod", *settings)
    envs = _pod_envs("prod")
    assert envs
    for env in envs:
        names = {variable["name"] for variable in env}
        assert names >= GOES_ENVIRONMENT
        assert sorted(n for n in names - GOES_ENVIRONMENT if not _is_contract_variable(n)) == []


def test_a_key_vault_pod_finds_its_vault_in_the_pod_profile(config_dir: Path) -> None:
    _profile("kv", "--set", "secrets.backend=keyvault", "--set", f"secrets.vault_url={VAULT_URL}")
    for env in _pod_envs("kv"):
        assert all("value" in variable for variable in env)  # no secret key is wired
        # what etl-task reads in the pod: its secrets backend comes from ETL_PROFILE_JSON alone
        pod = {variable["name"]: variable["value"] for variable in env}
        secrets = ProfileServices({PROFILE_JSON_ENV: pod[PROFILE_JSON_ENV]}).secrets
        assert isinstance(secrets, KeyVaultSecrets)
        assert secrets.vault_url == VAULT_URL


@pytest.mark.postgres
def test_dataset_status_imports_neither_hera_nor_the_compiler(
    env: dict[str, str], tmp_path: Path
) -> None:
    # the status of a dataset looks its runs up by their labels: the label hashing is the contract's
    result, imported = run_etl_imports(
        "dataset", "status", "-d", str(SAMPLE), "-a", f"root={tmp_path}", env=env
    )
    assert result.returncode == 0, result.stderr
    assert "etl.runner.active_runs" in imported  # the run lookup was imported
    assert [m for m in imported if m.split(".")[0] == "hera"] == []
    assert [m for m in imported if m.startswith("etl.argo.compiling")] == []


def test_the_pod_environment_table_of_the_docs_is_the_contracts(tmp_path: Path) -> None:
    text = (ROOT / REFERENCE.path).read_text(encoding="utf-8")
    assert REFERENCE.splice(text) == text, "docs/internals.md is stale: run scripts/gen_docs"
    for variable in POD_ENVIRONMENT:
        assert f"| `{variable.name}` |" in text
    # a table that misses a variable is stale: scripts/gen_docs --check fails on it
    stale = tmp_path / REFERENCE.path
    stale.parent.mkdir(parents=True)
    row = next(line for line in text.splitlines() if line.startswith("| `ETL_RESOLVE_ENV` |"))
    stale.write_text(text.replace(row + "\n", ""), encoding="utf-8")
    assert not REFERENCE.update(tmp_path, check=True)
    assert not REFERENCE.update(tmp_path)  # rewritten
    assert stale.read_text(encoding="utf-8") == text
