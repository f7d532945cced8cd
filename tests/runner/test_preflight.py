"""One preflight before a local ``--submit``, and ``etl profile check`` (issue 22, finding 13).

A service that was not listening used to be learned after minutes of retries (Azurite not running:
4 m 18 s; a DSN with a wrong port: 1 m 47 s); a secret missing from the local backend only in a
pod, in Kubernetes' words (``etl-secrets/...``), and a secrets file at mode 0644 or with broken
YAML as a missing key. Now every problem is listed in one line before anything runs: exit 2 for a
configuration problem, exit 1 for a service not reachable; no run is recorded.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import sidecar_dataset as e2e
from argo_server import TOKEN, ArgoServerStandIn
from etl_cli import run_etl, run_etl_imports

ENVIRONMENT = "environment:\n  API_TOKEN: $<< secrets.api-token >>\n"


def free_port() -> int:
    """A port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def with_secret(data: e2e.Dataset) -> e2e.Dataset:
    """The dataset's pods read secret ``api-token`` (as ``API_TOKEN``)."""
    path = data.folder / "dataset.yaml"
    path.write_text(path.read_text().replace("collections:\n", ENVIRONMENT + "collections:\n", 1))
    return data


def secrets_file(data: e2e.Dataset) -> Path:
    path = Path(data.env["ETL_CONFIG_DIR"]) / "profiles" / "local.secrets.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def submit(data: e2e.Dataset) -> tuple[int, str]:
    run = data.run("dataset", "process-items", "-d", str(data.folder), "--submit")
    return run.returncode, run.stderr


def runs_recorded(data: e2e.Dataset) -> list[str]:
    runs = Path(data.env["ETL_STATE_DIR"]) / "runs"
    return sorted(p.name for p in runs.iterdir()) if runs.exists() else []


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.mark.postgres
def test_azurite_not_running_is_one_line_before_the_run(
    tmp_path: Path, pgstac_dsn: str, azurite_container: str
) -> None:
    data = e2e.make_dataset(tmp_path, pgstac_dsn, assets=3, broken=set())
    path = data.folder / "dataset.yaml"
    blob_root = f"blob://devstoreaccount1/{azurite_container}/assets"
    path.write_text(path.read_text().replace(data.assets.as_uri(), blob_root))
    dead = f"http://127.0.0.1:{free_port()}/devstoreaccount1"
    created = data.run("profile", "create", "local", "--runner", "local",
                       "--set", f"storage.devstoreaccount1.account_url={dead}")  # fmt: skip
    assert created.returncode == 0, created.stderr

    code, stderr = submit(data)

    assert code == 1
    assert error_lines(stderr) == [
        "error: preflight of profile 'local' found 1 problem: storage "
        f"{blob_root}: not reachable: connection refused "
        "(`etl profile check` runs these checks again)"
    ]
    assert "Traceback" not in stderr
    assert runs_recorded(data) == []


@pytest.mark.postgres
def test_a_dsn_with_a_wrong_port_is_one_line_before_the_run(
    tmp_path: Path, pgstac_dsn: str
) -> None:
    data = e2e.make_dataset(tmp_path, pgstac_dsn, assets=3, broken=set())
    data.env["ETL_PGSTAC_DSN"] = f"postgresql://postgres@127.0.0.1:{free_port()}/pgstac"

    code, stderr = submit(data)

    assert code == 1
    [line] = error_lines(stderr)
    assert f"PgSTAC {data.env['ETL_PGSTAC_DSN']}: not reachable: connection refused" in line
    assert runs_recorded(data) == []


@pytest.mark.postgres
def test_a_missing_secret_is_named_in_the_local_backends_words(
    tmp_path: Path, pgstac_dsn: str
) -> None:
    data = with_secret(e2e.make_dataset(tmp_path, pgstac_dsn, assets=3, broken=set()))

    code, stderr = submit(data)

    assert code == 2
    [line] = error_lines(stderr)
    assert "secret api-token: secret 'api-token' is not set: set the environment variable " in line
    assert f"ETL_SECRET_API_TOKEN or add 'api-token' to {secrets_file(data)}" in line
    assert "(used by environment.API_TOKEN)" in line
    assert "etl-secrets" not in stderr
    assert runs_recorded(data) == []


@pytest.mark.postgres
def test_a_secrets_file_open_to_others_is_named_as_such(tmp_path: Path, pgstac_dsn: str) -> None:
    data = with_secret(e2e.make_dataset(tmp_path, pgstac_dsn, assets=3, broken=set()))
    path = secrets_file(data)
    path.write_text("api-token: abc\n")
    path.chmod(0o644)

    code, stderr = submit(data)

    assert code == 2
    [line] = error_lines(stderr)
    assert f"refusing to read secrets file {path}: it is accessible by group or others" in line
    assert f"(mode 0644); run: chmod 600 {path}" in line
    assert "is not set" not in line and "etl-secrets" not in stderr


@pytest.mark.postgres
def test_a_malformed_secrets_file_is_named_as_such(tmp_path: Path, pgstac_dsn: str) -> None:
    data = with_secret(e2e.make_dataset(tmp_path, pgstac_dsn, assets=3, broken=set()))
    path = secrets_file(data)
    path.write_text("api-token: [abc\nother: x\n")
    path.chmod(0o600)

    code, stderr = submit(data)

    assert code == 2
    [line] = error_lines(stderr)
    assert f"secrets file {path}:2 is not valid YAML" in line
    assert "is not set" not in line and "etl-secrets" not in stderr


