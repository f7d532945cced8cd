"""The example datasets under ``datasets/``: they validate and render through the real CLI, the
sample generator is deterministic (folders and Azurite), the collection classes make valid items,
and the sample dataset runs end to end on the local profile into PgSTAC, idempotently."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pystac
import pytest
from etl_cli import run_etl as etl

from etl.core.errors import StorageError
from etl.core.profiles.model import Profile
from etl.core.storage.opening import open_storage, open_storage_for
from etl.core.storage.uris import file_uri

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "sample-sidecars"
SENTINEL = ROOT / "datasets" / "sentinel-2-l2a"
for _code_folder in (SAMPLE, SENTINEL):
    if str(_code_folder) not in sys.path:
        sys.path.insert(0, str(_code_folder))

from sample_sidecars import (  # noqa: E402
    COLLECTION_ID,
    SampleSidecarsCollection,
    SidecarError,
    data_path,
    generate_sidecars,
    sidecar_path,
    sidecar_record,
)
from sentinel2_l2a import ProductMetadataError, Sentinel2L2ACollection  # noqa: E402


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


# --- validate and render ------------------------------------------------------------------------


def test_sample_dataset_validates(config_dir: Path, tmp_path: Path) -> None:
    result = etl("dataset", "validate", "-d", "datasets/sample-sidecars", "-a", f"root={tmp_path}")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok: sample-sidecars (1 collection)\n"


def test_sample_dataset_without_root_is_a_located_error(config_dir: Path) -> None:
    result = etl("dataset", "validate", "-d", "datasets/sample-sidecars")
    assert result.returncode == 2
    assert result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line
    assert line.startswith("error: datasets/sample-sidecars/dataset.yaml:")
    assert "collections[0].asset_storage[0].uri" in line
    assert "pass -a root=VALUE" in line


def test_sentinel_dataset_validates(config_dir: Path) -> None:
    result = etl("dataset", "validate", "-d", "datasets/sentinel-2-l2a")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok: sentinel-2-l2a (1 collection)\n"


def _containers(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t["container"] for t in manifest["spec"]["templates"] if "container" in t}


def test_sample_dataset_renders_the_local_pipeline(config_dir: Path, tmp_path: Path) -> None:
    result = etl(
        "dataset",
        "render",
        "-d",
        "datasets/sample-sidecars",
        "-a",
        f"root={tmp_path}",
        "-o",
        "json",
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads(result.stdout)
    assert manifest["kind"] == "Workflow"
    assert manifest["metadata"]["generateName"] == "sample-sidecars-process-items-"
    commands = {c["args"][0] for c in _containers(manifest).values()}
    assert {"ingest-collection", "create-chunks", "process-chunks"} <= commands
    # Rendering plans the code bundle but uploads nothing.
    assert not (tmp_path / "runs").exists()
    assert not (config_dir.parent / "state" / "bundles").exists()


def test_sentinel_dataset_renders_with_secret_refs_and_resources(config_dir: Path) -> None:
    result = etl("dataset", "render", "-d", "datasets/sentinel-2-l2a", "-o", "json")
    assert result.returncode == 0, result.stderr
    manifest = json.loads(result.stdout)
    containers = _containers(manifest)
    assert len(result.stdout) < 20_000  # the manifest does not grow with the assets
    for container in containers.values():
        assert container["image"] == "myregistry.azurecr.io/etl-task-sentinel-2:0.1.0"
        refs = {e["valueFrom"]["secretKeyRef"]["key"] for e in container["env"] if "valueFrom" in e}
        assert refs == {"sentinel2l2a01-read-sas", "sentinel2l2a01-etl-sas"}
    by_command = {c["args"][0]: c for c in containers.values()}
    assert by_command["process-chunks"]["resources"] == {
        "requests": {"cpu": "1", "memory": "2Gi"},
        "limits": {"memory": "4Gi"},
    }
    assert by_command["ingest-collection"]["resources"]["requests"]["cpu"] == "250m"


# --- the sample generator -----------------------------------------------------------------------


def test_generator_is_deterministic_and_a_prefix_of_larger_runs(tmp_path: Path) -> None:
    first = generate_sidecars(6, str(tmp_path / "a"))
    generate_sidecars(6, str(tmp_path / "b"))
    generate_sidecars(3, str(tmp_path / "c"))
    generate_sidecars(3, str(tmp_path / "d"), seed=99)
    a, b, c, d = (tree(tmp_path / name) for name in "abcd")
    assert first.scenes == 6 and first.written == 12 and first.unchanged == 0
    assert a == b
    assert len(a) == 12
    assert c == {path: data for path, data in a.items() if path in c} and len(c) == 6
    assert set(d) == set(c) and d != c
    assert sidecar_path(9) == "2024/01/02/sample-scene-0000009.json"
    assert data_path(9) == "2024/01/02/sample-scene-0000009.csv"


def test_generator_rerun_rewrites_nothing(tmp_path: Path) -> None:
    generate_sidecars(4, str(tmp_path))
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.json")}
    again = generate_sidecars(4, str(tmp_path))
    assert (again.written, again.unchanged) == (0, 8)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.json")} == mtimes


def test_generator_refuses_a_negative_count(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="count must be 0 or more"):
        generate_sidecars(-1, str(tmp_path))


def test_generator_script_writes_and_reports(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SAMPLE / "generate.py"), "--count", "5", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"5 scenes in {file_uri(tmp_path / 'out')}: 10 objects written")
    assert len(list((tmp_path / "out").rglob("*.json"))) == 5


@pytest.mark.azurite
def test_generator_writes_to_azurite_and_items_read_back(azurite_container: str) -> None:
    target = f"blob://devstoreaccount1/{azurite_container}/scenes"
    result = generate_sidecars(4, target)
    assert result.uri == target
    profile = Profile.builtin_local()
    storage = open_storage(target, profile=profile)
    paths = [info.path for info in storage.list_objects()]
    assert paths == sorted([sidecar_path(i) for i in range(4)] + [data_path(i) for i in range(4)])


@pytest.mark.azurite
def test_items_of_blob_assets_link_their_urls(azurite_container: str) -> None:
    profile = Profile.builtin_local()  # devstoreaccount1 is Azurite, with its well-known key
    root = f"blob://devstoreaccount1/{azurite_container}/scenes"
    generate_sidecars(4, root, profile=profile)  # or write your own fixtures with storage.write_*
    uri = f"{root}/{sidecar_path(2)}"

    item = SampleSidecarsCollection.create_item(uri, open_storage_for(uri, profile=profile))

    assert item.id == "sample-scene-0000002"
    azurite = f"http://127.0.0.1:10000/devstoreaccount1/{azurite_container}"
    assert item.assets["data"].href == f"{azurite}/scenes/{data_path(2)}"
    assert item.assets["metadata"].href == f"{azurite}/scenes/{sidecar_path(2)}"
    assert item.validate()


def test_writing_a_dataset_shows_the_blob_recipe_as_tested() -> None:
    recipe = inspect.getsource(test_items_of_blob_assets_link_their_urls)
    assert textwrap.indent(recipe, "   ") in (ROOT / "docs" / "writing-a-dataset.md").read_text()


# --- the collection classes ---------------------------------------------------------------------


def test_sample_items_match_their_sidecars(tmp_path: Path) -> None:
    generate_sidecars(8, str(tmp_path))
    storage = open_storage(str(tmp_path))
    for index in range(8):
        uri = storage.uri_of(sidecar_path(index))
        item = SampleSidecarsCollection.create_item(uri, open_storage_for(uri))
        record = sidecar_record(index)
        assert item.id == record["scene_id"]
        assert item.collection_id == COLLECTION_ID
        assert item.geometry == record["footprint"]
        ring = record["footprint"]["coordinates"][0]
        assert ring[0] == ring[-1]
        west, south, east, north = item.bbox or []
        assert all(west <= lon <= east and south <= lat <= north for lon, lat in ring)
        assert {west, east} <= {lon for lon, _ in ring}
        assert item.datetime is not None
        assert item.datetime.isoformat() == record["acquired"].replace("Z", "+00:00")
        assert item.properties["platform"] == record["platform"]
        assert item.properties["sample:cloud_cover"] == record["cloud_cover"]
        assert storage.exists(item.assets["data"].href)
        assert item.assets["metadata"].href == uri
    # STAC 1.1 core schemas ship with pystac: this validation needs no network.
    for index in (0, 7):
        uri = storage.uri_of(sidecar_path(index))
        assert SampleSidecarsCollection.create_item(uri, open_storage_for(uri)).validate()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("not json", "not JSON"),
        ('{"scene_id": "x"}', "missing acquired, footprint, platform, data_file"),
        (
            '{"scene_id": "x", "acquired": "2024-01-01T00:00:00", "platform": "p", '
            '"data_file": "x.csv", "footprint": {"type": "Polygon", "coordinates": '
            "[[[0,0],[1,0],[1,1],[0,0]]]}}",
            "has no time zone",
        ),
        (
            '{"scene_id": "x", "acquired": "2024-01-01T00:00:00Z", "platform": "p", '
            '"data_file": "x.csv", "footprint": {"type": "Point", "coordinates": [0, 0]}}',
            "footprint must be a GeoJSON Polygon",
        ),
    ],
)
def test_sample_bad_sidecars_name_the_file_and_problem(
    tmp_path: Path, content: str, problem: str
) -> None:
    (tmp_path / "bad.json").write_text(content)
    uri = file_uri(tmp_path / "bad.json")
    with pytest.raises(SidecarError, match=problem) as caught:
        SampleSidecarsCollection.create_item(uri, open_storage_for(uri))
    assert str(caught.value).startswith(uri + ": ")


def test_sample_missing_sidecar_is_a_storage_error(tmp_path: Path) -> None:
    uri = file_uri(tmp_path / "gone.json")
    with pytest.raises(StorageError, match="not found"):
        SampleSidecarsCollection.create_item(uri, open_storage_for(uri))


SENTINEL_METADATA = """<?xml version="1.0" encoding="UTF-8"?>
<n1:Level-2A_User_Product xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_Level-2A.xsd">
  <n1:General_Info>
    <Product_Info>
      <PRODUCT_START_TIME>2022-01-06T21:05:19.024Z</PRODUCT_START_TIME>
      <PRODUCT_URI>S2B_MSIL2A_20220106T210519_N0300_R071_T01CCV_20220108T025453.SAFE</PRODUCT_URI>
      <PROCESSING_BASELINE>03.00</PROCESSING_BASELINE>
      <Datatake datatakeIdentifier="GS2B_20220106T210519_025146_N03.00">
        <SPACECRAFT_NAME>Sentinel-2B</SPACECRAFT_NAME>
        <SENSING_ORBIT_NUMBER>71</SENSING_ORBIT_NUMBER>
        <SENSING_ORBIT_DIRECTION>DESCENDING</SENSING_ORBIT_DIRECTION>
      </Datatake>
      <Product_Organisation><Granule_List><Granule>
        <IMAGE_FILE>GRANULE/L2A_T01CCV_A025146/IMG_DATA/R10m/T01CCV_20220106T210519_B02_10m</IMAGE_FILE>
        <IMAGE_FILE>GRANULE/L2A_T01CCV_A025146/IMG_DATA/R10m/T01CCV_20220106T210519_TCI_10m</IMAGE_FILE>
        <IMAGE_FILE>GRANULE/L2A_T01CCV_A025146/IMG_DATA/R20m/T01CCV_20220106T210519_B02_20m</IMAGE_FILE>
        <IMAGE_FILE>GRANULE/L2A_T01CCV_A025146/IMG_DATA/R20m/T01CCV_20220106T210519_SCL_20m</IMAGE_FILE>
        <IMAGE_FILE>GRANULE/L2A_T01CCV_A025146/IMG_DATA/R60m/T01CCV_20220106T210519_SCL_60m</IMAGE_FILE>
      </Granule></Granule_List></Product_Organisation>
    </Product_Info>
  </n1:General_Info>
  <n1:Geometric_Info><Product_Footprint><Product_Footprint><Global_Footprint>
    <EXT_POS_LIST>-80.1 -178.9 -80.2 -174.0 -81.1 -174.3 -81.0 -179.5 -80.1 -178.9</EXT_POS_LIST>
  </Global_Footprint></Product_Footprint></Product_Footprint></n1:Geometric_Info>
  <n1:Quality_Indicators_Info>
    <Cloud_Coverage_Assessment>12.5</Cloud_Coverage_Assessment>
  </n1:Quality_Indicators_Info>
