"""Storage events (issue 24): Azure's own message format read into typed events (item 2), and a
collection's ``events:`` in dataset.yaml, templated and validated with located errors (item 1)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from etl_cli import run_etl

from etl.core.profiles.model import Profile, StorageAccount
from etl.core.queues.events import NotAnEvent, NotAnEventError, encode_event, parse_event
from etl.core.storage.urls import blob_uri_of_url, blob_url

EXAMPLES = Path(__file__).resolve().parents[1] / "storage_events"


def _example(name: str) -> dict:
    """One of Azure's documented events (the only event of its documented array)."""
    (event,) = json.loads((EXAMPLES / f"{name}.json").read_text())
    return event


def _message(event: object) -> str:
    """The queue message Event Grid writes for ``event``: the base64 of its JSON."""
    return base64.b64encode(json.dumps(event).encode()).decode()


@pytest.mark.parametrize(
    ("name", "kind", "blob", "schema"),
    [
        ("eventgrid-blob-created", "created", "new-file.txt", "eventgrid"),
        ("eventgrid-blob-deleted", "deleted", "file-to-delete.txt", "eventgrid"),
        ("cloudevents-blob-created", "created", "new-file.txt", "cloudevents"),
        ("cloudevents-blob-deleted", "deleted", "file-to-delete.txt", "cloudevents"),
    ],
)
def test_azures_documented_events_are_read(name: str, kind: str, blob: str, schema: str) -> None:
    documented = _example(name)
    event = parse_event(_message(documented))
    assert event.kind == kind
    assert event.schema == schema
    assert event.blob_uri == f"blob://my-storage-account/testcontainer/{blob}"
    assert event.url == documented["data"]["url"]
    assert event.id == documented["id"]
    assert event.time == documented.get("eventTime", documented.get("time"))


def test_azurites_urls_and_the_profiles_endpoints_map_back_to_blob_uris() -> None:
    local = Profile.builtin_local()
    azurite = "http://127.0.0.1:10000/devstoreaccount1/c/2024/a%20b%25.tif"
    assert blob_uri_of_url(azurite, local) == "blob://devstoreaccount1/c/2024/a b%.tif"
    # Azurite on another port than the profile's: the account is the path's first segment.
    assert blob_uri_of_url("http://127.0.0.1:19999/acct/c/x.tif") == "blob://acct/c/x.tif"
    assert blob_uri_of_url("http://localhost/acct/c/x.tif") == "blob://acct/c/x.tif"
    # An account behind a custom endpoint (a CDN, a private link) is found by its account_url.
    custom = Profile(storage={"goes": StorageAccount(account_url="https://data.example.org/goes")})
    assert blob_uri_of_url("https://data.example.org/goes/c/x.nc", custom) == "blob://goes/c/x.nc"
    assert blob_uri_of_url("https://goes.dfs.core.windows.net/fs/x.nc") == "blob://goes/fs/x.nc"
    for uri in ("blob://devstoreaccount1/c/a b/ü%.tif", "blob://goes/c/x.nc"):
        for profile in (local, custom, None):
            assert blob_uri_of_url(blob_url(uri, profile), profile) == uri


def test_a_message_in_azurites_form_names_the_azurite_blob() -> None:
    event = _example("eventgrid-blob-created")
    event["data"]["url"] = "http://127.0.0.1:10000/devstoreaccount1/testcontainer/new-file.txt"
    parsed = parse_event(encode_event(event), Profile.builtin_local())
    assert parsed.blob_uri == "blob://devstoreaccount1/testcontainer/new-file.txt"


def _tier_changed() -> dict:
    event = _example("eventgrid-blob-created")
    event["eventType"] = "Microsoft.Storage.BlobTierChanged"
    return event


def _without_url() -> dict:
    event = _example("cloudevents-blob-deleted")
    del event["data"]["url"]
    return event


def _queue_url() -> dict:
    event = _example("eventgrid-blob-created")
    event["data"]["url"] = "https://acct.queue.core.windows.net/q/messages"
    return event