@pytest.mark.postgres
def test_every_problem_is_listed_in_one_message(tmp_path: Path, pgstac_dsn: str) -> None:
    data = with_secret(e2e.make_dataset(tmp_path, pgstac_dsn, assets=3, broken=set()))
    data.env["ETL_PGSTAC_DSN"] = f"postgresql://postgres@127.0.0.1:{free_port()}/pgstac"
    path = data.folder / "dataset.yaml"
    blob_root = "blob://devstoreaccount1/any-container/assets"
    path.write_text(path.read_text().replace(data.assets.as_uri(), blob_root))
    dead = f"http://127.0.0.1:{free_port()}/devstoreaccount1"
    data.run("profile", "create", "local", "--set", f"storage.devstoreaccount1.account_url={dead}")

    code, stderr = submit(data)

    assert code == 2  # a configuration problem (the secret) is among them
    [line] = error_lines(stderr)
    assert "found 3 problems: " in line
    assert "PgSTAC postgresql://postgres@127.0.0.1:" in line
    assert f"storage {blob_root}: not reachable: connection refused" in line
    assert "secret api-token: secret 'api-token' is not set" in line
    assert runs_recorded(data) == []


@pytest.mark.postgres
def test_profile_check_on_the_local_profile_lists_what_it_checked(
    tmp_path: Path, pgstac_dsn: str
) -> None:
    data = with_secret(e2e.make_dataset(tmp_path, pgstac_dsn, assets=3, broken=set()))
    data.env["ETL_SECRET_API_TOKEN"] = "abc"

    plain = data.run("profile", "check")
    detailed = data.run("profile", "check", "-d", str(data.folder), "-o", "json")

    assert plain.returncode == 0, plain.stderr
    assert "PgSTAC postgresql://postgres@127.0.0.1:55432/" in plain.stdout
    assert "storage account devstoreaccount1" in plain.stdout
    assert detailed.returncode == 0, detailed.stderr
    report = json.loads(detailed.stdout)
    assert report["ok"] is True and report["dataset"] == "sidecars"
    outcomes = {c["subject"]: (c["outcome"], c["detail"]) for c in report["checks"]}
    assert outcomes["secret api-token"] == ("ok", "set")
    assert outcomes[f"PgSTAC {pgstac_dsn}"][0] == "ok"
    assert outcomes[f"PgSTAC {pgstac_dsn}"][1].startswith("reachable, pgstac ")


def test_profile_check_on_an_argo_profile_asks_the_server_and_says_what_it_cannot_check(
    config_dir: Path, argo_server: ArgoServerStandIn, tmp_path: Path, pgstac_dsn: str
) -> None:
    data = with_secret(e2e.make_dataset(tmp_path, pgstac_dsn, assets=3, broken=set()))
    data.env |= {"ETL_CONFIG_DIR": str(config_dir)}
    created = data.run("profile", "create", "cluster", "--runner", "argo",
                       "--argo-server", argo_server.url, "--set", f"argo.token={TOKEN}",
                       "--set", "workflow.image=etl-task:test")  # fmt: skip
    assert created.returncode == 0, created.stderr
    version_calls = len([r for r in argo_server.requests if r.path == "/api/v1/version"])

    result = data.run("profile", "check", "cluster", "-d", str(data.folder), "-o", "json")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    outcomes = {c["subject"]: (c["outcome"], c["detail"]) for c in report["checks"]}
    argo = outcomes[f"Argo Server {argo_server.url}"]
    assert argo == ("ok", f"reachable, Argo Workflows {argo_server.version}")
    assert len([r for r in argo_server.requests if r.path == "/api/v1/version"]) > version_calls
    secret = outcomes["Kubernetes secret argo/etl-secrets"]
    assert secret[0] == "not-checked" and "api-token" in secret[1]
    assert "cannot be checked from here" in secret[1]


def test_storage_timeouts_are_profile_keys_and_environment_variables(config_dir: Path) -> None:
    env = dict(os.environ, ETL_STORAGE_READ_TIMEOUT="7.5")
    created = run_etl("profile", "create", "slow", "--runner", "local",
                      "--set", "storage_timeouts.connect=3", env=env)  # fmt: skip
    shown = run_etl("profile", "show", "slow", "-o", "json", env=env)
    wrong = run_etl("profile", "edit", "slow", "--set", "storage_timeouts.read=0", env=env)

    assert created.returncode == 0, created.stderr
    timeouts = json.loads(shown.stdout)["storage_timeouts"]
    assert timeouts == {"connect": 3.0, "read": 7.5, "retries": 5, "notice": 30.0}
    assert wrong.returncode == 2
    assert "storage_timeouts.read" in wrong.stderr


@pytest.mark.postgres
def test_checking_a_dataset_on_local_files_leaves_the_azure_sdk_unloaded(
    env: dict[str, str], tmp_path: Path
) -> None:
    """No check reads blob storage, so the Azure SDK (a second of a local run's start on a busy
    machine) is not imported."""
    sample = Path(__file__).resolve().parents[2] / "datasets" / "sample-sidecars"
    generate = [
        sys.executable,
        str(sample / "generate.py"),
        "--count",
        "2",
        str(tmp_path / "assets"),
    ]
    subprocess.run(generate, env=env, check=True, capture_output=True)

    result, imported = run_etl_imports(
        "profile", "check", "-d", str(sample), "-a", f"root={tmp_path}", env=env
    )

    assert result.returncode == 0, result.stderr
    assert "psycopg" in imported  # the PgSTAC check ran
    assert [m for m in imported if m.startswith("azure")] == []