</n1:Level-2A_User_Product>
"""


def test_sentinel_item_from_product_metadata(tmp_path: Path) -> None:
    # Only the structure is checked here: the eo/sat extension schemas are not shipped with pystac,
    # so full STAC validation of this item would need the network.
    product = tmp_path / "S2B_MSIL2A_20220106T210519_N0300_R071_T01CCV_20220108T025453.SAFE"
    product.mkdir()
    (product / "MTD_MSIL2A.xml").write_text(SENTINEL_METADATA)
    uri = file_uri(product / "MTD_MSIL2A.xml")
    item = Sentinel2L2ACollection.create_item(uri, open_storage_for(uri))
    assert item.id == "S2B_MSIL2A_20220106T210519_R071_T01CCV_20220108T025453"
    assert item.collection_id == "sentinel-2-l2a"
    assert item.geometry is not None
    assert item.geometry["coordinates"][0][:2] == [[-178.9, -80.1], [-174.0, -80.2]]
    assert item.bbox == [-179.5, -81.1, -174.0, -80.1]
    assert item.datetime is not None and item.datetime.isoformat().startswith("2022-01-06T21:05:19")
    assert item.properties["platform"] == "sentinel-2b"
    assert item.properties["eo:cloud_cover"] == 12.5
    assert item.properties["sat:orbit_state"] == "descending"
    assert item.properties["s2:mgrs_tile"] == "01CCV"
    assert sorted(item.assets) == ["B02", "SCL", "TCI", "product-metadata"]
    assert item.assets["B02"].href.endswith("R10m/T01CCV_20220106T210519_B02_10m.tif")
    assert item.assets["SCL"].extra_fields["gsd"] == 20.0
    assert item.assets["TCI"].roles == ["visual"]


def test_sentinel_missing_field_is_named(tmp_path: Path) -> None:
    (tmp_path / "MTD_MSIL2A.xml").write_text(
        SENTINEL_METADATA.replace("<Cloud_Coverage_Assessment>12.5</Cloud_Coverage_Assessment>", "")
    )
    uri = file_uri(tmp_path / "MTD_MSIL2A.xml")
    with pytest.raises(ProductMetadataError, match="no Cloud_Coverage_Assessment"):
        Sentinel2L2ACollection.create_item(uri, open_storage_for(uri))


# --- end to end on the local profile ------------------------------------------------------------


def _count_items(dsn: str) -> int:
    from etl.pgstac.writer import PgstacWriter

    with PgstacWriter(dsn) as writer:
        return writer.count_items(COLLECTION_ID)


def _stored(dsn: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The collection, and the item of scene 3, as PgSTAC serves them."""
    from etl.pgstac.writer import PgstacWriter

    with PgstacWriter(dsn) as writer:
        return writer.get_collection(COLLECTION_ID), writer.get_item(
            COLLECTION_ID, "sample-scene-0000003"
        )


