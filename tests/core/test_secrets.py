"""etl.core.secrets: the local backend on real files, Key Vault at the Azure SDK's transport layer.

There is no Key Vault emulator, so the Key Vault tests run the real ``SecretClient`` pipeline
(challenge authentication, retries, error mapping) over an HTTP transport that answers with the
Key Vault REST API's own status codes, headers and JSON bodies.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import stat
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest import HttpRequest
from azure.core.rest._http_response_impl import RestHttpClientTransportResponse

from etl.core.errors import ProfileError, SecretError
from etl.core.profiles.model import Profile, SecretsBackend, SecretsSettings
from etl.core.secrets.keyvault import KeyVaultSecrets
from etl.core.secrets.local import (
    LocalSecrets,
    default_secrets_file,
    secret_env_var,
    set_local_secret,
)
from etl.core.secrets.resolver import secret_resolver_for

# ---------------------------------------------------------------- local backend


def test_names_map_to_environment_variables() -> None:
    assert secret_env_var("pgstac-dsn") == "ETL_SECRET_PGSTAC_DSN"
    assert secret_env_var("storage.key-1") == "ETL_SECRET_STORAGE_KEY_1"
    assert secret_env_var("Already_Upper") == "ETL_SECRET_ALREADY_UPPER"
    with pytest.raises(SecretError, match=r"invalid secret name 'bad name'"):
        secret_env_var("bad name")


def test_environment_wins_over_the_secrets_file(config_dir: Path) -> None:
    set_local_secret("dev", "pgstac-dsn", "from-file")
    set_local_secret("dev", "other", "only-in-file")
    secrets = LocalSecrets(
        "dev", env={"ETL_CONFIG_DIR": str(config_dir), "ETL_SECRET_PGSTAC_DSN": "from-env"}
    )
    assert secrets.get("pgstac-dsn") == "from-env"
    assert secrets.get("other") == "only-in-file"


def test_set_local_secret_creates_the_file_at_mode_0600(config_dir: Path) -> None:
    path = set_local_secret("dev", "pgstac-dsn", "postgresql://u:p@h/db")
    assert path == config_dir / "profiles" / "dev.secrets.yaml"
    assert path == default_secrets_file("dev")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    set_local_secret("dev", "api.key", "12345")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secrets = LocalSecrets("dev")
    assert secrets.get("pgstac-dsn") == "postgresql://u:p@h/db"
    assert secrets.get("api.key") == "12345"
    assert sorted(p.name for p in path.parent.iterdir()) == ["dev.secrets.yaml"]


def test_a_file_open_to_group_or_others_is_refused(config_dir: Path) -> None:
    path = set_local_secret("dev", "token", "s3cr3t")
    os.chmod(path, 0o644)
    with pytest.raises(SecretError) as caught:
        LocalSecrets("dev").get("token")
    message = str(caught.value)
    assert f"refusing to read secrets file {path}" in message
    assert "mode 0644" in message and f"chmod 600 {path}" in message
    assert "s3cr3t" not in message
    with pytest.raises(SecretError, match="refusing to read"):
        set_local_secret("dev", "token", "new")


def test_a_missing_secret_names_the_secret_the_variable_and_the_file(config_dir: Path) -> None:
    with pytest.raises(SecretError) as caught:
        LocalSecrets("dev").get("pgstac-dsn")
    assert str(caught.value) == (
        "secret 'pgstac-dsn' is not set: set the environment variable ETL_SECRET_PGSTAC_DSN or add"
        f" 'pgstac-dsn' to {config_dir / 'profiles' / 'dev.secrets.yaml'} (etl keeps that file at"
        " mode 0600)"
    )


def test_a_broken_secrets_file_is_reported_without_its_content(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("good: value\nleaked: [unclosed s3cr3t\n")
    os.chmod(path, 0o600)
    with pytest.raises(SecretError) as caught:
        LocalSecrets("dev", env={}, file=path).get("good")
    assert str(caught.value).startswith(f"secrets file {path}:")
    assert "s3cr3t" not in str(caught.value)


def test_resolver_for_a_local_profile_uses_its_file(tmp_path: Path) -> None:
    path = tmp_path / "custom.yaml"
    set_local_secret("ignored", "x", "from-custom-file", file=path)
    profile = Profile(name="dev", secrets=SecretsSettings(file=path))
    assert secret_resolver_for(profile, env={}).get("x") == "from-custom-file"


def test_resolver_for_keyvault_needs_a_vault_url() -> None:
    profile = Profile(name="prod", secrets=SecretsSettings(backend=SecretsBackend.KEYVAULT))
    with pytest.raises(ProfileError, match=r"secrets\.vault_url is not set"):
        secret_resolver_for(profile)
    with_url = profile.model_copy(
        update={
            "secrets": SecretsSettings(
                backend=SecretsBackend.KEYVAULT, vault_url="https://v.vault.azure.net"
            )
        }
    )
    resolver = secret_resolver_for(with_url)
    assert isinstance(resolver, KeyVaultSecrets)
    assert resolver.vault_url == "https://v.vault.azure.net"
    assert secret_resolver_for(with_url) is resolver  # one client per vault per process


# ---------------------------------------------------------------- Key Vault at the transport layer

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
TOKEN = "fake-access-token"
CHALLENGE = f'Bearer authorization="https://login.microsoftonline.com/{TENANT}", resource="https://vault.azure.net"'


@dataclass
class StaticCredential:
    """A TokenCredential handing out one fixed token, recording what was asked for."""

    token: str = TOKEN
    requests: list[tuple[tuple[str, ...], str | None]] = field(default_factory=list)

    def get_token(self, *scopes: str, tenant_id: str | None = None, **kwargs: Any) -> AccessToken:
        self.requests.append((scopes, tenant_id))
        return AccessToken(self.token, int(time.time()) + 3600)


class _BytesSocket:
    def __init__(self, data: bytes) -> None:
        self._file = io.BytesIO(data)

    def makefile(self, *args: Any, **kwargs: Any) -> io.BytesIO:
        return self._file


class FakeVaultTransport(HttpTransport):  # type: ignore[type-arg]
    """Answers like Key Vault's REST API (GET {vault}/secrets/{name}?api-version=...)."""

    def __init__(self, secrets: dict[str, str], forbidden: frozenset[str] = frozenset()) -> None:
        self.secrets = secrets
        self.forbidden = forbidden
        self.seen: list[tuple[str, str, str | None]] = []

    def open(self) -> None:
        """Nothing to open."""

    def close(self) -> None:
        """Nothing to close."""

    def __exit__(self, *args: object) -> None:
        self.close()

    def send(self, request: HttpRequest, **kwargs: Any) -> RestHttpClientTransportResponse:
        url = urlparse(request.url)
        auth = request.headers.get("Authorization")
        self.seen.append((request.method, request.url, auth))
        if auth is None:
            return _response(
                request,
                401,
                {"WWW-Authenticate": CHALLENGE},
                {
                    "error": {
                        "code": "Unauthorized",
                        "message": "AKV10000: Request is missing a Bearer or PoP token.",
                    }
                },
            )
        if auth != f"Bearer {TOKEN}":
            return _response(
                request,
                401,
                {"WWW-Authenticate": CHALLENGE},
                {"error": {"code": "Unauthorized", "message": "AKV10032: Invalid issuer."}},
            )
        assert "api-version" in parse_qs(url.query)
        parts = url.path.strip("/").split("/")
        if request.method != "GET" or parts[0] != "secrets":
            return _response(
                request, 400, {}, {"error": {"code": "BadParameter", "message": "unexpected"}}
            )
        name = parts[1]
        if name in self.forbidden:
            return _response(
                request,
                403,
                {},
                {
                    "error": {
                        "code": "Forbidden",
                        "message": f"The user does not have secrets get permission on key vault '{url.hostname}'.",
                        "innererror": {"code": "AccessDenied"},
                    }
                },
            )
        if name not in self.secrets:
            return _response(
                request,
                404,
                {},
                {
                    "error": {
                        "code": "SecretNotFound",
                        "message": f"A secret with (name/id) {name} was not found in this key vault.",
                    }
                },
            )
        version = uuid.uuid4().hex
        body = {
            "value": self.secrets[name],
            "id": f"https://{url.hostname}/secrets/{name}/{version}",
            "attributes": {
                "enabled": True,
                "created": 1700000000,
                "updated": 1700000000,
                "recoveryLevel": "Recoverable+Purgeable",
            },
            "tags": {},
        }
        return _response(request, 200, {}, body)


