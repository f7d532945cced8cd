"""etl.core.storage against the local filesystem and Azurite: the same cases on both backends."""

from __future__ import annotations

import http.client
import http.server
import threading
import types
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

import pytest

from etl.core.errors import StorageError
from etl.core.profiles.model import (
    AZURITE_ACCOUNT,
    AZURITE_KEY,
    Profile,
    StorageAccount,
    azurite_blob_endpoint,
)
from etl.core.storage.base import Storage
from etl.core.storage.opening import open_storage, open_storage_for

BACKENDS = ["file", pytest.param("blob", marks=pytest.mark.azurite)]
# Names whose lexicographic order differs from a naive per-folder walk ('.' < '/' < '0').
TRICKY_NAMES = ["a.txt", "a/b.txt", "a/c/d.txt", "a0", "a-b/x", "A", "b/a", "a/b0"]


def _root_uri(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "file":
        return str(tmp_path / "root")
    container = request.getfixturevalue("azurite_container")
    return f"blob://{AZURITE_ACCOUNT}/{container}/root"


@pytest.fixture(params=BACKENDS)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """A storage rooted at ``root`` in an empty folder or an empty Azurite container."""
    return open_storage(
        _root_uri(request.param, request, tmp_path), profile=Profile.builtin_local()
    )


def test_write_and_read_text_and_bytes(storage: Storage) -> None:
    storage.write_text("notes/hello.txt", "héllo\n")
    storage.write_bytes("data/blob.bin", b"\x00\xff\x10")
    assert storage.read_text("notes/hello.txt") == "héllo\n"
    assert storage.read_bytes("data/blob.bin") == b"\x00\xff\x10"
    storage.write_text("notes/hello.txt", "replaced")
    assert storage.read_text("notes/hello.txt") == "replaced"


def test_full_uris_under_the_root_work_like_relative_paths(storage: Storage) -> None:
    uri = storage.uri_of("x/y/z.json")
    assert uri == storage.uri + "/x/y/z.json"
    storage.write_text(uri, "{}")
    assert storage.read_text("x/y/z.json") == "{}"
    assert storage.exists(uri)
    assert [info.uri for info in storage.list_objects(storage.uri_of("x/"))] == [uri]


def test_exists_and_delete(storage: Storage) -> None:
    assert not storage.exists("a/b.txt")
    storage.write_text("a/b.txt", "1")
    assert storage.exists("a/b.txt")
    assert not storage.exists("a")  # a "folder" is not an object
    storage.delete("a/b.txt")
    assert not storage.exists("a/b.txt")
    storage.delete("a/b.txt")  # deleting again is fine
    assert list(storage.list_prefixes()) == []  # no empty folder left behind


def test_list_objects_flat_with_prefix(storage: Storage) -> None:
    for name in ["2024/01/a.tif", "2024/01/b.tif", "2024/02/c.tif", "2025/d.tif", "top.txt"]:
        storage.write_text(name, name)
    everything = storage.list_objects()
    assert isinstance(everything, Iterator)
    assert [info.path for info in everything] == [
        "2024/01/a.tif",
        "2024/01/b.tif",
        "2024/02/c.tif",
        "2025/d.tif",
        "top.txt",
    ]
    assert [info.path for info in storage.list_objects("2024/")] == [
        "2024/01/a.tif",
        "2024/01/b.tif",
        "2024/02/c.tif",
    ]
    # a prefix is a string prefix, not only a folder
    assert [info.path for info in storage.list_objects("2024/01/b")] == ["2024/01/b.tif"]
    assert [info.path for info in storage.list_objects("202")][-1] == "2025/d.tif"
    assert list(storage.list_objects("nothing/")) == []
    info = next(storage.list_objects("top"))
    assert (info.uri, info.size, info.last_modified) == (storage.uri + "/top.txt", None, None)


def test_list_objects_not_recursive_keeps_one_folder(storage: Storage) -> None:
    for name in ["d/a.txt", "d/b/deep.txt", "d/c.txt", "d.txt", "top.txt"]:
        storage.write_text(name, "12")
    assert [i.path for i in storage.list_objects("d/", recursive=False)] == ["d/a.txt", "d/c.txt"]
    assert [i.path for i in storage.list_objects(recursive=False)] == ["d.txt", "top.txt"]
    props = list(storage.list_objects("d/c", with_properties=True, recursive=False))
    assert [(i.path, i.size) for i in props] == [("d/c.txt", 2)]
    assert props[0].last_modified is not None


def test_list_objects_with_properties(storage: Storage) -> None:
    before = datetime.now(UTC) - timedelta(minutes=5)
    storage.write_bytes("p/one.bin", b"12345")
    storage.write_bytes("p/two.bin", b"")
    infos = list(storage.list_objects("p/", with_properties=True))
    assert [(info.path, info.size) for info in infos] == [("p/one.bin", 5), ("p/two.bin", 0)]
    for info in infos:
        assert info.last_modified is not None
        assert info.last_modified.tzinfo is not None
        assert before < info.last_modified < datetime.now(UTC) + timedelta(minutes=5)


def test_list_prefixes_one_level(storage: Storage) -> None:
    for name in ["2024/01/a", "2024/02/b", "2024/x", "2025/03/c", "2026x/d", "file.txt"]:
        storage.write_text(name, "")
    assert list(storage.list_prefixes()) == ["2024/", "2025/", "2026x/"]
    assert list(storage.list_prefixes("2024/")) == ["2024/01/", "2024/02/"]
    assert list(storage.list_prefixes("2025")) == ["2025/"]
    assert list(storage.list_prefixes(storage.uri_of("2024/"))) == ["2024/01/", "2024/02/"]
    assert list(storage.list_prefixes("2024/01/")) == []


def test_nested_paths(storage: Storage) -> None:
    deep = "a/b/c/d/e/f/g/leaf.json"
    storage.write_text(deep, '{"ok": true}')
    assert storage.read_text(deep) == '{"ok": true}'
    assert [info.path for info in storage.list_objects("a/b/c/")] == [deep]
    assert list(storage.list_prefixes("a/b/c/d/e/f/")) == ["a/b/c/d/e/f/g/"]


def test_siblings_sharing_the_root_name_are_outside(storage: Storage) -> None:
    sibling = open_storage(storage.uri + "2", profile=Profile.builtin_local())
    sibling.write_text("x.txt", "not mine")
    storage.write_text("y.txt", "mine")
    assert [info.path for info in storage.list_objects()] == ["y.txt"]


def test_uri_outside_the_root_is_rejected(storage: Storage) -> None:
    outside = storage.uri.rsplit("/", 1)[0] + "/elsewhere/x.txt"
    with pytest.raises(StorageError, match=r"outside the storage root"):
        storage.read_text(outside)
    with pytest.raises(StorageError, match=r"outside the storage root"):
        storage.write_text("blob://otheraccount/c/x.txt", "")
    with pytest.raises(StorageError, match=r"'\.\.' segments"):
        storage.read_text("a/../../escape.txt")


def test_reading_a_missing_object_names_its_uri(storage: Storage) -> None:
    with pytest.raises(StorageError) as caught:
        storage.read_text("missing/thing.txt")
    message = str(caught.value)
    assert message == f"not found: {storage.uri}/missing/thing.txt"
    assert "\n" not in message


def test_listing_order_is_identical_between_backends(
    tmp_path: Path, azurite_container: str
) -> None:
    local = open_storage(f"file://{tmp_path}/tree")
    blob = open_storage(
        f"blob://{AZURITE_ACCOUNT}/{azurite_container}", profile=Profile.builtin_local()
    )
    for name in TRICKY_NAMES:
        local.write_text(name, name)
        blob.write_text(name, name)
    local_paths = [info.path for info in local.list_objects()]
    assert local_paths == sorted(TRICKY_NAMES)
    assert [info.path for info in blob.list_objects()] == local_paths
    assert [i.path for i in blob.list_objects(with_properties=True)] == local_paths
    assert list(local.list_prefixes("a")) == list(blob.list_prefixes("a")) == ["a-b/", "a/"]


def test_listing_thousands_of_objects_streams(storage: Storage) -> None:
    names = [f"many/{i // 100:02d}/{i:05d}.txt" for i in range(2000)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda name: storage.write_bytes(name, b"x"), names))
    listing = storage.list_objects("many/")
    assert isinstance(listing, types.GeneratorType)
    assert [info.path for info in islice(listing, 3)] == names[:3]
    assert sum(1 for _ in listing) == len(names) - 3


