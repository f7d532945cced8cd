"""The code bundle: contents, content address, and upload to a folder or a blob container."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from compile_cases import DATASETS_DIR, argo_profile, dataset

from etl.argo.bundle import bundle_root, plan_bundle, upload_bundle
from etl.core.errors import ConfigError, ProfileError
from etl.core.pod_contract import DATASET_FILE
from etl.core.profiles.model import Profile, StorageAccount, WorkflowDefaults
from etl.core.storage.opening import open_storage
from etl.dataset.loader import load_dataset


def test_bundle_holds_code_requirements_templates_and_the_resolved_dataset() -> None:
    bundle = plan_bundle(dataset("landsat"), argo_profile())
    assert [f.path for f in bundle.files] == [
        "code/landsat_etl/__init__.py",
        "code/landsat_etl/collections.py",
        "dataset.json",
        "requirements.txt",
        "templates/landsat-8/template.json",
        "templates/landsat-9/template.json",
    ]
    document = json.loads(bundle.file(DATASET_FILE).content)
    assert document["code"] == {
        "src": "code/landsat_etl",
        "requirements": "requirements.txt",
        "pip_options": ["--only-binary", ":all:"],
    }
    assert [c["template"] for c in document["collections"]] == [
        "templates/landsat-8/template.json",
        "templates/landsat-9/template.json",
    ]
    assert document["collections"][0]["asset_storage"][0]["uri"].endswith("/oli-tirs/2024")
    assert bundle.file("requirements.txt").content == b"rio-stac==0.9.0\n"
    assert bundle.uri == f"blob://etlcode/bundles/landsat-c2/{bundle.digest}"
    assert bundle.dataset_uri == f"{bundle.uri}/dataset.json"


def test_secrets_stay_references_in_the_bundle() -> None:
    document = json.loads(
        plan_bundle(dataset("goes-glm"), argo_profile()).file(DATASET_FILE).content
    )
    assert document["collections"][0]["asset_storage"][0]["token"] == "$<< secrets.goes-sas >>"
    assert document["environment"]["API_TOKEN"] == "$<< secrets.glm-api-token >>"


def test_digest_follows_content_only(tmp_path: Path) -> None:
    copy = tmp_path / "goes-glm"
    shutil.copytree(DATASETS_DIR / "goes-glm", copy)
    original = plan_bundle(dataset("goes-glm"), argo_profile())
    moved = plan_bundle(load_dataset(copy), argo_profile())
    assert moved.digest == original.digest
    (copy / "collection" / "__pycache__").mkdir()
    (copy / "collection" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    assert plan_bundle(load_dataset(copy), argo_profile()).digest == original.digest
    (copy / "goes_glm.py").write_text((copy / "goes_glm.py").read_text() + "# changed\n")
    assert plan_bundle(load_dataset(copy), argo_profile()).digest != original.digest
    other_args = plan_bundle(
        load_dataset(DATASETS_DIR / "landsat", args={"year": "2023"}), argo_profile()
    )
    assert other_args.digest != plan_bundle(dataset("landsat"), argo_profile()).digest


def test_planning_uploads_nothing_and_upload_writes_the_files(tmp_path: Path) -> None:
    root = tmp_path / "bundles"
    profile = argo_profile(workflow=WorkflowDefaults(image="i", code_storage=f"file://{root}"))
    bundle = plan_bundle(dataset("goes-glm"), profile)
    assert not root.exists()
    assert upload_bundle(bundle, profile) == bundle.dataset_uri
    folder = root / "goes-glm" / bundle.digest
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == [
        "code/goes_glm.py",
        "dataset.json",
        "templates/goes-glm/collection/description.md",
        "templates/goes-glm/collection/template.json",
    ]
    assert (folder / "dataset.json").read_bytes() == bundle.file(DATASET_FILE).content


def test_upload_to_blob_storage(azurite_connection_string: str, azurite_container: str) -> None:
    profile = argo_profile(
        workflow=WorkflowDefaults(
            image="i", code_storage=f"blob://devstoreaccount1/{azurite_container}/b"
        ),
        storage={"devstoreaccount1": StorageAccount(connection_string=azurite_connection_string)},
    )
    bundle = plan_bundle(dataset("landsat"), profile)
    uri = upload_bundle(bundle, profile)
    storage = open_storage(bundle.uri, profile=profile)
    assert storage.read_bytes("dataset.json") == bundle.file(DATASET_FILE).content
    assert storage.read_text("code/landsat_etl/collections.py").startswith('"""Landsat 8 and 9')
    assert upload_bundle(bundle, profile) == uri == f"{bundle.uri}/dataset.json"


def test_local_runner_keeps_bundles_in_the_state_dir(config_dir: Path, tmp_path: Path) -> None:
    assert bundle_root(Profile.builtin_local()) == f"file://{tmp_path}/state/bundles"


def test_argo_profile_needs_code_storage() -> None:
    with pytest.raises(ProfileError, match=r"workflow\.code_storage"):
        bundle_root(argo_profile(workflow=WorkflowDefaults(image="i")))
    with pytest.raises(ProfileError, match="blob:// or file://"):
        bundle_root(argo_profile(workflow=WorkflowDefaults(image="i", code_storage="s3://x")))


def test_missing_code_is_a_located_error(tmp_path: Path) -> None:
    (tmp_path / "dataset.yaml").write_text(
        "id: d\nimage: i\ncode:\n  src: ./missing.py\n"
        "collections:\n  - {id: c, class: 'm:C', asset_storage: []}\n"
    )
    with pytest.raises(
        ConfigError, match=r"dataset.yaml:4:8: code.src: .*missing.py does not exist"
    ):
        plan_bundle(load_dataset(tmp_path), argo_profile())
