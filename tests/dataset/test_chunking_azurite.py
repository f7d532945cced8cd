"""create-chunks against Azurite: 25,000 blobs, splits, since, throttling, failures, interrupted runs."""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import http.server
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from etl.core.errors import StorageError
from etl.core.pod_contract import EXIT_PERMANENT
from etl.core.profiles.model import AZURITE_KEY, Profile, StorageAccount
from etl.core.storage.base import Storage
from etl.core.storage.opening import open_storage
from etl.dataset.chunking.chunk_files import read_chunk_uris
from etl.dataset.chunking.chunk_set import ChunkSource, create_chunk_set
from etl.dataset.chunking.filters import AssetFilter
from etl.dataset.chunking.manifest import read_manifest
from etl.dataset.chunking.splits import SplitSpec
from etl.dataset.layout import RunLayout

pytestmark = pytest.mark.azurite

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "devstoreaccount1"
BIG_CONTAINER = "etl-test-chunking-25k"  # seeded once, reused across runs, never deleted
BIG_COUNT = 25_000
BIG_PREFIXES = 250
SEEDED_MARKER = "zz-seeded.marker"
LOCAL = Profile.builtin_local()


def _upload_all(connection_string: str, container: str, names: list[str]) -> None:
    from azure.storage.blob import ContainerClient

    client = ContainerClient.from_connection_string(connection_string, container)
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda name: client.upload_blob(name, b"x", overwrite=True), names))


def big_names() -> list[str]:
    per_prefix = BIG_COUNT // BIG_PREFIXES
    return [f"p{p:03d}/{i:03d}.tif" for p in range(BIG_PREFIXES) for i in range(per_prefix)]