def test_open_storage_for_reads_any_full_uri(storage: Storage) -> None:
    storage.write_text("assets/item.json", "payload")
    asset_uri = storage.uri_of("assets/item.json")
    wide = open_storage_for(asset_uri, profile=Profile.builtin_local())
    assert wide.read_text(asset_uri) == "payload"
    assert asset_uri.startswith(wide.uri)


def test_file_writes_are_atomic_and_leave_no_temporary_files(tmp_path: Path) -> None:
    local = open_storage(f"file://{tmp_path}")
    local.write_text("deep/er/file.txt", "one")
    local.write_text("deep/er/file.txt", "two")
    assert sorted(p.name for p in (tmp_path / "deep/er").iterdir()) == ["file.txt"]
    assert (tmp_path / "deep/er/file.txt").read_text() == "two"
    assert local.uri == f"file://{tmp_path}"
    assert local.read_text(str(tmp_path / "deep/er/file.txt")) == "two"  # absolute local path


def _container_sas(container: str, **permissions: bool) -> str:
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    return generate_container_sas(
        AZURITE_ACCOUNT,
        container,
        account_key=AZURITE_KEY,
        permission=ContainerSasPermissions(**permissions),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )


@pytest.mark.azurite
def test_sas_token_from_the_dataset_is_used(azurite_container: str) -> None:
    uri = f"blob://{AZURITE_ACCOUNT}/{azurite_container}/in"
    open_storage(uri, profile=Profile.builtin_local()).write_text("a.txt", "shared")
    endpoint_only = Profile(
        name="sas-only",
        storage={AZURITE_ACCOUNT: StorageAccount(account_url=azurite_blob_endpoint())},
    )
    read_only = _container_sas(azurite_container, read=True, list=True)
    storage = open_storage(uri, profile=endpoint_only, sas_token="?" + read_only)
    assert storage.read_text("a.txt") == "shared"
    assert [info.path for info in storage.list_objects()] == ["a.txt"]