def _response(
    request: HttpRequest, status: int, headers: dict[str, str], body: dict[str, Any]
) -> RestHttpClientTransportResponse:
    """A real ``http.client`` response parsed from the raw bytes Key Vault would send."""
    payload = json.dumps(body).encode()
    lines = [
        f"HTTP/1.1 {status} {http.client.responses[status]}",
        "Content-Type: application/json; charset=utf-8",
        f"Content-Length: {len(payload)}",
        f"x-ms-request-id: {uuid.uuid4()}",
    ]
    lines += [f"{key}: {value}" for key, value in headers.items()]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + payload
    response = http.client.HTTPResponse(_BytesSocket(raw))  # type: ignore[arg-type]
    response.begin()
    return RestHttpClientTransportResponse(request=request, internal_response=response)


@pytest.fixture
def vault_url() -> str:
    """A vault of its own: the SDK caches auth challenges per host for the whole process."""
    return f"https://t{uuid.uuid4().hex[:16]}.vault.azure.net"


def test_keyvault_returns_the_secret_after_the_challenge(vault_url: str) -> None:
    transport = FakeVaultTransport({"pgstac-dsn": "postgresql://app:pw@db/pgstac"})
    credential = StaticCredential()
    secrets = KeyVaultSecrets(vault_url, credential, transport=transport)
    assert secrets.get("pgstac-dsn") == "postgresql://app:pw@db/pgstac"
    (_, first_url, first_auth), (method, url, auth) = transport.seen
    assert first_auth is None  # the first request elicits the challenge
    assert (method, auth) == ("GET", f"Bearer {TOKEN}")
    assert first_url == url
    assert (
        urlparse(url).path == "/secrets/pgstac-dsn/"
    )  # the REST path {name}/{version}, no version
    assert url.startswith(vault_url + "/secrets/pgstac-dsn/?api-version=")
    assert credential.requests == [(("https://vault.azure.net/.default",), TENANT)]