@pytest.fixture(scope="session")
def big_container(azurite_connection_string: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A container of 25,000 blobs over 250 prefixes, seeded once per Azurite lifetime."""
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import ContainerClient

    client = ContainerClient.from_connection_string(azurite_connection_string, BIG_CONTAINER)
    # One xdist worker seeds while the others wait on the lock, then see the marker.
    with open(tmp_path_factory.getbasetemp().parent / "chunking-25k.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with contextlib.suppress(ResourceExistsError):
            client.create_container()
        if not client.get_blob_client(SEEDED_MARKER).exists():
            _upload_all(azurite_connection_string, BIG_CONTAINER, big_names())
            client.upload_blob(SEEDED_MARKER, b"", overwrite=True)
    return BIG_CONTAINER


def blob_storage(container: str, prefix: str = "", profile: Profile = LOCAL) -> Storage:
    return open_storage(f"blob://{ACCOUNT}/{container}/{prefix}".rstrip("/"), profile=profile)


def all_lines(storage: Storage, layout: RunLayout) -> list[str]:
    manifest = read_manifest(storage, layout)
    assert manifest is not None
    lines = [
        uri
        for index in range(manifest.chunk_count)
        for uri in read_chunk_uris(storage, manifest, index)
    ]
    assert len(lines) == manifest.asset_count
    return lines


def test_25k_blobs_chunked_once_each_with_and_without_splits(
    big_container: str, azurite_container: str
) -> None:
    assets = blob_storage(big_container)
    chunks = blob_storage(azurite_container)
    only_tif = AssetFilter(extensions=["tif"])
    plain = create_chunk_set(
        [ChunkSource(assets, only_tif)],
        chunks,
        RunLayout("plain"),
        collection="c",
        chunk_length=1000,
    )
    assert (plain.chunk_count, plain.asset_count) == (25, BIG_COUNT)
    expected = [f"blob://{ACCOUNT}/{big_container}/{name}" for name in big_names()]
    assert all_lines(chunks, RunLayout("plain")) == expected

    split = create_chunk_set(
        [ChunkSource(assets, only_tif, splits=[SplitSpec(None, 1)])],
        chunks,
        RunLayout("split"),
        collection="c",
        chunk_length=1000,
        concurrency=4,
    )
    assert split.sources[0].parts == BIG_PREFIXES + 1  # root files, then one part per prefix
    lines = all_lines(chunks, RunLayout("split"))
    assert len(lines) == len(set(lines)) == BIG_COUNT
    assert sorted(lines) == sorted(expected)


def test_splits_on_blob_storage_equal_the_unsplit_listing(
    azurite_connection_string: str, azurite_container: str
) -> None:
    names = [
        "top.tif",
        "a/1.tif",
        "a/b/2.tif",
        "a/b/c/3.tif",
        "a/b-x/4.tif",
        "d/5.tif",
        "d/e/6.tif",
    ]
    _upload_all(azurite_connection_string, azurite_container, [f"assets/{n}" for n in names])
    assets = blob_storage(azurite_container, "assets")
    chunks = blob_storage(azurite_container, "runs")
    create_chunk_set([ChunkSource(assets)], chunks, RunLayout("u"), collection="c", chunk_length=2)
    unsplit = all_lines(chunks, RunLayout("u"))
    for index, splits in enumerate(
        [[SplitSpec(None, 1)], [SplitSpec(None, 3)], [SplitSpec("a", 1), SplitSpec(None, 1)]]
    ):
        layout = RunLayout(f"s{index}")
        create_chunk_set(
            [ChunkSource(assets, splits=splits)], chunks, layout, collection="c", chunk_length=2
        )
        split = all_lines(chunks, layout)
        assert len(split) == len(set(split))
        assert sorted(split) == sorted(unsplit)


def test_since_on_blob_storage(azurite_connection_string: str, azurite_container: str) -> None:
    _upload_all(azurite_connection_string, azurite_container, ["old/a.tif", "old/b.tif"])
    time.sleep(1.1)  # blob times have one-second resolution
    since = datetime.now(UTC)
    time.sleep(1.1)
    _upload_all(azurite_connection_string, azurite_container, ["new/c.tif"])
    assets = blob_storage(azurite_container)
    chunks = blob_storage(azurite_container, "runs")
    create_chunk_set(
        [ChunkSource(assets, AssetFilter(since=since, extensions=["tif"]))],
        chunks,
        RunLayout("since"),
        collection="c",
    )
    assert all_lines(chunks, RunLayout("since")) == [
        f"blob://{ACCOUNT}/{azurite_container}/new/c.tif"
    ]


def test_missing_container_fails_clearly_and_leaves_no_manifest(azurite_container: str) -> None:
    chunks = blob_storage(azurite_container)
    layout = RunLayout("gone")
    create_chunk_set([], chunks, layout, collection="c")
    assert read_manifest(chunks, layout) is not None
    with pytest.raises(StorageError, match="not found: container"):
        create_chunk_set(
            [ChunkSource(blob_storage("no-such-container-here"))], chunks, layout, collection="c"
        )
    assert read_manifest(chunks, layout) is None


class _ThrottlingProxy(http.server.ThreadingHTTPServer):
    """Forwards to Azurite, but answers the first ``busy`` listing requests with 503 Server Busy."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, busy: int) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.busy = busy
        self.refused = 0


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    server: _ThrottlingProxy

    def log_message(self, format: str, *args: object) -> None:
        return

    def _forward(self) -> None:
        if "comp=list" in self.path and self.server.refused < self.server.busy:
            self.server.refused += 1
            self.send_response(503, "Server Busy")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection("127.0.0.1", 10000, timeout=30)
        try:
            upstream.request(self.command, self.path, body=body, headers=dict(self.headers))
            response = upstream.getresponse()
            data = response.read()
        finally:
            upstream.close()
        self.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in ("transfer-encoding", "content-length", "connection"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_HEAD = do_DELETE = _forward  # noqa: N815 (BaseHTTPRequestHandler's names)


@pytest.fixture
def throttling_proxy() -> Iterator[_ThrottlingProxy]:
    proxy = _ThrottlingProxy(busy=1)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    yield proxy
    proxy.shutdown()
    proxy.server_close()


def test_throttled_listing_is_retried_by_the_sdk(
    azurite_connection_string: str, azurite_container: str, throttling_proxy: _ThrottlingProxy
) -> None:
    _upload_all(azurite_connection_string, azurite_container, ["x/1.tif", "x/2.tif"])
    port = throttling_proxy.server_address[1]
    # A distinct account URL gives a distinct (uncached) client, going through the proxy.
    profile = Profile(
        storage={
            ACCOUNT: StorageAccount(
                account_url=f"http://127.0.0.1:{port}/{ACCOUNT}", key=AZURITE_KEY
            )
        }
    )
    manifest = create_chunk_set(
        [ChunkSource(blob_storage(azurite_container, profile=profile))],
        blob_storage(azurite_container, "runs"),
        RunLayout("busy"),
        collection="c",
    )
    assert throttling_proxy.refused == 1
    assert manifest.asset_count == 2


def _write_dataset(folder: Path, assets_uri: str, chunks_uri: str, chunk_length: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dataset.yaml"
    path.write_text(
        f"""id: ds
collections:
  - id: coll
    class: mymod:MyCollection
    asset_storage:
      - uri: {assets_uri}
        chunks:
          options:
            chunk_length: {chunk_length}
            extensions: [tif]
    chunk_storage:
      uri: {chunks_uri}
"""
    )
    return path


def _etl_task(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(ROOT / ".venv/bin/etl-task"), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_etl_task_create_chunks_outputs_and_an_interrupted_rerun(
    big_container: str, azurite_container: str, config_dir: Path, tmp_path: Path
) -> None:
    chunks_uri = f"blob://{ACCOUNT}/{azurite_container}/runs"
    dataset = _write_dataset(tmp_path, f"blob://{ACCOUNT}/{big_container}", chunks_uri, 500)
    env = dict(os.environ)
    args = ["create-chunks", "--dataset", str(dataset), "--collection", "coll", "--run-id", "wf-1"]
    done = _etl_task(*args, "--outputs", str(tmp_path / "out"), env=env)
    stdout, stderr = done.communicate(timeout=120)
    assert done.returncode == 0, stderr
    assert "25000 assets in 50 chunks" in stdout
    assert "[assets listed] 25000" in stderr  # plain progress lines off a terminal
    assert (tmp_path / "out/chunk-count").read_text() == "50"
    assert (tmp_path / "out/batch-count").read_text() == str(LOCAL.workflow.max_pods)
    chunks = open_storage(chunks_uri, profile=LOCAL)
    layout = RunLayout("wf-1")
    first = read_manifest(chunks, layout)
    assert first is not None

    interrupted = _etl_task(*args, env=env)
    deadline = time.monotonic() + 60
    while chunks.exists(layout.manifest_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    interrupted.send_signal(signal.SIGKILL)
    interrupted.communicate(timeout=30)
    assert read_manifest(chunks, layout) is None, "an interrupted run must leave no manifest"

    rerun = _etl_task(*args, env=env)
    _, stderr = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, stderr
    again = read_manifest(chunks, layout)
    assert again is not None
    assert (again.chunk_count, again.asset_count, again.digest) == (
        first.chunk_count,
        first.asset_count,
        first.digest,
    )


def test_etl_task_listing_a_missing_container_exits_2_with_one_line(
    azurite_container: str, config_dir: Path, tmp_path: Path
) -> None:
    dataset = _write_dataset(
        tmp_path,
        f"blob://{ACCOUNT}/no-such-container-here",
        f"blob://{ACCOUNT}/{azurite_container}/runs",
        10,
    )
    failed = _etl_task(
        "create-chunks",
        "--dataset",
        str(dataset),
        "--collection",
        "coll",
        "--run-id",
        "wf-2",
        env=dict(os.environ),
    )
    _, stderr = failed.communicate(timeout=60)
    assert failed.returncode == EXIT_PERMANENT, "no retry can create the container"
    assert stderr.strip().splitlines()[-1].startswith("error: not found: container")
    assert "Traceback" not in stderr
    assert not blob_storage(azurite_container, "runs").exists("wf-2/chunks/manifest.json")


def test_etl_task_help_says_internal_and_how_to_debug() -> None:
    result = subprocess.run(
        [str(ROOT / ".venv/bin/etl-task"), "--help"], capture_output=True, text=True, check=True
    )
    assert "Internal" in result.stdout and "runnable by" in result.stdout
    assert "create-chunks" in result.stdout
    data = json.dumps(result.stdout)
    assert "Traceback" not in data