def test_an_http_endpoint_without_key_or_sas_is_refused_at_once() -> None:
    endpoint_only = Profile(
        name="no-creds",
        storage={AZURITE_ACCOUNT: StorageAccount(account_url=azurite_blob_endpoint())},
    )
    with pytest.raises(StorageError, match=r"no credential for storage account 'devstoreaccount1'"):
        open_storage(f"blob://{AZURITE_ACCOUNT}/c", profile=endpoint_only)


@pytest.mark.azurite
def test_sas_token_wins_over_the_profile_key(
    azurite_container: str, azurite_connection_string: str
) -> None:
    uri = f"blob://{AZURITE_ACCOUNT}/{azurite_container}"
    with_connection_string = Profile(
        name="cs",
        storage={AZURITE_ACCOUNT: StorageAccount(connection_string=azurite_connection_string)},
    )
    open_storage(uri, profile=with_connection_string).write_text("a.txt", "x")
    read_only = _container_sas(azurite_container, read=True)
    storage = open_storage(uri, profile=with_connection_string, sas_token=read_only)
    assert storage.read_text("a.txt") == "x"
    with pytest.raises(StorageError) as caught:
        storage.write_text("b.txt", "denied")
    message = str(caught.value)
    assert message.startswith(f"authentication failed for {uri}/b.txt using the SAS token")
    assert "HTTP 403" in message
    assert "sig=" not in message


