"""The URLs items link to: a ``blob://`` URI at its account's endpoint, per profile, and
``Storage.href_of``. A pod knows the endpoint without the connection string it came from."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from etl.core.errors import StorageError
from etl.core.profile_services import ProfileServices
from etl.core.profiles.local_services import azurite_blob_endpoint
from etl.core.profiles.model import AZURITE_KEY, Profile, StorageAccount
from etl.core.storage.opening import open_storage
from etl.core.storage.uris import file_uri
from etl.core.storage.urls import BlobUrls, blob_url
from etl.task.item_hrefs import rewrite_blob_hrefs

KEY = "a2V5"


def profile_with(**account: str) -> Profile:
    return Profile(name="prod", storage={"acct": StorageAccount(**account)})


@pytest.mark.parametrize(
    ("profile", "url"),
    [
        (None, "https://acct.blob.core.windows.net/c/a/b.tif"),
        (Profile(name="bare"), "https://acct.blob.core.windows.net/c/a/b.tif"),
        (profile_with(key=KEY), "https://acct.blob.core.windows.net/c/a/b.tif"),
        (profile_with(account_url="https://blobs.example.org/acct/"), "https://blobs.example.org/acct/c/a/b.tif"),
        (
            profile_with(connection_string=f"AccountName=acct;AccountKey={KEY}==;BlobEndpoint=http://10.0.0.5:10000/acct"),
            "http://10.0.0.5:10000/acct/c/a/b.tif",
        ),
        (
            profile_with(connection_string=f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={KEY};EndpointSuffix=core.chinacloudapi.cn"),
            "https://acct.blob.core.chinacloudapi.cn/c/a/b.tif",
        ),
        (
            profile_with(connection_string=f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={KEY}"),
            "https://acct.blob.core.windows.net/c/a/b.tif",
        ),
        (profile_with(connection_string="UseDevelopmentStorage=true"), f"{azurite_blob_endpoint()}/c/a/b.tif"),
        (
            profile_with(
                account_url="https://cdn.example.org",
                connection_string=f"AccountName=acct;AccountKey={KEY};BlobEndpoint=http://10.0.0.5:10000/acct",
            ),
            "https://cdn.example.org/c/a/b.tif",
        ),
    ],
    ids=["no-profile", "unknown-account", "key-only", "account-url", "blob-endpoint",
         "endpoint-suffix", "account-name", "development-storage", "account-url-wins"],
)  # fmt: skip
def test_a_blob_uri_becomes_the_url_at_its_accounts_endpoint(
    profile: Profile | None, url: str
) -> None:
    assert blob_url("blob://acct/c/a/b.tif", profile) == url
    assert BlobUrls(profile)("blob://acct/c/a/b.tif") == url


def test_blob_names_are_percent_encoded_as_azure_writes_them() -> None:
    assert blob_url("blob://acct/c/2024 01/a%b#c?d+é~x.tif") == (
        "https://acct.blob.core.windows.net/c/2024%2001/a%25b%23c%3Fd%2B%C3%A9~x.tif"
    )
    assert blob_url("blob://acct/c") == "https://acct.blob.core.windows.net/c"


def test_a_malformed_blob_uri_is_a_one_line_storage_error() -> None:
    with pytest.raises(StorageError, match=r"^invalid blob URI: blob://acct \(expected"):
        BlobUrls()("blob://acct")


def test_href_of_a_local_file_is_its_file_uri(tmp_path: Path) -> None:
    storage = open_storage(str(tmp_path))
    assert storage.href_of("a/b.csv") == file_uri(tmp_path / "a" / "b.csv")


@pytest.mark.azurite
def test_href_of_a_blob_is_its_url_and_opens_with_a_key(azurite_container: str) -> None:
    storage = open_storage(
        f"blob://devstoreaccount1/{azurite_container}/assets", profile=Profile.builtin_local()
    )
    storage.write_text("2024/a b.csv", "band,mean\n")
    href = storage.href_of("2024/a b.csv")
    assert href == f"{azurite_blob_endpoint()}/{azurite_container}/assets/2024/a%20b.csv"
    assert storage.href_of(f"{storage.uri}/2024/a b.csv") == href
    assert "sig=" not in href and AZURITE_KEY not in href
    assert _get_with_sas(href, azurite_container) == b"band,mean\n"


def _get_with_sas(href: str, container: str) -> bytes:
    """What a client holding a read SAS for the container gets from ``href``."""
    from datetime import UTC, datetime, timedelta

    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    sas = generate_container_sas(
        "devstoreaccount1",
        container,
        account_key=AZURITE_KEY,
        permission=ContainerSasPermissions(read=True),
        expiry=datetime.now(UTC) + timedelta(minutes=5),
    )
    with urllib.request.urlopen(f"{href}?{sas}", timeout=10) as response:
        data: bytes = response.read()
    return data


def test_blob_hrefs_of_assets_and_links_become_urls_others_stay() -> None:
    item = {
        "assets": {
            "data": {"href": "blob://acct/c/x.tif"},
            "thumb": {"href": "https://example.org/t.png"},
            "local": {"href": "file:///data/x.json"},
        },
        "links": [
            {"rel": "collection", "href": "../collection.json"},
            {"rel": "via", "href": "blob://acct/c/source.xml"},
        ],
    }
    rewrite_blob_hrefs(item, BlobUrls())
    assert item["assets"] == {
        "data": {"href": "https://acct.blob.core.windows.net/c/x.tif"},
        "thumb": {"href": "https://example.org/t.png"},
        "local": {"href": "file:///data/x.json"},
    }
    assert [link["href"] for link in item["links"]] == [
        "../collection.json",
        "https://acct.blob.core.windows.net/c/source.xml",
    ]


def test_a_pod_links_to_the_endpoint_of_a_connection_string_it_never_sees(
    config_dir: Path,
) -> None:
    from etl.argo.compiling.pod_environment import pod_env

    endpoint = "http://10.0.0.5:10000/acct"
    profile = profile_with(
        connection_string=f"AccountName=acct;AccountKey={KEY};BlobEndpoint={endpoint}"
    )
    env = {var.name: var.value for var in pod_env(profile, []) if var.value is not None}
    pod_profile = json.loads(env["ETL_PROFILE_JSON"])
    assert pod_profile["storage"]["acct"] == {"account_url": endpoint}
    pod = ProfileServices(env=env)
    assert BlobUrls(pod.profile)("blob://acct/c/x.tif") == f"{endpoint}/c/x.tif"
