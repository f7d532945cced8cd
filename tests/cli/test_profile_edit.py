"""Profiles that can be edited and cannot be half-made (issue 12, item 2), through ``etl``.

``etl profile create ux-dev --runner local`` used to write ``storage: {}``: a run with it spent
6 m 10 s retrying ``DefaultAzureCredential`` before it failed. One key could not be changed, and
``create --force`` silently dropped the Argo server, namespace and image of the profile it replaced.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from etl_cli import run_etl
from typer.testing import CliRunner

from etl.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "TOKEN-ux-7"
ARGO = ("--runner", "argo", "--argo-server", "https://argo.example.com:2746", "--namespace", "etl")
AZURITE = "devstoreaccount1"

runner = CliRunner()


def etl(*args: str) -> Any:
    return runner.invoke(app, list(args))


def shown(name: str) -> dict[str, Any]:
    result = etl("profile", "show", name, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def one_error(result: Any) -> str:
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture
def dev(config_dir: Path) -> Path:
    """An Argo profile with a server, a namespace, an image and a token."""
    result = etl("profile", "create", "dev", *ARGO, "--set", "workflow.image=ghcr.io/me/etl:1",
                 "--set", f"argo.token={TOKEN}")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return config_dir / "profiles" / "dev.yaml"


def test_edit_changes_only_the_keys_named(dev: Path) -> None:
    result = etl("profile", "edit", "dev", "--set", "argo.namespace=jobs",
                 "--set", "workflow.parallelism=4", "--unset", "workflow.image")  # fmt: skip

    assert result.exit_code == 0, result.stderr
    assert "edited profile 'dev'" in result.stderr
    assert "set argo.namespace, workflow.parallelism; unset workflow.image" in result.stderr
    profile = shown("dev")
    assert profile["argo"] == {"server": "https://argo.example.com:2746", "namespace": "jobs",
                               "token": "***", "verify_tls": True, "base_href": ""}  # fmt: skip
    assert profile["workflow"]["parallelism"] == 4
    assert "image" not in profile["workflow"]
    assert yaml.safe_load(dev.read_text())["argo"]["token"] == TOKEN
    assert os.stat(dev).st_mode & 0o777 == 0o600
    assert not [path.name for path in dev.parent.iterdir() if path.name.endswith(".tmp")]


def test_a_misspelt_key_is_one_located_line_with_a_suggestion(dev: Path) -> None:
    before = dev.read_text()

    misspelt = one_error(etl("profile", "edit", "dev", "--set", "argo.namespase=jobs"))
    unset = one_error(etl("profile", "edit", "dev", "--unset", "workflow.imgae"))
    secret = one_error(etl("profile", "edit", "dev", "--set", "storage.acct.kye=SECRET-ux-9"))

    assert misspelt.startswith("error: --set argo.namespase: unknown profile key")
    assert "did you mean 'argo.namespace'?" in misspelt
    assert unset.startswith("error: --unset workflow.imgae:")
    assert "did you mean 'workflow.image'?" in unset
    assert "did you mean 'storage.acct.key'?" in secret
    assert "SECRET-ux-9" not in secret
    assert dev.read_text() == before
    assert "no editor for profile 'dev'" in one_error(etl("profile", "edit", "dev"))
    assert "unknown profile 'deb' (did you mean 'dev'?)" in one_error(
        etl("profile", "edit", "deb", "--set", "argo.namespace=x")
    )


def test_editing_local_writes_overrides_and_unset_brings_the_built_in_back(
    config_dir: Path,
) -> None:
    file = config_dir / "profiles" / "local.yaml"

    assert etl("profile", "edit", "local", "--set", "workflow.image=img:2").exit_code == 0
    assert yaml.safe_load(file.read_text()) == {"workflow": {"image": "img:2"}}
    assert shown("local")["storage"][AZURITE]["key"] == "***"
    assert etl("profile", "edit", "local", "--unset", "workflow.image").exit_code == 0
    assert "image" not in shown("local")["workflow"]
    assert etl("profile", "edit", "local", "--unset", f"storage.{AZURITE}").exit_code == 0
    assert AZURITE in shown("local")["storage"]


def test_create_from_starts_from_that_profile(dev: Path) -> None:
    result = etl("profile", "create", "staging", "--from", "dev", "--set", "argo.namespace=stage")

    assert result.exit_code == 0, result.stderr
    staging = shown("staging")
    assert staging["runner"] == "argo"
    assert staging["argo"]["server"] == "https://argo.example.com:2746"
    assert staging["argo"]["namespace"] == "stage"
    assert staging["workflow"]["image"] == "ghcr.io/me/etl:1"
    assert shown("dev")["argo"]["namespace"] == "etl"
    from_local = etl("profile", "create", "mine", "--from", "local", "--runner", "argo")
    assert from_local.exit_code == 0, from_local.stderr
    assert shown("mine")["storage"] == shown("local")["storage"]
    assert "unknown profile 'nope'" in one_error(etl("profile", "create", "x", "--from", "nope"))


def test_a_new_local_runner_profile_gets_the_local_storage_and_pgstac(config_dir: Path) -> None:
    assert etl("profile", "create", "ux-dev", "--runner", "local").exit_code == 0
    assert etl("profile", "create", "plain").exit_code == 0
    assert etl("profile", "create", "remote", *ARGO).exit_code == 0

    local = shown("local")
    for name in ("ux-dev", "plain"):
        assert shown(name)["storage"] == local["storage"]
        assert shown(name)["pgstac"] == local["pgstac"]
    assert shown("remote")["storage"] == {}


def test_force_says_what_it_drops_without_secrets(dev: Path) -> None:
    result = etl("profile", "create", "dev", "--runner", "argo", "--force")

    assert result.exit_code == 0, result.stderr
    replacing = result.stderr.splitlines()[0]
    assert replacing.startswith("replacing profile 'dev': dropped ")
    for setting in ("argo.server=https://argo.example.com:2746", "argo.namespace=etl",
                    "workflow.image=ghcr.io/me/etl:1", "argo.token=***"):  # fmt: skip
        assert setting in replacing
    assert TOKEN not in result.stderr
    assert "runner=" not in replacing
    assert "etl profile edit dev" in one_error(etl("profile", "create", "dev"))


def test_an_azurite_endpoint_without_credential_is_flagged_at_edit(config_dir: Path) -> None:
    assert etl("profile", "create", "ux-dev").exit_code == 0

    result = etl("profile", "edit", "ux-dev", "--unset", f"storage.{AZURITE}.key")

    assert result.exit_code == 0, result.stderr
    warning = result.stderr.splitlines()[-1]
    assert warning.startswith(f"warning: profile 'ux-dev': storage.{AZURITE} has an http://")
    assert f"etl profile edit ux-dev --set storage.{AZURITE}.key=..." in warning


def process_items(
    profile: str, container: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return run_etl("-p", profile, "dataset", "process-items", "-d", "datasets/sample-sidecars",
                   "-a", f"root=blob://{AZURITE}/{container}", "--submit", env=env)  # fmt: skip


@pytest.mark.postgres
def test_a_run_with_a_new_local_profile_succeeds_in_seconds(
    env: dict[str, str], azurite_container: str
) -> None:
    generate = [str(ROOT / ".venv" / "bin" / "python"), "datasets/sample-sidecars/generate.py",
                "--count", "20", f"blob://{AZURITE}/{azurite_container}/assets"]  # fmt: skip
    subprocess.run(generate, env=env, cwd=ROOT, check=True, capture_output=True)
    assert etl("profile", "create", "ux-dev", "--runner", "local").exit_code == 0

    result = process_items("ux-dev", azurite_container, env)

    assert result.returncode == 0, result.stderr
    assert "items=20" in result.stderr


@pytest.mark.parametrize("make", [
    (["create", "ux-dev", "--runner", "argo"], ["edit", "ux-dev", "--set", "runner=local"]),
    (["create", "ux-dev"], ["edit", "ux-dev", "--unset", f"storage.{AZURITE}.key"]),
])  # fmt: skip
def test_a_run_with_no_credential_that_can_work_is_refused_before_it_starts(
    config_dir: Path, make: tuple[list[str], list[str]]
) -> None:
    for args in make:
        assert etl("profile", *args).exit_code == 0
    env = dict(os.environ, CI="true")

    result = process_items("ux-dev", "anything", env)

    assert result.returncode == 2
    assert result.stdout == ""
    error = result.stderr.strip()
    assert len(error.splitlines()) == 1, result.stderr
    assert error.startswith("error: profile 'ux-dev' has no ")
    assert f"'{AZURITE}'" in error
    assert "etl profile edit ux-dev --set storage.devstoreaccount1." in error
    assert not (Path(env["ETL_STATE_DIR"]) / "runs").exists()
