"""Profiles: the store, which profile is active, which value wins, and redaction."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from etl.core.errors import ConfigError, ProfileError
from etl.core.profiles.local_services import local_pgstac_dsn
from etl.core.profiles.model import Profile, RunnerKind
from etl.core.profiles.redaction import redact_dsn, redacted_profile
from etl.core.profiles.resolve import resolve_profile
from etl.core.profiles.settings import apply_settings
from etl.core.profiles.store import ProfileStore


def save(store: ProfileStore, name: str, **settings: str) -> Profile:
    profile = apply_settings(
        Profile(name=name), [(k.replace("__", "."), v) for k, v in settings.items()]
    )
    store.save(profile)
    return profile


def test_store_follows_etl_config_dir(config_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    save(ProfileStore(other), "dev", argo__namespace="elsewhere")
    assert resolve_profile("dev", {"ETL_CONFIG_DIR": str(other)}).argo.namespace == "elsewhere"
    with pytest.raises(ProfileError, match="unknown profile 'dev'"):
        resolve_profile("dev")


def test_builtin_local_always_exists(config_dir: Path) -> None:
    profile = resolve_profile(None, {}, root=config_dir)
    assert profile.name == "local"
    assert profile.runner is RunnerKind.LOCAL
    assert profile.pgstac.dsn == local_pgstac_dsn()
    assert ProfileStore(config_dir).names() == ["local"]


def test_selection_precedence_flag_env_default_builtin(config_dir: Path) -> None:
    store = ProfileStore(config_dir)
    for name in ("dev", "staging", "prod"):
        save(store, name, argo__namespace=f"{name}-ns")
    assert resolve_profile(None, {}, root=config_dir).name == "local"
    store.set_default("dev")
    assert resolve_profile(None, {}, root=config_dir).name == "dev"
    assert resolve_profile(None, {"ETL_PROFILE": "staging"}, root=config_dir).name == "staging"
    assert (
        resolve_profile("prod", {"ETL_PROFILE": "staging"}, root=config_dir).argo.namespace
        == "prod-ns"
    )


def test_unknown_profile_names_the_closest(config_dir: Path) -> None:
    save(ProfileStore(config_dir), "staging")
    with pytest.raises(
        ProfileError, match="unknown profile 'stagign' \\(did you mean 'staging'\\?\\)"
    ):
        resolve_profile("stagign", {}, root=config_dir)
    assert ProfileError.exit_code == 2


def test_value_precedence_flag_env_file_default(config_dir: Path) -> None:
    save(ProfileStore(config_dir), "dev", argo__namespace="from-file")
    assert resolve_profile("dev", {}, root=config_dir).argo.namespace == "from-file"
    assert (
        resolve_profile("dev", {"ARGO_NAMESPACE": "argo-env"}, root=config_dir).argo.namespace
        == "argo-env"
    )
    env = {"ARGO_NAMESPACE": "argo-env", "ETL_ARGO_NAMESPACE": "etl-env"}
    assert resolve_profile("dev", env, root=config_dir).argo.namespace == "etl-env"
    flagged = resolve_profile("dev", env, overrides=[("argo.namespace", "flag")], root=config_dir)
    assert flagged.argo.namespace == "flag"
    save(ProfileStore(config_dir), "bare")
    assert resolve_profile("bare", {}, root=config_dir).argo.namespace == "argo"


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ({"ARGO_SERVER": "argo.example.com:2746"}, "https://argo.example.com:2746"),
        ({"ARGO_SERVER": "localhost:2746", "ARGO_SECURE": "false"}, "http://localhost:2746"),
        ({"ARGO_SERVER": "localhost:2746", "ARGO_SECURE": "true"}, "https://localhost:2746"),
        ({"ARGO_SERVER": "a:1", "ETL_ARGO_SERVER": "http://b:2"}, "http://b:2"),
    ],
)
def test_argo_server_from_environment(config_dir: Path, env: dict[str, str], url: str) -> None:
    assert resolve_profile(None, env, root=config_dir).argo.server == url


def test_argo_cli_variables(config_dir: Path) -> None:
    env = {
        "ARGO_TOKEN": "Bearer abc",
        "ARGO_BASE_HREF": "/argo",
        "ARGO_INSECURE_SKIP_VERIFY": "true",
    }
    profile = resolve_profile(None, env, root=config_dir)
    assert (profile.argo.token, profile.argo.base_href, profile.argo.verify_tls) == (
        "abc",
        "/argo",
        False,
    )
    assert resolve_profile(None, {"ARGO_TOKEN": "abc"}, root=config_dir).argo.token == "abc"
    assert (
        resolve_profile(
            None, {"ARGO_TOKEN": "x", "ETL_ARGO_TOKEN": "y"}, root=config_dir
        ).argo.token
        == "y"
    )
    assert (
        resolve_profile(None, {"ETL_PGSTAC_DSN": "postgresql://h/db"}, root=config_dir).pgstac.dsn
        == "postgresql://h/db"
    )


def test_set_keys_are_validated_with_the_closest_key(config_dir: Path) -> None:
    with pytest.raises(
        ProfileError, match=r"unknown profile key 'argo\.namespce'; did you mean 'argo\.namespace'"
    ):
        apply_settings(Profile(), [("argo.namespce", "x")])
    with pytest.raises(ProfileError, match=r"did you mean 'storage\.acct\.key'"):
        apply_settings(Profile(), [("storage.acct.kye", "x")])
    with pytest.raises(ProfileError, match="--set runner='k8s'"):
        apply_settings(Profile(), [("runner", "k8s")])
    profile = apply_settings(
        Profile(), [("storage.acct.account_url", "https://a"), ("workflow.max_pods", "5")]
    )
    assert profile.storage["acct"].account_url == "https://a"
    assert profile.workflow.max_pods == 5


def test_files_round_trip_and_modes(config_dir: Path) -> None:
    store = ProfileStore(config_dir)
    plain = save(store, "plain", runner="argo", argo__server="https://argo:2746")
    save(store, "secret", argo__token="tok")
    assert store.load("plain") == plain
    assert store.load("secret").argo.token == "tok"
    mode = stat.S_IMODE(os.stat(store.path_of("secret")).st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(os.stat(store.path_of("plain")).st_mode) == 0o644
    assert not [p for p in (config_dir / "profiles").iterdir() if p.name.startswith(".")]
    with pytest.raises(ProfileError, match="exists"):
        store.save(plain)


def test_local_file_overrides_builtin_key_by_key(config_dir: Path) -> None:
    store = ProfileStore(config_dir)
    store.profiles_dir.mkdir()
    (store.profiles_dir / "local.yaml").write_text("argo:\n  namespace: mine\n")
    profile = store.load("local")
    assert profile.argo.namespace == "mine"
    assert profile.pgstac.dsn == local_pgstac_dsn()
    store.delete("local")
    assert store.load("local").argo.namespace == "argo"
    with pytest.raises(ProfileError, match="built-in profile 'local' cannot be deleted"):
        store.delete("local")


def test_delete_forgets_the_default(config_dir: Path) -> None:
    store = ProfileStore(config_dir)
    save(store, "dev")
    store.set_default("dev")
    store.delete("dev")
    assert store.default_name() is None
    assert resolve_profile(None, {}, root=config_dir).name == "local"
    with pytest.raises(ProfileError, match="unknown profile 'dev'"):
        store.set_default("dev")


def test_invalid_profile_file_is_a_located_error(config_dir: Path) -> None:
    store = ProfileStore(config_dir)
    store.profiles_dir.mkdir()
    (store.profiles_dir / "bad.yaml").write_text("runner: argo\nargo:\n  namespase: x\n")
    with pytest.raises(ConfigError) as info:
        store.load("bad")
    assert str(info.value).startswith(f"{store.path_of('bad')}:3:3: argo.namespase: ")


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://etl:pa:ss@db:5432/pgstac", "postgresql://etl:***@db:5432/pgstac"),
        ("postgresql://etl@db/pgstac", "postgresql://etl@db/pgstac"),
        (
            "postgresql://db/pgstac?user=u&password=p&x=1",
            "postgresql://db/pgstac?user=u&password=***&x=1",
        ),
        ("host=db user=etl password='s e c' dbname=x", "host=db user=etl password=*** dbname=x"),
    ],
)
def test_redact_dsn(dsn: str, shown: str) -> None:
    assert redact_dsn(dsn) == shown


def test_redacted_profile_hides_every_credential() -> None:
    profile = apply_settings(
        Profile(name="p"),
        [
            ("argo.token", "TOKEN1"),
            ("pgstac.dsn", "postgresql://etl:PASS2@db/pgstac"),
            ("storage.a.connection_string", "AccountKey=CONN3"),
            ("storage.a.key", "KEY4"),
            ("storage.b.account_url", "https://b"),
            ("storage.b.sas", "SAS5"),
        ],
    )
    text = repr(redacted_profile(profile))
    for secret in ("TOKEN1", "PASS2", "CONN3", "KEY4", "SAS5"):
        assert secret not in text
    data = redacted_profile(profile)
    assert data["pgstac"]["dsn"] == "postgresql://etl:***@db/pgstac"
    assert data["storage"]["b"] == {"account_url": "https://b", "sas": "***"}


def test_secrets_files_beside_profiles_are_not_profiles(config_dir: Path) -> None:
    store = ProfileStore(config_dir)
    save(store, "dev")
    (store.profiles_dir / "dev.secrets.yaml").write_text("pgstac-dsn: x\n")
    assert store.names() == ["dev", "local"]
    with pytest.raises(ProfileError, match=r"invalid profile name 'dev\.secrets'"):
        store.load("dev.secrets")