@pytest.mark.postgres
def test_sample_dataset_runs_end_to_end_and_reruns_idempotently(
    config_dir: Path, tmp_path: Path, pgstac_dsn: str
) -> None:
    root = tmp_path / "sample"
    generate_sidecars(30, str(root / "assets"))
    env = {"ETL_PGSTAC_DSN": pgstac_dsn}
    command = ("dataset", "process-items", "-d", "datasets/sample-sidecars", "-a", f"root={root}")
    first = etl(*command, "--submit", "-o", "json", env=env)
    assert first.returncode == 0, first.stderr
    submitted = json.loads(first.stdout)
    assert (submitted["runner"], submitted["status"]) == ("local", "Succeeded")
    run_name = submitted["name"]
    assert run_name.startswith("sample-sidecars-process-items-")
    assert _count_items(pgstac_dsn) == 30
    items_written = sum(
        len(p.read_text().splitlines())
        for p in (root / "runs" / run_name / "items").glob("*.ndjson")
    )
    assert items_written == 30
    status = etl("workflow", "get", run_name, "-o", "json", env=env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["phase"] == "Succeeded"
    collection, item = _stored(pgstac_dsn)
    assert collection is not None and item is not None
    # The template's {{ collection.description }} became description.md's text.
    assert collection["description"].startswith("Synthetic satellite scenes made by")
    assert pystac.Collection.from_dict(collection).validate()
    assert item["geometry"] == sidecar_record(3)["footprint"]
    assert item["assets"]["data"]["href"] == file_uri(root / "assets" / data_path(3))

    second = etl(*command, "--submit", env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() != run_name
    assert _count_items(pgstac_dsn) == 30