@pytest.mark.azurite
def test_a_forged_sas_token_fails_with_one_line(azurite_container: str) -> None:
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    forged = generate_container_sas(
        AZURITE_ACCOUNT,
        azurite_container,
        account_key="d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk=",
        permission=ContainerSasPermissions(read=True),
        expiry=datetime.now(UTC) + timedelta(hours=1),
    )
    storage = open_storage(
        f"blob://{AZURITE_ACCOUNT}/{azurite_container}",
        profile=Profile.builtin_local(),
        sas_token=forged,
    )
    with pytest.raises(
        StorageError, match=r"^authentication failed for blob://.*/x\.txt"
    ) as caught:
        storage.read_text("x.txt")
    assert "\n" not in str(caught.value)


class _FlakyProxy(http.server.ThreadingHTTPServer):
    """Forwards requests to Azurite, after failing the first ones in a chosen way."""

    def __init__(self, failures: list[str]) -> None:
        super().__init__(("127.0.0.1", 0), _FlakyHandler)
        self.failures = failures
        self.requests: list[str] = []

    @property
    def account_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{AZURITE_ACCOUNT}"


class _FlakyHandler(http.server.BaseHTTPRequestHandler):
    server: _FlakyProxy

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def _forward(self) -> None:
        self.server.requests.append(f"{self.command} {self.path}")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.failures:
            failure = self.server.failures.pop(0)
            if failure == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.send_response(503, "Server Busy")
            self.send_header("x-ms-error-code", "ServerBusy")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        upstream = http.client.HTTPConnection("127.0.0.1", 10000, timeout=30)
        upstream.request(self.command, self.path, body=body, headers=dict(self.headers))
        response = upstream.getresponse()
        payload = response.read()
        self.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        upstream.close()

    do_GET = do_PUT = do_HEAD = do_DELETE = _forward  # noqa: N815 (http.server's names)


@pytest.mark.azurite
@pytest.mark.parametrize("failure", ["503", "drop"])
def test_busy_server_and_dropped_connections_are_retried(
    azurite_container: str, failure: str
) -> None:
    uri = f"blob://{AZURITE_ACCOUNT}/{azurite_container}"
    open_storage(uri, profile=Profile.builtin_local()).write_text("r.txt", "after retry")
    proxy = _FlakyProxy([failure])
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        # a distinct key keeps this test's client out of the process-wide client cache
        profile = Profile(
            name=f"flaky-{uuid.uuid4().hex[:6]}",
            storage={
                AZURITE_ACCOUNT: StorageAccount(account_url=proxy.account_url, key=AZURITE_KEY)
            },
        )
        assert open_storage(uri, profile=profile).read_text("r.txt") == "after retry"
    finally:
        proxy.shutdown()
        proxy.server_close()
    reads = [line for line in proxy.requests if line.startswith("GET") and "r.txt" in line]
    assert len(reads) == 2


@pytest.mark.parametrize(
    ("uri", "inside"),
    [
        ("file:///data/root/a.json", True),
        ("file:///data/root/deep/er/a.json", True),
        ("file:///data/root", False),  # the root itself is no object under it
        ("file:///data/root/", False),
        ("file:///data/rootless/a.json", False),  # a sibling sharing the root's name as prefix
        ("file:///data/root/../secret.json", False),
        ("file:///data/root/./a.json", False),
        ("file:///data/root//a.json", False),
        ("/data/root/a.json", False),  # a path, not a URI
        ("a.json", False),
    ],
)
def test_a_storage_contains_exactly_the_uris_below_its_root(uri: str, inside: bool) -> None:
    storage = open_storage("file:///data/root")
    assert storage.contains(uri) is inside
    if inside:
        assert storage.uri_of(storage.relative_path(uri)) == uri