def test_keyvault_caches_values(vault_url: str) -> None:
    transport = FakeVaultTransport({"a": "1", "b": "2"})
    secrets = KeyVaultSecrets(vault_url, StaticCredential(), transport=transport)
    assert secrets.get("a") == "1"
    requests_after_first = len(transport.seen)
    assert secrets.get("a") == "1"
    assert len(transport.seen) == requests_after_first
    transport.secrets["a"] = "rotated"
    assert secrets.get("a") == "1"
    assert secrets.get("b") == "2"
    assert len(transport.seen) == requests_after_first + 1  # challenge is cached: one GET


def test_keyvault_missing_secret_names_it(vault_url: str) -> None:
    transport = FakeVaultTransport({"other": "hidden-value"})
    secrets = KeyVaultSecrets(vault_url, StaticCredential(), transport=transport)
    with pytest.raises(SecretError) as caught:
        secrets.get("pgstac-dsn")
    assert str(caught.value) == f"secret 'pgstac-dsn' in Key Vault {vault_url} was not found"


def test_keyvault_access_denied_names_the_secret(vault_url: str) -> None:
    transport = FakeVaultTransport({"locked": "hidden-value"}, forbidden=frozenset({"locked"}))
    secrets = KeyVaultSecrets(vault_url, StaticCredential(), transport=transport)
    with pytest.raises(SecretError) as caught:
        secrets.get("locked")
    message = str(caught.value)
    assert message.startswith(
        f"cannot read secret 'locked' in Key Vault {vault_url}: access denied (HTTP 403)"
    )
    assert "hidden-value" not in message


def test_keyvault_rejected_token_is_an_authentication_error(vault_url: str) -> None:
    transport = FakeVaultTransport({"a": "hidden-value"})
    secrets = KeyVaultSecrets(vault_url, StaticCredential(token="expired"), transport=transport)
    with pytest.raises(
        SecretError, match=r"^cannot read secret 'a' in Key Vault .*: authentication failed"
    ) as caught:
        secrets.get("a")
    assert "\n" not in str(caught.value)
    assert [auth for _, _, auth in transport.seen] == [None, "Bearer expired"]


def test_keyvault_needs_https() -> None:
    with pytest.raises(SecretError, match="must start with https://"):
        KeyVaultSecrets("http://localhost:8080")