@pytest.mark.parametrize(
    ("message", "reason", "says"),
    [
        ("not base64!", NotAnEvent.BAD_BASE64, "the message is not base64"),
        (base64.b64encode(b"\xff\xfe").decode(), NotAnEvent.BAD_JSON, "does not hold JSON"),
        (base64.b64encode(b"{oops").decode(), NotAnEvent.BAD_JSON, "does not hold JSON"),
        (base64.b64encode(b"[" * 5000).decode(), NotAnEvent.BAD_JSON, "nested deeper"),
        (_message([_example("eventgrid-blob-created")]), NotAnEvent.UNKNOWN_SCHEMA, "JSON list"),
        (_message({"hello": 1}), NotAnEvent.UNKNOWN_SCHEMA, "keys: hello"),
        (_message(_tier_changed()), NotAnEvent.UNKNOWN_EVENT_TYPE, "BlobTierChanged"),
        (_message(_without_url()), NotAnEvent.BAD_URL, "without data.url"),
        (_message(_queue_url()), NotAnEvent.BAD_URL, "not a blob URL"),
    ],
)
def test_a_message_that_is_no_event_is_a_permanent_error_naming_why(
    message: str, reason: NotAnEvent, says: str
) -> None:
    with pytest.raises(NotAnEventError) as caught:
        parse_event(message)
    assert caught.value.reason is reason
    assert not caught.value.transient
    assert str(caught.value).startswith(f"not a storage event ({reason}): ")
    assert says in str(caught.value)


DATASET = """id: ds
args: [queue]
collections:
  - id: coll
    class: mymod:MyCollection
    asset_storage:
      - uri: blob://devstoreaccount1/data/assets
        chunks:
          options:
            extensions: [tif]
    events:
      queue: queue://devstoreaccount1/$<< args.queue >>
"""


def _validate(tmp_path: Path, text: str, queue: str = "goes-glm") -> tuple[int, str]:
    (tmp_path / "dataset.yaml").write_text(text)
    result = run_etl("dataset", "validate", "-d", str(tmp_path), "-a", f"queue={queue}")
    return result.returncode, result.stderr.strip()


def test_events_defaults_and_templating(tmp_path: Path) -> None:
    from etl.dataset.loader import load_dataset

    (tmp_path / "dataset.yaml").write_text(DATASET)
    events = load_dataset(tmp_path, args={"queue": "goes-glm"}).config.collections[0].events
    assert events is not None
    assert events.queue == "queue://devstoreaccount1/goes-glm"
    assert (events.types, events.batch_size, events.max_wait, events.max_deliveries) == (
        ["created", "deleted"],
        100,
        10.0,
        5,
    )


@pytest.mark.parametrize(
    ("change", "queue", "where", "message"),
    [
        ({}, "Goes_GLM", "12:14: collections[0].events.queue",
         "invalid queue URI: 'queue://devstoreaccount1/Goes_GLM': queue name 'Goes_GLM' is not "
         "lowercase letters, digits and single hyphens (not first or last)"),
        ({}, "q" * 57, "12:14: collections[0].events.queue",
         f"queue name {'q' * 57!r} is too long for its dead-letter queue "
         f"{'q' * 57 + '-poison'!r}: at most 56 characters"),
        ({}, "a--b", "12:14: collections[0].events.queue", "single hyphens"),
        ({"queue: queue://devstoreaccount1/$<< args.queue >>": "queue: blob://x/y"}, "q11",
         "12:14: collections[0].events.queue",
         "not a queue URI: 'blob://x/y' (expected queue://ACCOUNT/NAME)"),
        ({"    events:\n": "    events:\n      types: [created, modified]\n"}, "q11",
         "12:24: collections[0].events.types[1]",
         "expected one of 'created' or 'deleted', got 'modified'"),
        ({"    events:\n": "    events:\n      types: [deleted, deleted]\n"}, "q11",
         "12:24: collections[0].events.types[1]",
         "duplicate type 'deleted'; first at collections[0].events.types[0]"),
        ({"    events:\n": "    events:\n      max_deliveries: 0\n"}, "q11",
         "12:23: collections[0].events.max_deliveries", "must be greater than 0, got 0"),
        ({"extensions: [tif]": "list_folders: true"}, "q11",
         "10:27: collections[0].asset_storage[0].chunks.options.list_folders",
         "a collection with events lists files: storage events name blobs, not folders"),
        ({"blob://devstoreaccount1/data/assets": "/data/assets"}, "q11", "12:7: collections[0].events",
         "storage events name blobs, but no asset_storage of the collection is a blob:// URI"),
    ],
)  # fmt: skip
def test_bad_events_are_one_located_line(
    *, tmp_path: Path, config_dir: Path, change: dict, queue: str, where: str, message: str
) -> None:
    text = DATASET
    for old, new in change.items():
        text = text.replace(old, new)
    code, stderr = _validate(tmp_path, text, queue)
    assert code == 2
    assert stderr.startswith(f"error: {tmp_path / 'dataset.yaml'}:{where}: "), stderr
    assert message in stderr
    assert len(stderr.splitlines()) == 1
