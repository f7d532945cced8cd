"""Assets stay confined to their storage, and every asset name survives the chunk file (issue 22,
findings 6 and 7).

Through ``etl dataset process-items --submit`` and ``etl workflow retry`` on the built-in ``local``
profile, with real PgSTAC, local files and Azurite: a dataset written here whose ``create_item``
reads the asset (a JSON record naming the item) and records the asset URI it was given, so PgSTAC
shows which file each item came from, under which name. Faults are injected as a user would: a
symlink in the asset folder, a hand-edited chunk file or manifest of a failed run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from etl_cli import run_etl as etl

from etl.core.profiles.resolve import resolve_profile
from etl.core.storage.opening import open_storage
from etl.pgstac.writer import PgstacWriter

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = "named"

pytestmark = pytest.mark.postgres

CODE = '''
import json
from datetime import datetime

import pystac

from etl.dataset import Collection


class Named(Collection):
    """An asset is {"id": ...}: one item, which records the asset URI it was made from."""

    @classmethod
    def create_item(cls, asset_uri, storage):
        record = json.loads(storage.read_text(asset_uri))
        if record.get("fail"):
            raise ValueError("asked to fail")
        item = pystac.Item(
            id=record["id"],
            geometry={"type": "Point", "coordinates": [1, 2]},
            bbox=[1, 2, 1, 2],
            datetime=datetime(2024, 1, 1),
            properties={"test:asset": asset_uri},
        )
        item.add_asset("data", pystac.Asset(href=storage.href_of(asset_uri), roles=["data"]))
        return item
'''


class Run(NamedTuple):
    """A finished ``process-items`` run (or ``workflow retry``)."""

    code: int
    name: str
    stderr: str


def dataset(tmp_path: Path, assets: str) -> Path:
    """The dataset's folder: its assets at ``assets``, its runs under ``tmp_path/runs``; a
    process-chunks pod is tried up to three times (only transient errors are tried again)."""
    folder = tmp_path / "dataset"
    folder.mkdir()
    (folder / "named.py").write_text(CODE)
    template = {
        "type": "Collection", "stac_version": "1.1.0", "id": COLLECTION, "description": "d",
        "license": "CC0-1.0", "links": [],
        "extent": {"spatial": {"bbox": [[0, 0, 1, 1]]},
                   "temporal": {"interval": [["2024-01-01T00:00:00Z", None]]}},
    }  # fmt: skip
    (folder / "collection.json").write_text(json.dumps(template))
    (folder / "dataset.yaml").write_text(f"""
id: {COLLECTION}
code:
  src: $<< local.path(./named.py) >>
collections:
  - id: {COLLECTION}
    class: named:Named
    template: $<< local.path(./collection.json) >>
    asset_storage:
      - uri: {assets}
        chunks:
          options:
            extensions: [.json]
    chunk_storage:
      uri: {tmp_path / "runs"}
task_config:
  {COLLECTION}:
    create-items:
      retries: 2
