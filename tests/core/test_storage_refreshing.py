"""A SAS token taken from a secret that expires during a run is fetched again, not fatal (Azurite)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

from etl.core.errors import StorageAuthenticationError
from etl.core.profile_services import ProfileServices
from etl.core.profiles.model import AZURITE_ACCOUNT, AZURITE_KEY

TOKEN = "$<< secrets.assets-sas >>"


def container_sas(container: str, seconds: int) -> str:
    return generate_container_sas(
        account_name=AZURITE_ACCOUNT,
        container_name=container,
        account_key=AZURITE_KEY,
        permission=ContainerSasPermissions(read=True, list=True),
        expiry=datetime.now(UTC) + timedelta(seconds=seconds),
    )


@pytest.fixture
def blob_uri(azurite_connection_string: str, azurite_container: str) -> str:
    service = BlobServiceClient.from_connection_string(azurite_connection_string)
    service.get_blob_client(azurite_container, "scene.json").upload_blob(b'{"id": "scene"}')
    return f"blob://{AZURITE_ACCOUNT}/{azurite_container}"


def test_an_expired_sas_is_fetched_again_and_the_read_retried(
    blob_uri: str, azurite_container: str, tmp_path: Path
) -> None:
    env = {
        "ETL_CONFIG_DIR": str(tmp_path),
        "ETL_SECRET_ASSETS_SAS": container_sas(azurite_container, 2),
    }
    storage = ProfileServices(env=env).storage(blob_uri, TOKEN)
    assert storage.read_text("scene.json") == '{"id": "scene"}'

    time.sleep(3)
    env["ETL_SECRET_ASSETS_SAS"] = container_sas(azurite_container, 3600)

    assert storage.read_text(f"{blob_uri}/scene.json") == '{"id": "scene"}'
    assert storage.refreshes == 1  # type: ignore[attr-defined]


def test_a_token_still_refused_after_refetching_is_a_clear_error(
    blob_uri: str, azurite_container: str, tmp_path: Path
) -> None:
    env = {
        "ETL_CONFIG_DIR": str(tmp_path),
        "ETL_SECRET_ASSETS_SAS": container_sas(azurite_container, -60),
    }
    storage = ProfileServices(env=env).storage(blob_uri, TOKEN)

    with pytest.raises(
        StorageAuthenticationError, match=r"authentication failed for blob://.*scene\.json"
    ):
        storage.read_text("scene.json")
