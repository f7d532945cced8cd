"""``etl dataset send-events`` (issue 24, item 7): storage events put into a collection's queue
exactly as Event Grid puts them, read back by etl's parser, and the collection's own decision of
which blobs are its assets (item 1), the same as a batch listing's."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import AZURITE_CONNECTION_STRING
from etl_cli import run_etl

from etl.core.profiles.model import Profile
from etl.core.queues.events import parse_event

ACCOUNT = "devstoreaccount1"
EXAMPLES = Path(__file__).resolve().parents[1] / "storage_events"
BLOBS = [
    "assets/a.tif",
    "assets/notes.txt",
    "assets/2024/b.TIF",
    "assets/2024/skip-c.tif",
    "assets/2025/d.tif",
    "assets/2025/deep/e.tif",
    "assets/old/f.tif",
    "elsewhere/g.tif",
]


@pytest.fixture
def queue_env(config_dir: Path, azurite_queue_port: int, monkeypatch: pytest.MonkeyPatch) -> dict:
    """What ``etl`` runs with: this test's config folder, the local profile's queue port."""
    monkeypatch.setenv("ETL_AZURITE_QUEUE_PORT", str(azurite_queue_port))
    return {"ETL_AZURITE_QUEUE_PORT": str(azurite_queue_port)}


def _upload(container: str, names: list[str]) -> None:
    from azure.storage.blob import BlobServiceClient, ContentSettings

    client = BlobServiceClient.from_connection_string(AZURITE_CONNECTION_STRING)
    for name in names:
        client.get_blob_client(container, name).upload_blob(
            b"x" * 7, content_settings=ContentSettings(content_type="image/tiff")
        )


def _dataset(folder: Path, container: str, queue: str, options: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataset.yaml").write_text(
        f"""id: ds
collections:
  - id: coll
    class: mymod:MyCollection
    asset_storage:
      - uri: blob://{ACCOUNT}/{container}/assets
        chunks:
          options:
            extensions: [tif]
            matches: ^[^s]
{options}
    events:
      queue: queue://{ACCOUNT}/{queue}
