"""Items made from blob assets link to URLs a browser, STAC client or GDAL opens: through ``etl``.

Assets in Azurite are made into items by ``etl dataset process-items --submit`` on the local
runner; the item PgSTAC serves links its assets by their Azurite URL, which opens over plain HTTP
once the container allows anonymous reads (as a public container in Azure does). ``blob://``
hrefs that a collection leaves in its items are rewritten the same way unless the dataset says
``blob_hrefs: blob``.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from etl_cli import run_etl

from etl.core.profiles.local_services import azurite_blob_endpoint
from etl.core.profiles.model import Profile
from etl.core.storage.opening import open_storage

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "sample-sidecars"
if str(SAMPLE) not in sys.path:
    sys.path.insert(0, str(SAMPLE))

from sample_sidecars import data_path, generate_sidecars, sidecar_path  # noqa: E402

PREMADE_DATASET = """\
id: premade
args: [root, hrefs]
blob_hrefs: $<< args.hrefs >>
collections:
  - id: premade
    class: etl.dataset:PremadeItemCollection
    template: $<< local.path(./collection.json) >>
    asset_storage:
      - uri: $<< args.root >>/items
    chunk_storage:
      uri: $<< args.root >>/runs
"""


@pytest.fixture
def public_container(azurite_container: str, azurite_connection_string: str) -> str:
    """An Azurite container whose blobs anyone may read, as a public container in Azure."""
    from azure.storage.blob import ContainerClient

    client = ContainerClient.from_connection_string(azurite_connection_string, azurite_container)
    client.set_container_access_policy(signed_identifiers={}, public_access="blob")
    return azurite_container


def stored_item(dsn: str, collection_id: str, item_id: str) -> dict[str, Any]:
    from etl.pgstac.writer import PgstacWriter

    with PgstacWriter(dsn) as writer:
        item = writer.get_item(collection_id, item_id)
    assert item is not None, f"{item_id} is not in PgSTAC"
    return item


def http_get(url: str) -> bytes:
    """What a browser or a STAC client gets at ``url``: no credentials."""
    with urllib.request.urlopen(url, timeout=10) as response:
        data: bytes = response.read()
    return data


@pytest.mark.postgres
@pytest.mark.azurite
def test_sample_items_from_azurite_link_urls_that_open(
    env: dict[str, str], public_container: str, pgstac_dsn: str
) -> None:
    root = f"blob://devstoreaccount1/{public_container}"
    generate_sidecars(3, f"{root}/assets")

    result = run_etl("dataset", "process-items", "-d", "datasets/sample-sidecars",
                     "-a", f"root={root}", "--submit", env=env)  # fmt: skip

    assert result.returncode == 0, result.stderr
    item = stored_item(pgstac_dsn, "sample-sidecars", "sample-scene-0000002")
    assert "blob://" not in json.dumps(item)
    assets = f"{azurite_blob_endpoint()}/{public_container}/assets"
    assert item["assets"]["data"]["href"] == f"{assets}/{data_path(2)}"
    assert http_get(item["assets"]["data"]["href"]).startswith(b"band,mean,std\n")
    sidecar = json.loads(http_get(item["assets"]["metadata"]["href"]))
    assert sidecar["scene_id"] == "sample-scene-0000002"
    assert item["assets"]["metadata"]["href"] == f"{assets}/{sidecar_path(2)}"


def write_premade_dataset(folder: Path, root: str, container: str) -> None:
    """A dataset of ready-made items whose hrefs are ``blob://`` URIs, and those items."""
    folder.mkdir()
    (folder / "dataset.yaml").write_text(PREMADE_DATASET)
    collection = {
        "type": "Collection", "stac_version": "1.1.0", "id": "premade", "description": "Premade",
        "license": "proprietary", "links": [],
        "extent": {"spatial": {"bbox": [[0, 0, 1, 1]]},
                   "temporal": {"interval": [["2024-01-01T00:00:00Z", None]]}},
    }  # fmt: skip
    (folder / "collection.json").write_text(json.dumps(collection))
    storage = open_storage(root, profile=Profile.builtin_local())
    storage.write_text("data/scene 1.csv", "band,mean\nB01,0.5\n")
    item = {
        "type": "Feature", "stac_version": "1.1.0", "id": "scene-1", "collection": "premade",
        "geometry": {"type": "Point", "coordinates": [0.5, 0.5]}, "bbox": [0.5, 0.5, 0.5, 0.5],
        "properties": {"datetime": "2024-01-01T00:00:00Z"},
        "assets": {"data": {"href": f"{root}/data/scene 1.csv", "type": "text/csv"}},
        "links": [{"rel": "via", "href": f"blob://devstoreaccount1/{container}/items/scene-1.json"}],
    }  # fmt: skip
    storage.write_text("items/scene-1.json", json.dumps(item))


@pytest.mark.postgres
@pytest.mark.azurite
def test_blob_hrefs_left_in_items_become_urls_unless_the_dataset_keeps_them(
    env: dict[str, str], public_container: str, pgstac_dsn: str, tmp_path: Path
) -> None:
    root = f"blob://devstoreaccount1/{public_container}"
    write_premade_dataset(tmp_path / "premade", root, public_container)
    command = ("dataset", "process-items", "-d", str(tmp_path / "premade"), "-a", f"root={root}")

    made_urls = run_etl(*command, "-a", "hrefs=https", "--submit", env=env)

    assert made_urls.returncode == 0, made_urls.stderr
    item = stored_item(pgstac_dsn, "premade", "scene-1")
    container_url = f"{azurite_blob_endpoint()}/{public_container}"
    assert item["assets"]["data"]["href"] == f"{container_url}/data/scene%201.csv"
    assert http_get(item["assets"]["data"]["href"]) == b"band,mean\nB01,0.5\n"
    via = [link["href"] for link in item["links"] if link["rel"] == "via"]
    assert via == [f"{container_url}/items/scene-1.json"]

    kept = run_etl(*command, "-a", "hrefs=blob", "--submit", env=env)

    assert kept.returncode == 0, kept.stderr
    item = stored_item(pgstac_dsn, "premade", "scene-1")
    assert item["assets"]["data"]["href"] == f"{root}/data/scene 1.csv"


def test_an_unknown_blob_hrefs_value_is_a_located_error(config_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "premade"
    folder.mkdir()
    (folder / "dataset.yaml").write_text(PREMADE_DATASET)
    (folder / "collection.json").write_text("{}")

    result = run_etl("dataset", "validate", "-d", str(folder),
                     "-a", f"root={tmp_path}", "-a", "hrefs=sas", env=dict(os.environ))  # fmt: skip

    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith(f"error: {folder / 'dataset.yaml'}:3:")
    assert "blob_hrefs" in line and "'https' or 'blob'" in line
