"""The ``etl`` command line: help and start-up, profile commands, dataset validate/schema, and the
one error mapping (exit codes 0/1/2, one line on stderr), in process and as a real subprocess."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import typer
import yaml
from etl_cli import help_and_modules
from etl_cli import run_etl as etl
from typer.testing import CliRunner

from etl.cli.main import app
from etl.cli.options import parse_key_values, parse_since_time
from etl.cli.root_group import EtlGroup

ROOT = Path(__file__).resolve().parents[2]
SECRETS = ("TOKEN1", "PASS2", "KEY3", "SAS4", "CONN5")

runner = CliRunner()


def one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "dataset.yaml").write_text(
        "id: demo\n"
        "args: [region, storage-account]\n"
        "collections:\n"
        "  - id: c1\n"
        "    class: mod:Items\n"
        "    asset_storage:\n"
        "      - uri: blob://$<< args.storage-account >>/data/$<< args.region >>\n"
        "  - id: c2\n"
        "    class: mod:Items\n"
        "    token: old-pctasks-token\n"
        "    asset_storage: []\n"
    )
    return folder


@pytest.fixture
def secret_profile(config_dir: Path) -> str:
    result = runner.invoke(
        app,
        [
            "profile",
            "create",
            "prod",
            "--runner",
            "argo",
            "--argo-server",
            "https://argo.example.com:2746",
            "--namespace",
            "etl",
            "--set",
            "argo.token=Bearer TOKEN1",
            "--set",
            "pgstac.dsn=postgresql://etl:PASS2@db.example.com/pgstac",
            "--set",
            "storage.acct.key=KEY3",
            "--set",
            "storage.acct.account_url=https://acct.blob.core.windows.net",
            "--set",
            "storage.other.sas=SAS4",
            "--set",
            "storage.third.connection_string=AccountKey=CONN5",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    return "prod"


def test_help_lists_groups_and_version() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "profile" in result.stdout and "dataset" in result.stdout
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0
    assert version.stdout.startswith("etl 0.")


def test_help_imports_nothing_heavy() -> None:
    heavy = {"hera", "azure", "pypgstac", "pystac", "psycopg", "pydantic", "yaml", "rich"}
    _, modules = help_and_modules()
    assert sorted(modules & heavy) == []


def test_profile_lifecycle(config_dir: Path, secret_profile: str) -> None:
    listing = runner.invoke(app, ["profile", "list", "-o", "json"])
    assert listing.exit_code == 0
    rows = {row["name"]: row for row in json.loads(listing.stdout)}
    assert rows["local"]["active"] and not rows["prod"]["active"]
    assert rows["prod"]["argo_server"] == "https://argo.example.com:2746"

    assert runner.invoke(app, ["profile", "set", "prod"]).exit_code == 0
    table = runner.invoke(app, ["profile", "list"]).stdout.splitlines()
    assert [line.split()[:2] for line in table[1:]] == [["local", "local"], ["*", "prod"]]
    marked = runner.invoke(app, ["-p", "local", "profile", "list", "-o", "json"]).stdout
    assert [row["name"] for row in json.loads(marked) if row["active"]] == ["local"]

    deleted = runner.invoke(app, ["profile", "delete", "prod"])
    assert deleted.exit_code == 0
    assert "deleted profile 'prod'" in deleted.stderr
    assert not (config_dir / "profiles" / "prod.yaml").exists()
    assert json.loads(runner.invoke(app, ["profile", "list", "-o", "json"]).stdout)[0]["active"]


@pytest.mark.parametrize("output", ["yaml", "json", "table"])
def test_profile_show_redacts_every_credential(secret_profile: str, output: str) -> None:
    result = runner.invoke(app, ["profile", "show", secret_profile, "-o", output])
    assert result.exit_code == 0, result.stderr
    for secret in SECRETS:
        assert secret not in result.stdout
    assert "postgresql://etl:***@db.example.com/pgstac" in result.stdout
    assert "https://acct.blob.core.windows.net" in result.stdout


def test_profile_list_shows_no_credential(secret_profile: str) -> None:
    for output in ("table", "json", "yaml"):
        text = runner.invoke(app, ["profile", "list", "-o", output]).stdout
        assert "prod" in text
        assert not [secret for secret in SECRETS if secret in text]


def test_profile_show_applies_the_environment(config_dir: Path, secret_profile: str) -> None:
    env = {"ARGO_NAMESPACE": "from-argo", "ETL_ARGO_NAMESPACE": "from-etl", "ARGO_TOKEN": "ENVTOK"}
    result = runner.invoke(app, ["-p", secret_profile, "profile", "show", "-o", "json"], env=env)
    shown = json.loads(result.stdout)
    assert shown["argo"]["namespace"] == "from-etl"
    assert shown["argo"]["token"] == "***"
    assert "ENVTOK" not in result.stdout


def test_profile_files_are_private_when_they_hold_credentials(
    config_dir: Path, secret_profile: str
) -> None:
    path = config_dir / "profiles" / "prod.yaml"
    assert os.stat(path).st_mode & 0o777 == 0o600
    saved = yaml.safe_load(path.read_text())
    assert saved["argo"]["token"] == "TOKEN1"


def test_profile_input_errors_exit_2(config_dir: Path, secret_profile: str) -> None:
    cases = {
        ("profile", "create", "x", "--set", "argo.namespce=a"): "did you mean 'argo.namespace'",
        ("profile", "create", "x", "--runner", "k8s"): "'k8s' is not one of 'local', 'argo'",
        ("profile", "create", "x", "--argo-server", "argo:2746"): "is not a URL",
        ("profile", "create", "prod"): "profile 'prod' exists",
        ("-p", "prdo", "profile", "show"): "unknown profile 'prdo' (did you mean 'prod'?)",
        ("profile", "delete", "local"): "built-in profile 'local' cannot be deleted",
        ("profile", "set", "nope"): "unknown profile 'nope'",
    }
    for args, expected in cases.items():
        result = runner.invoke(app, list(args))
        assert result.exit_code == 2, args
        assert expected in one_error_line(result.stderr), args
        assert result.stdout == ""


def test_dataset_validate_ok_with_warnings_on_stderr(config_dir: Path, dataset: Path) -> None:
    args = [
        "dataset",
        "validate",
        "-d",
        str(dataset),
        "-a",
        "region=eu",
        "-a",
        "storage-account=st",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "ok: demo (2 collections)\n"
    assert "collections[1].token: warning: ignored" in result.stderr
    one = runner.invoke(app, [*args, "-c", "c1"])
    assert one.stdout == "ok: demo (1 collection)\n"


def test_dataset_validate_errors_are_located(config_dir: Path, dataset: Path) -> None:
    missing = runner.invoke(app, ["dataset", "validate", "-d", str(dataset), "-a", "region=eu"])
    assert missing.exit_code == 2
    line = one_error_line(missing.stderr)
    assert line.startswith(f"error: {dataset / 'dataset.yaml'}:7:")
    assert "collections[0].asset_storage[0].uri" in line
    assert "pass -a storage-account=VALUE" in line
    base = ["dataset", "validate", "-d", str(dataset), "-a", "region=eu", "-a", "storage-account=s"]
    unknown = runner.invoke(app, [*base, "-c", "c9"])
    assert unknown.exit_code == 2
    assert "unknown collection 'c9'" in one_error_line(unknown.stderr)
    bad_arg = runner.invoke(app, [*base, "-a", "region"])
    assert bad_arg.exit_code == 2
    assert "write KEY=VALUE" in one_error_line(bad_arg.stderr)


def test_shared_option_parsers() -> None:
    assert parse_since_time("2024-05-01").isoformat() == "2024-05-01T00:00:00+00:00"
    assert parse_since_time("2024-05-01T12:00:00+02:00").utcoffset() is not None
    with pytest.raises(typer.BadParameter, match="ISO-8601"):
        parse_since_time("last tuesday")
    assert parse_key_values(["a=1", "b=x=y", "a=2"]) == {"a": "2", "b": "x=y"}
    with pytest.raises(typer.BadParameter, match="KEY=VALUE"):
        parse_key_values(["=1"])


def test_dataset_schema_is_json_schema() -> None:
    result = runner.invoke(app, ["dataset", "schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert "collections" in schema["properties"]


def test_unexpected_errors_are_one_line_and_traceback_only_when_verbose() -> None:
    broken = typer.Typer(cls=EtlGroup, add_completion=False)

    @broken.callback()
    def root(ctx: typer.Context, verbose: bool = typer.Option(False, "--verbose", "-v")) -> None:
        if isinstance(ctx.command, EtlGroup):
            ctx.command.verbose = verbose

    @broken.command()
    def explode() -> None:
        raise RuntimeError("disk on fire")

    plain = runner.invoke(broken, ["explode"])
    assert plain.exit_code == 1
    assert one_error_line(plain.stderr) == "error: internal error: RuntimeError: disk on fire"
    verbose = runner.invoke(broken, ["-v", "explode"])
    assert verbose.exit_code == 1
    assert "Traceback (most recent call last)" in verbose.stderr
    assert verbose.stderr.splitlines()[-1] == "error: internal error: RuntimeError: disk on fire"


def test_real_process_exit_codes_and_stderr(config_dir: Path, dataset: Path) -> None:
    ok = etl("--version")
    assert (ok.returncode, ok.stderr) == (0, "")
    usage = etl("profile", "show", "--bogus")
    assert usage.returncode == 2
    assert "No such option: --bogus" in one_error_line(usage.stderr)
    unknown = etl("-p", "nope", "profile", "show")
    assert unknown.returncode == 2
    assert one_error_line(unknown.stderr) == "error: unknown profile 'nope'; profiles: local"
    invalid = etl("dataset", "validate", "-d", str(dataset))
    assert invalid.returncode == 2
    assert invalid.stdout == ""
    assert "Traceback" not in invalid.stderr
    assert "pass -a storage-account=VALUE" in one_error_line(invalid.stderr)
    typo = etl("profil")
    assert typo.returncode == 2
    assert "Did you mean 'profile'?" in one_error_line(typo.stderr)
