"""``etl ingest collection | items``, run as a user would: manifests, then real loads into PgSTAC.

The manifests are checked against Argo's schema (the helpers of ``test_manifest_schema``); the
local-profile runs load a per-test PgSTAC database through the real ``etl`` and ``etl-task``
processes; blob sources are read from Azurite; an Argo profile's local files are uploaded to its
code storage (Azurite) and the workflow goes to the stand-in Argo Server.
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from argo_schema import manifest_errors
from argo_server import ARGO_PROFILE, ArgoServerStandIn
from compile_cases import argo_profile, keyvault_profile
from etl_cli import run_etl

from etl.argo.compiling.ingest import compile_ingest_collection, compile_ingest_items
from etl.argo.ingest_sources import plan_sources
from etl.core.profiles.model import Profile
from etl.pgstac.writer import PgstacWriter

COLLECTION_ID = "ingest-test"
COLLECTION: dict[str, Any] = {
    "type": "Collection",
    "stac_version": "1.0.0",
    "id": COLLECTION_ID,
    "title": "Items for ingest tests",
    "description": "Ready-made items loaded with etl ingest.",
    "license": "CC0-1.0",
    "extent": {
        "spatial": {"bbox": [[-180, -90, 180, 90]]},
        "temporal": {"interval": [["2020-01-01T00:00:00Z", None]]},
    },
    "links": [],
}


def item(n: int, collection: str = COLLECTION_ID) -> dict[str, Any]:
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": f"item-{n:05d}",
        "collection": collection,
        "geometry": {"type": "Point", "coordinates": [n % 180, n % 90]},
        "bbox": [n % 180, n % 90, n % 180, n % 90],
        "properties": {"datetime": "2021-05-01T00:00:00Z", "n": n},
        "links": [],
        "assets": {},
    }


def ndjson(items: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(i) + "\n" for i in items)


def write_items(path: Path, numbers: range, collection: str = COLLECTION_ID) -> Path:
    path.write_text(ndjson([item(n, collection) for n in numbers]))
    return path


def count(dsn: str) -> int:
    with PgstacWriter(dsn) as writer:
        return writer.count_items(COLLECTION_ID)


def create_collection(dsn: str, items: list[dict[str, Any]] | None = None) -> None:
    """Setup through the library, for the tests about something else."""
    with PgstacWriter(dsn) as writer:
        writer.upsert_collection(COLLECTION)
        if items:
            writer.load_items(items, COLLECTION_ID)


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


@pytest.fixture
def collection_file(tmp_path: Path) -> Path:
    path = tmp_path / "collection.json"
    path.write_text(json.dumps(COLLECTION, indent=2))
    return path


def assert_valid_argo(manifest: dict[str, Any]) -> None:
    from hera.workflows import models

    assert manifest_errors(manifest) == []
    parsed = models.Workflow.model_validate(copy.deepcopy(manifest))
    assert parsed.model_dump(mode="json", by_alias=True, exclude_none=True) == manifest


def container(manifest: dict[str, Any]) -> dict[str, Any]:
    (step,) = [t for t in manifest["spec"]["templates"] if "container" in t]
    return dict(step["container"]) | {"retryStrategy": step["retryStrategy"]}


# -- the manifests ---------------------------------------------------------------------------


def test_rendered_manifests_of_the_local_profile_are_valid_argo(
    env: dict[str, str], tmp_path: Path, collection_file: Path
) -> None:
    a = write_items(tmp_path / "a.ndjson", range(3))
    b = write_items(tmp_path / "b.ndjson", range(3, 5))

    items = run_etl("ingest", "items", str(a), str(b), "-c", COLLECTION_ID, "-o", "json", env=env)
    collection = run_etl("ingest", "collection", str(collection_file), env=env)

    assert items.returncode == 0, items.stderr
    assert collection.returncode == 0, collection.stderr
    items_manifest = json.loads(items.stdout)
    collection_manifest = yaml.safe_load(collection.stdout)
    for manifest in (items_manifest, collection_manifest):
        assert_valid_argo(manifest)
    step = container(items_manifest)
    assert [step["command"][0], *step["args"]] == [
        "etl-task", "ingest-items", str(a), str(b), "--collection", COLLECTION_ID,
        "--method", "upsert",
    ]  # fmt: skip
    assert step["retryStrategy"]["limit"] == "3"
    assert items_manifest["metadata"]["generateName"] == f"ingest-items-{COLLECTION_ID}-"
    assert items_manifest["metadata"]["labels"]["etl.dev/collection"] == COLLECTION_ID
    assert container(collection_manifest)["args"] == [
        "ingest-collection", "--file", str(collection_file),
    ]  # fmt: skip


@pytest.mark.parametrize("profile", [argo_profile(), keyvault_profile()], ids=["k8s", "keyvault"])
def test_manifests_for_argo_profiles_are_valid_argo(profile: Profile, tmp_path: Path) -> None:
    blob = "blob://data/items/part-0.ndjson"
    local = write_items(tmp_path / "local.ndjson", range(2))
    planned = plan_sources([blob, str(local)], profile)

    items = compile_ingest_items(planned, COLLECTION_ID, profile, method="insert")
    collection = compile_ingest_collection(
        plan_sources(["blob://data/collection.json"], profile)[0], profile, retries=1
    )

    for manifest in (items, collection):
        assert_valid_argo(manifest)
        assert manifest["metadata"]["namespace"] == "etl"
        assert container(manifest)["image"] == "ghcr.io/example/etl-task:latest"
    args = container(items)["args"]
    assert args[1] == blob
    assert args[2].startswith("blob://etlcode/bundles/_ingest/")
    assert args[2].endswith("/local.ndjson")
    assert container(items)["retryStrategy"]["limit"] == "0"  # insert: a retry would conflict
    assert container(collection)["retryStrategy"]["limit"] == "1"
    steps = {t["name"]: t for t in items["spec"]["templates"]}
    assert "synchronization" in steps["ingest-items"]  # the PgSTAC semaphore


def test_the_manifest_does_not_grow_with_the_items(env: dict[str, str], tmp_path: Path) -> None:
    source = write_items(tmp_path / "items.ndjson", range(3))
    small = run_etl("ingest", "items", str(source), "-c", COLLECTION_ID, env=env)
    write_items(source, range(20_000))
    large = run_etl("ingest", "items", str(source), "-c", COLLECTION_ID, env=env)

    assert small.returncode == 0, small.stderr
    assert small.stdout == large.stdout
    assert small.stderr == large.stderr == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["items", "-c", COLLECTION_ID], "Missing argument 'SOURCE'"),
        (["items", "x.ndjson"], "Missing option '--collection'"),
        (["items", "x.ndjson", "-c", "c", "--method", "replace"], "Invalid value for '--method'"),
        (["items", "missing.ndjson", "-c", "c"], "error: missing.ndjson: no such file"),
        (["collection", "missing.json"], "error: missing.json: no such file"),
        (["collection", "blob://a/b/c.json", "--wait"], "--wait needs --submit"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    env: dict[str, str], args: list[str], message: str
) -> None:
    result = run_etl("ingest", *args, env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(error_lines(result)) == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


# -- loading with the local runner ---------------------------------------------------------------


def test_collection_then_items_load_and_an_upsert_rerun_keeps_the_count(
    env: dict[str, str], tmp_path: Path, collection_file: Path, pgstac_dsn: str
) -> None:
    a = write_items(tmp_path / "a.ndjson", range(30))
    b = write_items(tmp_path / "b.ndjson", range(30, 45))

    created = run_etl("ingest", "collection", str(collection_file), "--submit", "-o", "json",
                      env=env)  # fmt: skip
    loaded = run_etl("ingest", "items", str(a), str(b), "--collection", COLLECTION_ID,
                     "--submit", env=env)  # fmt: skip

    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["status"] == "Succeeded"
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith(f"ingest-items-{COLLECTION_ID}-")
    assert "(items=45)" in loaded.stderr
    with PgstacWriter(pgstac_dsn) as writer:
        assert writer.count_items(COLLECTION_ID) == 45
        stored = writer.get_collection(COLLECTION_ID)
        assert stored is not None and stored["title"] == COLLECTION["title"]

    write_items(b, range(30, 50))  # the re-run also brings five new items
    again = run_etl("ingest", "items", str(a), str(b), "-c", COLLECTION_ID, "--method", "upsert",
                    "--submit", env=env)  # fmt: skip

    assert again.returncode == 0, again.stderr
    assert count(pgstac_dsn) == 50
    listed = json.loads(run_etl("workflow", "list", "-o", "json", env=env).stdout)
    assert [w["phase"] for w in listed] == ["Succeeded"] * 3


def test_insert_over_existing_ids_fails_with_exit_1(
    env: dict[str, str], tmp_path: Path, pgstac_dsn: str
) -> None:
    a = write_items(tmp_path / "a.ndjson", range(10))
    create_collection(pgstac_dsn, [item(n) for n in range(3, 6)])

    again = run_etl("ingest", "items", str(a), "-c", COLLECTION_ID, "--method", "insert",
                    "--submit", env=env)  # fmt: skip

    assert again.returncode == 1
    assert error_lines(again) == [f"error: workflow '{again.stdout.strip()}' ended Failed"]
    assert "3 item id(s) already exist: item-00003, item-00004, item-00005" in again.stderr
    assert "Traceback" not in again.stderr
    assert count(pgstac_dsn) == 3


def test_a_malformed_line_is_located_and_fails_the_load(
    env: dict[str, str], tmp_path: Path, pgstac_dsn: str
) -> None:
    good = write_items(tmp_path / "good.ndjson", range(4))
    bad = tmp_path / "bad.ndjson"
    bad.write_text(ndjson([item(10), item(11)]) + '{"id": "item-00012", \n')
    create_collection(pgstac_dsn)

    result = run_etl("ingest", "items", str(good), str(bad), "-c", COLLECTION_ID,
                     "--retries", "0", "--submit", env=env)  # fmt: skip

    assert result.returncode == 1
    assert f"error: {bad}:3: not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr
    assert count(pgstac_dsn) == 4  # the file before it stays loaded; the bad file's batch did not


def test_items_of_another_collection_are_refused(
    env: dict[str, str], tmp_path: Path, pgstac_dsn: str
) -> None:
    other = write_items(tmp_path / "other.ndjson", range(3), collection="somewhere-else")
    create_collection(pgstac_dsn)

    result = run_etl("ingest", "items", str(other), "-c", COLLECTION_ID, "--retries", "0",
                     "--submit", env=env)  # fmt: skip

    assert result.returncode == 1
    assert (
        f"error: {other} item #1: item 'item-00000': belongs to collection 'somewhere-else', "
        f"not '{COLLECTION_ID}'"
    ) in result.stderr
    assert count(pgstac_dsn) == 0


def test_a_file_that_is_no_collection_is_located(env: dict[str, str], tmp_path: Path) -> None:
    broken = tmp_path / "collection.json"
    broken.write_text('{\n  "type": "Collection",\n  "id": oops\n}\n')

    result = run_etl("ingest", "collection", str(broken), "--retries", "0", "--submit", env=env)

    assert result.returncode == 1
    assert f"error: {broken}:3:9: not JSON: Expecting value" in result.stderr


def test_blob_sources_are_read_from_azurite(
    env: dict[str, str], azurite_connection_string: str, azurite_container: str, pgstac_dsn: str
) -> None:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(azurite_connection_string)
    container_client = service.get_container_client(azurite_container)
    container_client.upload_blob("stac/collection.json", json.dumps(COLLECTION))
    container_client.upload_blob("stac/items/0.ndjson", ndjson([item(n) for n in range(7)]))
    container_client.upload_blob("stac/items/1.ndjson", ndjson([item(n) for n in range(7, 12)]))
    root = f"blob://devstoreaccount1/{azurite_container}/stac"

    created = run_etl("ingest", "collection", f"{root}/collection.json", "--submit", env=env)
    loaded = run_etl("ingest", "items", f"{root}/items/0.ndjson", f"{root}/items/1.ndjson",
                     "-c", COLLECTION_ID, "--submit", env=env)  # fmt: skip

    assert created.returncode == 0, created.stderr
    assert loaded.returncode == 0, loaded.stderr
    assert count(pgstac_dsn) == 12


# -- an Argo profile -------------------------------------------------------------------------


@pytest.fixture
def argo_env(argo_env: dict[str, str], argo_server: ArgoServerStandIn) -> dict[str, str]:
    """Profile ``prod`` on the stand-in Argo Server, code storage in an Azurite container; profile
    ``bare`` on the same server without code storage."""
    created = run_etl("profile", "create", "bare", "--argo-server", argo_server.url,
                      *ARGO_PROFILE, env=argo_env)  # fmt: skip
    assert created.returncode == 0, created.stderr
    return argo_env


def test_argo_profile_uploads_local_files_and_submits(
    argo_env: dict[str, str],
    argo_server: ArgoServerStandIn,
    tmp_path: Path,
    azurite_connection_string: str,
    azurite_container: str,
) -> None:
    from azure.storage.blob import BlobServiceClient

    source = write_items(tmp_path / "part.ndjson", range(5))
    options = ["-p", "prod", "ingest", "items", str(source), "-c", COLLECTION_ID]

    rendered = run_etl(*options, "-o", "json", env=argo_env)
    submitted = run_etl(*options, "--submit", "--wait", "-o", "json", env=argo_env)
    resubmitted = run_etl(*options, "--submit", env=argo_env)

    assert submitted.returncode == 0, submitted.stderr
    assert json.loads(submitted.stdout)["status"] == "Succeeded"
    manifest = json.loads(rendered.stdout)
    created = [r.body for r in argo_server.requests if r.method == "POST"]
    assert created[0]["workflow"] == manifest
    uri = container(manifest)["args"][1]
    assert uri.startswith(f"blob://devstoreaccount1/{azurite_container}/code/_ingest/")
    assert f"uploaded {source} to {uri}" in submitted.stderr
    assert "uploaded" not in resubmitted.stderr  # content-addressed: already there
    blob_name = uri.split(f"/{azurite_container}/", 1)[1]
    service = BlobServiceClient.from_connection_string(azurite_connection_string)
    blob = service.get_blob_client(azurite_container, blob_name)
    assert blob.download_blob().readall() == source.read_bytes()


def test_argo_profile_without_code_storage_refuses_local_files(
    argo_env: dict[str, str], tmp_path: Path
) -> None:
    source = write_items(tmp_path / "part.ndjson", range(2))

    local = run_etl("-p", "bare", "ingest", "items", str(source), "-c", "x", env=argo_env)
    remote = run_etl("-p", "bare", "ingest", "items", "blob://acct/c/p.ndjson", "-c", "x",
                     env=argo_env)  # fmt: skip

    assert local.returncode == 2
    assert error_lines(local) == [
        f"error: {source}: pods of profile 'bare' cannot read files of this machine; pass a "
        "blob:// URI, or set workflow.code_storage so that etl uploads local files there"
    ]
    assert remote.returncode == 0, remote.stderr


# -- many sources ----------------------------------------------------------------------------


def test_many_sources_go_through_a_list_file_and_all_load(
    env: dict[str, str], tmp_path: Path, pgstac_dsn: str
) -> None:
    create_collection(pgstac_dsn)
    sources = [
        str(write_items(tmp_path / f"{n}.ndjson", range(2 * n, 2 * n + 2))) for n in range(25)
    ]
    options = ["ingest", "items", *sources, "-c", COLLECTION_ID]

    rendered = run_etl(*options, "-o", "json", env=env)
    loaded = run_etl(*options, "--submit", env=env)

    assert rendered.returncode == 0, rendered.stderr
    args = container(json.loads(rendered.stdout))["args"]
    assert not set(sources) & set(args)
    list_uri = args[args.index("--sources-file") + 1]
    assert list_uri.startswith("file://") and "/_ingest/lists/" in list_uri
    assert loaded.returncode == 0, loaded.stderr
    assert count(pgstac_dsn) == 50


def test_twelve_thousand_sources_make_a_small_manifest(
    argo_env: dict[str, str], argo_server: ArgoServerStandIn, azurite_connection_string: str,
    azurite_container: str,
) -> None:  # fmt: skip
    from azure.storage.blob import BlobServiceClient

    sources = [f"blob://devstoreaccount1/{azurite_container}/items/{n:05d}.ndjson"
               for n in range(12_000)]  # fmt: skip
    options = ["-p", "prod", "ingest", "items", *sources, "-c", COLLECTION_ID]

    rendered = run_etl(*options, "-o", "json", env=argo_env)
    submitted = run_etl(*options, "--submit", env=argo_env)

    assert rendered.returncode == 0, rendered.stderr
    assert len(rendered.stdout) < 20_000, "12,000 sources once made a manifest of 0.99 MB"
    args = container(json.loads(rendered.stdout))["args"]
    list_uri = args[args.index("--sources-file") + 1]
    assert list_uri.startswith(f"blob://devstoreaccount1/{azurite_container}/code/_ingest/lists/")
    assert submitted.returncode == 0, submitted.stderr
    assert f"uploaded the list of 12000 sources to {list_uri}" in submitted.stderr
    blob_name = list_uri.split(f"/{azurite_container}/", 1)[1]
    service = BlobServiceClient.from_connection_string(azurite_connection_string)
    listed = service.get_blob_client(azurite_container, blob_name).download_blob().readall()
    assert listed.decode().splitlines() == sources