""")
    return folder


def process_items(folder: Path, env: dict[str, str]) -> Run:
    result = etl("dataset", "process-items", "-d", str(folder), "--submit", env=env)
    assert "Traceback" not in result.stderr
    return Run(result.returncode, result.stdout.strip(), result.stderr)


def retry(name: str, env: dict[str, str]) -> Run:
    result = etl("workflow", "retry", name, env=env)
    assert "Traceback" not in result.stderr
    return Run(result.returncode, name, result.stderr)


def loaded(dsn: str) -> dict[str, str]:
    """item id -> the asset URI its ``create_item`` was given, for every item in PgSTAC."""
    with PgstacWriter(dsn) as writer:
        items = [writer.get_item(COLLECTION, item_id) for item_id in writer.item_ids(COLLECTION)]
    return {item["id"]: item["properties"]["test:asset"] for item in items if item is not None}


def record(path: Path, item_id: str, **extra: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"id": item_id, **extra}))
    return path


def logs(name: str, env: dict[str, str]) -> str:
    shown = etl("workflow", "logs", name, env=env)
    assert shown.returncode == 0, shown.stderr
    return shown.stdout


def test_a_symlink_out_of_the_asset_root_is_not_listed_or_loaded(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    assets, outside = tmp_path / "assets", tmp_path / "outside"
    record(assets / "a.json", "a")
    record(assets / "kept.data", "via-link")  # not a .json asset itself
    (assets / "via-link.json").symlink_to(assets / "kept.data")  # a link staying inside
    (assets / "out-link.json").symlink_to(record(outside / "secret.json", "secret"))
    (assets / "out-folder").symlink_to(outside)
    record(outside / "deeper.json", "deeper")

    run = process_items(dataset(tmp_path, str(assets)), env)

    assert run.code == 0, run.stderr
    assert f"{COLLECTION}: 2 assets in 1 chunk, 0 failed" in run.stderr
    assert loaded(pgstac_dsn) == {
        "a": (assets / "a.json").as_uri(),
        "via-link": (assets / "via-link.json").as_uri(),
    }


ODD_NAMES = [
    "new\nline.json",
    "carriage\rreturn.json",
    "tab\tbell\x07escape\x1b.json",
    "line\u2028separator\u0085next.json",
    "ünïcödé 空 #1 %41 %.json",
    " leading and trailing space .json",
]


def test_assets_named_with_newlines_and_odd_characters_load_once_under_their_names(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    assets = tmp_path / "assets"
    for number, name in enumerate(ODD_NAMES):
        record(assets / "odd" / name, f"odd-{number}")
    record(tmp_path / "line.json", "outside")  # what the half of "new\nline.json" once named

    run = process_items(dataset(tmp_path, f"file://{assets}"), env)

    assert run.code == 0, run.stderr
    assert f"{COLLECTION}: {len(ODD_NAMES)} assets in 1 chunk, 0 failed" in run.stderr
    assert loaded(pgstac_dsn) == {
        f"odd-{number}": f"file://{assets}/odd/{name}" for number, name in enumerate(ODD_NAMES)
    }


@pytest.mark.azurite
def test_blob_names_with_newlines_load_once_under_their_names(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path, azurite_container: str
) -> None:
    names = ["new\nline.json", "carriage\rreturn.json", "ünï 空 #1 %41.json", "plain.json"]
    assets = f"blob://devstoreaccount1/{azurite_container}/assets"
    storage = open_storage(assets, profile=resolve_profile(None))
    for number, name in enumerate(names):
        storage.write_text(f"odd/{name}", json.dumps({"id": f"blob-{number}"}))

    run = process_items(dataset(tmp_path, assets), env)

    assert run.code == 0, run.stderr
    assert f"{COLLECTION}: {len(names)} assets in 1 chunk, 0 failed" in run.stderr
    assert loaded(pgstac_dsn) == {
        f"blob-{number}": f"{assets}/odd/{name}" for number, name in enumerate(names)
    }


def failed_run(tmp_path: Path, env: dict[str, str]) -> tuple[Run, Path, Path]:
    """A run whose one chunk failed (asset b refused to load); b is then repaired. Returns the
    run, its chunk file and its chunk manifest."""
    assets = tmp_path / "assets"
    record(assets / "a.json", "a")
    record(assets / "b.json", "b", fail=True)
    run = process_items(dataset(tmp_path, str(assets)), env)
    assert run.code == 1, run.stderr
    assert f"{COLLECTION}: 2 assets in 1 chunk, 1 failed" in run.stderr
    record(assets / "b.json", "b")
    chunks = tmp_path / "runs" / run.name / "chunks"
    return run, chunks / "00000.txt", chunks / "manifest.json"


def edit_chunk(chunk: Path, lines: list[str]) -> None:
    """Write ``lines`` as the chunk file, as a user editing it would."""
    chunk.write_text("".join(line + "\n" for line in lines))


def sign_chunk(chunk: Path, manifest: Path) -> None:
    """Record the edited chunk's digest in ``digests.sha256`` and that file's in the manifest, as a
    determined operator would."""
    digests = chunk.parent / "digests.sha256"
    lines = digests.read_text().splitlines()
    lines[0] = hashlib.sha256(chunk.read_bytes()).hexdigest()
    digests.write_text("".join(line + "\n" for line in lines))
    data = json.loads(manifest.read_text())
    data["digests_sha256"] = hashlib.sha256(digests.read_bytes()).hexdigest()
    manifest.write_text(json.dumps(data))


def test_a_hand_edited_chunk_of_a_failed_run_is_refused_by_retry(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    secret = record(tmp_path / "outside" / "secret.json", "secret")
    run, chunk, manifest = failed_run(tmp_path, env)
    original = chunk.read_text().splitlines()
    edited = [json.dumps(secret.as_uri()), original[1]]
    edit_chunk(chunk, edited)

    changed = retry(run.name, env)

    assert changed.code == 1
    assert (
        f"{chunk.as_uri()}: the chunk file does not match the digest create-chunks recorded "
        in changed.stderr
    )
    assert "secret" not in loaded(pgstac_dsn)

    sign_chunk(chunk, manifest)
    outside = retry(run.name, env)

    assert outside.code == 1
    refusal = (
        f"{chunk.as_uri()}:1: {secret.as_uri()!r} is outside the collection's asset storage "
        f"(file://{tmp_path}/assets): refused"
    )
    assert f"exit code 2: error: {refusal}\n" in outside.stderr
    assert logs(run.name, env).count(refusal) == 1  # permanent: the pod was not tried again
    assert "secret" not in loaded(pgstac_dsn)
    assert loaded(pgstac_dsn) == {"a": (tmp_path / "assets" / "a.json").as_uri()}


def test_a_signed_chunk_is_read_line_by_line_whatever_its_json_spelling(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    """Chunk lines are read exactly as one JSON string each: a line holding two is refused by its
    number; the same URI spelled another way (escaped slashes) is that URI."""
    run, chunk, manifest = failed_run(tmp_path, env)
    original = chunk.read_text().splitlines()
    respelled = json.loads(original[1]).replace("/", "\\/")
    edit_chunk(chunk, [original[0], f'"{respelled}"', '"x", "y"'])
    sign_chunk(chunk, manifest)

    refused = retry(run.name, env)

    assert refused.code == 1
    assert f"{chunk.as_uri()}:3: not an asset URI as a JSON string: " in refused.stderr

    edit_chunk(chunk, [original[0], f'"{respelled}"'])
    sign_chunk(chunk, manifest)

    assert retry(run.name, env).code == 0
    assert loaded(pgstac_dsn) == {
        "a": (tmp_path / "assets" / "a.json").as_uri(),
        "b": (tmp_path / "assets" / "b.json").as_uri(),
    }


@pytest.mark.parametrize("linked", ["file", "folder"])
def test_a_chunk_entry_linking_out_of_the_root_is_not_read(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path, linked: str
) -> None:
    secret = record(tmp_path / "outside" / "secret.json", "secret")
    run, chunk, manifest = failed_run(tmp_path, env)
    if linked == "file":
        link = tmp_path / "assets" / "link.json"
        link.symlink_to(secret)
    else:  # a folder below the root linking out of it, the file itself no link
        (tmp_path / "assets" / "nested").mkdir()
        (tmp_path / "assets" / "nested" / "out").symlink_to(secret.parent)
        link = tmp_path / "assets" / "nested" / "out" / "secret.json"
    edit_chunk(chunk, [*chunk.read_text().splitlines(), json.dumps(link.as_uri())])
    sign_chunk(chunk, manifest)

    retried = retry(run.name, env)

    assert retried.code == 1
    assert (
        f"{link.as_uri()}: StorageError: {link.as_uri()} leads out of the storage root "
        f"file://{tmp_path}/assets through a symbolic link: refused"
    ) in retried.stderr
    assert loaded(pgstac_dsn) == {
        "a": (tmp_path / "assets" / "a.json").as_uri(),
        "b": (tmp_path / "assets" / "b.json").as_uri(),
    }


def test_a_failed_run_chunked_by_an_earlier_etl_is_retried(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    """A run made before chunk files held JSON (manifest version 1: one plain URI a line, no digest
    per chunk) is still read by ``etl workflow retry``, and its entries are still confined."""
    secret = record(tmp_path / "outside" / "secret.json", "secret")
    run, chunk, manifest = failed_run(tmp_path, env)
    uris = [json.loads(line) for line in chunk.read_text().splitlines()]
    data = json.loads(manifest.read_text())
    data["version"] = 1
    del data["digests_sha256"]
    manifest.write_text(json.dumps(data))
    edit_chunk(chunk, [*uris, secret.as_uri()])

    outside = retry(run.name, env)

    assert outside.code == 1
    assert f"{chunk.as_uri()}:3: {secret.as_uri()!r} is outside the collection's" in outside.stderr
    assert "secret" not in loaded(pgstac_dsn)

    edit_chunk(chunk, uris)
    retried = retry(run.name, env)

    assert retried.code == 0, retried.stderr
    assert loaded(pgstac_dsn) == {
        "a": (tmp_path / "assets" / "a.json").as_uri(),
        "b": (tmp_path / "assets" / "b.json").as_uri(),
    }