"""
    )
    return folder


def _messages(queue: str) -> list[str]:
    """Every message in ``queue`` (received, so hidden for a while, never deleted)."""
    from etl.core.queues.clients import queue_client
    from etl.core.queues.uris import parse_queue_uri

    client = queue_client(parse_queue_uri(f"queue://{ACCOUNT}/{queue}"), Profile.builtin_local())
    return [m.content for m in client.receive_messages(messages_per_page=32, max_messages=1000)]


def _decoded(message: str) -> dict[str, Any]:
    return json.loads(base64.b64decode(message))


def _shape(value: Any) -> Any:
    """Keys (in order) and value types, recursively: what two events must share."""
    if isinstance(value, dict):
        return [(key, _shape(item)) for key, item in value.items()]
    return type(value).__name__


def test_events_for_a_prefix_parse_back_to_its_blobs_and_skip_what_the_listing_skips(
    queue_env: dict, azurite_container: str, azurite_queue: str, tmp_path: Path
) -> None:
    _upload(azurite_container, BLOBS)
    folder = _dataset(tmp_path / "ds", azurite_container, azurite_queue)
    prefix = f"blob://{ACCOUNT}/{azurite_container}/"

    result = run_etl("dataset", "send-events", "-d", str(folder), prefix, "-o", "json",
                     env=queue_env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    every = [prefix + name for name in sorted(BLOBS)]
    assert report["sent"] == every
    assert report["queue"] == f"queue://{ACCOUNT}/{azurite_queue}"

    events = [parse_event(m, Profile.builtin_local()) for m in _messages(azurite_queue)]
    assert sorted(event.blob_uri for event in events) == every
    assert {event.kind for event in events} == {"created"}
    assert {event.schema for event in events} == {"eventgrid"}

    from etl.dataset.chunking.create import list_assets
    from etl.dataset.loader import load_dataset

    collection = load_dataset(folder).config.collections[0]
    listed = set(list_assets(collection, profile=Profile.builtin_local()))
    assert set(every) - set(report["skipped"]) == listed
    assert listed == {prefix + name for name in
                      ("assets/a.tif", "assets/2024/b.TIF", "assets/2025/d.tif",
                       "assets/2025/deep/e.tif", "assets/old/f.tif")}  # fmt: skip


def test_splits_and_depths_decide_as_the_batch_listing_does(
    queue_env: dict, azurite_container: str, azurite_queue: str, tmp_path: Path
) -> None:
    _upload(azurite_container, BLOBS)
    options = """            max_depth: 1
          splits:
            - depth: 1
              folder_matches: ^20"""
    folder = _dataset(tmp_path / "ds", azurite_container, azurite_queue, options)
    prefix = f"blob://{ACCOUNT}/{azurite_container}/"
    result = run_etl("dataset", "send-events", "-d", str(folder), prefix, "-o", "json",
                     env=queue_env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)

    from etl.dataset.chunking.create import list_assets
    from etl.dataset.loader import load_dataset

    collection = load_dataset(folder).config.collections[0]
    listed = set(list_assets(collection, profile=Profile.builtin_local()))
    assert set(report["sent"]) - set(report["skipped"]) == listed
    # a.tif lies above the split depth; old/ fails folder_matches; deep/ is below max_depth.
    assert listed == {
        prefix + n for n in ("assets/a.tif", "assets/2024/b.TIF", "assets/2025/d.tif")
    }


@pytest.mark.parametrize("schema", ["eventgrid", "cloudevents"])
@pytest.mark.parametrize("kind", ["created", "deleted"])
def test_messages_match_azures_documented_examples_key_by_key(
    *,
    queue_env: dict,
    azurite_container: str,
    azurite_queue: str,
    tmp_path: Path,
    schema: str,
    kind: str,
) -> None:
    _upload(azurite_container, ["assets/a.tif"])
    folder = _dataset(tmp_path / "ds", azurite_container, azurite_queue)
    uri = f"blob://{ACCOUNT}/{azurite_container}/assets/a.tif"
    result = run_etl("dataset", "send-events", "-d", str(folder), uri, "--type", kind,
                     "--schema", schema, env=queue_env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        f"sent 1 {kind} event ({schema}) to queue://{ACCOUNT}/{azurite_queue}: 1 for collection coll"
    )

    (message,) = _messages(azurite_queue)
    sent = _decoded(message)
    (documented,) = json.loads((EXAMPLES / f"{schema}-blob-{kind}.json").read_text())
    assert _shape(sent) == _shape(documented)
    subject = f"/blobServices/default/containers/{azurite_container}/blobs/assets/a.tif"
    assert sent["subject"] == subject
    assert (
        sent["data"]["url"] == f"http://127.0.0.1:10000/{ACCOUNT}/{azurite_container}/assets/a.tif"
    )
    if kind == "created":
        assert sent["data"]["contentLength"] == 7
        assert sent["data"]["contentType"] == "image/tiff"
        assert sent["data"]["eTag"].startswith('"')

    event = parse_event(message, Profile.builtin_local())
    assert (event.kind, event.blob_uri, event.schema) == (kind, uri, schema)


def test_a_deleted_blob_still_gets_its_event_and_a_missing_created_one_fails(
    queue_env: dict, azurite_container: str, azurite_queue: str, tmp_path: Path
) -> None:
    folder = _dataset(tmp_path / "ds", azurite_container, azurite_queue)
    uri = f"blob://{ACCOUNT}/{azurite_container}/assets/gone.tif"

    deleted = run_etl("dataset", "send-events", "-d", str(folder), uri, "--type", "deleted",
                      env=queue_env)  # fmt: skip
    assert deleted.returncode == 0, deleted.stderr
    assert parse_event(_messages(azurite_queue)[0], Profile.builtin_local()).blob_uri == uri

    created = run_etl("dataset", "send-events", "-d", str(folder), uri, env=queue_env)
    assert created.returncode == 1
    assert created.stderr.strip() == (
        f"error: not found: {uri} (a created event names an existing blob; end a prefix with /)"
    )


def test_send_events_needs_a_collection_with_events_and_blob_uris(
    queue_env: dict, azurite_container: str, azurite_queue: str, tmp_path: Path
) -> None:
    folder = _dataset(tmp_path / "ds", azurite_container, azurite_queue)
    text = (folder / "dataset.yaml").read_text()
    (folder / "dataset.yaml").write_text(text.split("    events:")[0])
    result = run_etl("dataset", "send-events", "-d", str(folder), "blob://a/b/c", env=queue_env)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: dataset 'ds': no collection declares events (coll); add "
        "collections[].events.queue: queue://ACCOUNT/NAME (docs/streaming.md)"
    )

    folder = _dataset(tmp_path / "ds2", azurite_container, azurite_queue)
    result = run_etl("dataset", "send-events", "-d", str(folder), "/tmp/x.tif", env=queue_env)
    assert result.returncode == 2
    assert "'/tmp/x.tif': give blob://ACCOUNT/CONTAINER/PATH (or a prefix/)" in result.stderr
