"""A storage service that stops answering (issue 22, finding 12): a voice, a timeout, a retry.

With Azurite paused, a run used to wait silently for the SDK's 60 s read timeouts; its assets then
failed and each batch failed as *permanent* (exit 2, no pod retry) although the cause was
transient. Here the assets' blobs sit behind a test-owned proxy to Azurite that lists them but
accepts every blob read and never answers it, and the profile sets small ``storage_timeouts``:
the pods print a waiting line, the assets fail as transient, and the batch is retried.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sidecar_dataset as e2e

AZURITE = ("127.0.0.1", 10000)
ACCOUNT = "devstoreaccount1"


class ReadHangingProxy:
    """Forwards HTTP to Azurite, except blob reads (a ``GET`` that is not a listing): those are
    accepted and never answered, as a hung service does."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._sockets: list[socket.socket] = [self._server]
        self.hung = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        for sock in self._sockets:
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            self._sockets.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        pending = b""
        try:
            while True:
                while b"\r\n\r\n" not in pending:
                    data = client.recv(65536)
                    if not data:
                        return
                    pending += data
                head, _, rest = pending.partition(b"\r\n\r\n")
                length = _content_length(head)
                while len(rest) < length:
                    rest += client.recv(65536)
                body, pending = rest[:length], rest[length:]
                method, target = head.split(b" ", 2)[:2]
                if method == b"GET" and b"comp=list" not in target:
                    self.hung += 1
                    return  # the client's socket stays open, unanswered
                if upstream is None:
                    upstream = socket.create_connection(AZURITE)
                    self._sockets.append(upstream)
                    threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
                upstream.sendall(head + b"\r\n\r\n" + body)
        except OSError:
            return


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass


@pytest.fixture
def hanging_proxy() -> Iterator[ReadHangingProxy]:
    proxy = ReadHangingProxy()
    yield proxy
    proxy.close()


@pytest.mark.postgres
def test_a_hung_storage_is_told_and_its_assets_fail_as_transient(
    tmp_path: Path,
    pgstac_dsn: str,
    azurite_connection_string: str,
    azurite_container: str,
    hanging_proxy: ReadHangingProxy,
) -> None:
    from azure.storage.blob import ContainerClient

    data = e2e.make_dataset(tmp_path, pgstac_dsn, assets=3, broken=set())
    container = ContainerClient.from_connection_string(azurite_connection_string, azurite_container)
    for asset in sorted(data.assets.iterdir()):
        container.upload_blob(f"assets/{asset.name}", asset.read_bytes())
    blob_root = f"blob://{ACCOUNT}/{azurite_container}/assets"
    path = data.folder / "dataset.yaml"
    text = path.read_text().replace(data.assets.as_uri(), blob_root)
    path.write_text(text.replace("create-items: {retries: 0}", "create-items: {retries: 1}"))
    proxy_url = f"http://127.0.0.1:{hanging_proxy.port}/{ACCOUNT}"
    created = data.run("profile", "create", "local", "--runner", "local",
                       "--set", f"storage.{ACCOUNT}.account_url={proxy_url}",
                       "--set", "storage_timeouts.read=1", "--set", "storage_timeouts.retries=1",
                       "--set", "storage_timeouts.notice=1")  # fmt: skip
    assert created.returncode == 0, created.stderr

    run = data.run("dataset", "process-items", "-d", str(data.folder), "--submit", "-o", "json")

    assert run.returncode == 1, run.stderr
    assert hanging_proxy.hung >= 3
    name = json.loads(run.stdout)["name"]
    record = Path(data.env["ETL_STATE_DIR"]) / "runs" / name / "run.json"
    nodes = json.loads(record.read_text())["nodes"].values()
    attempts = {n["template"]: n["attempts"] for n in nodes if n["type"] == "Pod"}
    assert attempts["sidecars-process-chunks"] == 2  # transient: retried, not exit 2
    assert "3 of 3 assets failed" in run.stderr
    assert "3 of them on an error a retry may cure" in run.stderr
    logs = data.run("workflow", "logs", name)
    assert f"waiting on blob://{ACCOUNT}/{azurite_container}: no answer for " in logs.stdout
    failures = data.run("workflow", "errors", name)
    assert "cannot reach storage" in failures.stdout + failures.stderr
