"""A dataset whose collection takes storage events: JSON sidecars on Azurite's blob storage, a
queue of Azurite's queue service, and what the stream and consumer tests read back.

Its collection class refuses (a permanent ``ValueError``) a sidecar with ``"refuse": true``, fails
with a ``TimeoutError`` (transient) while the file named by ``"flaky"`` exists, and holds (printing
``pod PID holds on URI`` to the pod's log) while the file named by ``"hold"`` exists.
"""

from __future__ import annotations

import json
import os
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import AZURITE_CONNECTION_STRING
from etl_cli import run_etl
from sidecar_dataset import TEMPLATE

ACCOUNT = "devstoreaccount1"
COLLECTION = "sidecars"

CODE = """
import json, os, sys, time
from datetime import datetime
from pathlib import Path

import pystac

from etl.dataset import Collection


class Sidecars(Collection):
    @classmethod
    def create_item(cls, asset_uri, storage):
        record = json.loads(storage.read_text(asset_uri))
        if record.get("refuse"):
            raise ValueError(f"sidecar {record['id']} is refused")
        if record.get("flaky") and Path(record["flaky"]).exists():
            raise TimeoutError(f"sidecar {record['id']}: the service did not answer")
        if record.get("hold") and Path(record["hold"]).exists():
            print(f"pod {os.getpid()} holds on {asset_uri}", file=sys.stderr, flush=True)
            while Path(record["hold"]).exists():
                time.sleep(0.05)
        x, y = record["n"] % 180, record["n"] % 90
        return pystac.Item(
            id=record["id"],
            geometry={"type": "Point", "coordinates": [x, y]},
            bbox=[x, y, x, y],
            datetime=datetime(2021, 5, 1),
            properties={"n": record["n"]},
            assets={"data": pystac.Asset(href=asset_uri)},
        )
"""


@dataclass
class StreamDataset:
    """The dataset folder, its blob container and queue, and the environment ``etl`` runs in."""

    folder: Path
    container: str
    queue: str
    dsn: str
    env: dict[str, str]

    def blob(self, name: str) -> str:
        return f"blob://{ACCOUNT}/{self.container}/{name}"

    def upload(self, name: str, record: dict[str, Any] | None = None, **fields: Any) -> str:
        """Upload a sidecar (``assets/NAME``) holding ``record`` or ``fields``; its URI."""
        from azure.storage.blob import BlobServiceClient

        client = BlobServiceClient.from_connection_string(AZURITE_CONNECTION_STRING)
        data = json.dumps(record if record is not None else fields).encode()
        client.get_blob_client(self.container, name).upload_blob(data, overwrite=True)
        return self.blob(name)

    def delete(self, name: str) -> None:
        from azure.storage.blob import BlobServiceClient

        client = BlobServiceClient.from_connection_string(AZURITE_CONNECTION_STRING)
        client.get_blob_client(self.container, name).delete_blob()

    def etl(self, *args: str, timeout: float = 300) -> Any:
        return run_etl(*args, env=self.env, timeout=timeout)

    def log_line(self, text: str) -> str:
        """The first line holding ``text`` of a consumer pod's log, waited for (a minute or two)."""
        for _ in range(600):
            for run in json.loads(self.etl("workflow", "list", "-o", "json").stdout or "[]"):
                logs = self.etl("workflow", "logs", run["name"]).stdout
                for line in logs.splitlines():
                    if text in line:
                        return line
            time.sleep(0.2)
        raise AssertionError(f"no consumer pod logged {text!r}")

    def held_pod(self) -> int:
        """The pid of the consumer pod holding on an asset, from the local runner's logs."""
        return int(self.log_line(" holds on ").split("pod ", 1)[1].split()[0])

    def send(self, *uris: str, kind: str = "created") -> None:
        result = self.etl("dataset", "send-events", "-d", str(self.folder), "--type", kind, *uris)
        assert result.returncode == 0, result.stderr

    def put_raw(self, text: str) -> None:
        """Put ``text`` into the queue as it is (what a wrong producer would write)."""
        self.queue_client().send_message(text)

    def queue_client(self, poison: bool = False) -> Any:
        from etl.core.profiles.model import Profile
        from etl.core.queues.clients import queue_client
        from etl.core.queues.uris import parse_queue_uri

        location = parse_queue_uri(f"queue://{ACCOUNT}/{self.queue}")
        return queue_client(location.poison if poison else location, Profile.builtin_local())

    def peek(self, poison: bool = False) -> list[str]:
        """The texts of the visible messages (at most 32), left in the queue."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            peeked = self.queue_client(poison).peek_messages(max_messages=32)
        except ResourceNotFoundError:
            return []
        return [str(m.content) for m in peeked]

    def item_ids(self) -> list[str]:
        with psycopg.connect(self.dsn) as conn:
            rows = conn.execute(
                "SELECT id FROM pgstac.items WHERE collection = %s ORDER BY id", (COLLECTION,)
            ).fetchall()
        return [row[0] for row in rows]

    def source_rows(self) -> list[tuple[str, str]]:
        """``etl.item_sources``' (item id, asset) rows of the collection."""
        with psycopg.connect(self.dsn) as conn:
            rows = conn.execute(
                "SELECT item_id, asset FROM etl.item_sources WHERE collection = %s "
                "ORDER BY item_id",
                (COLLECTION,),
            ).fetchall()
        return [(row[0], row[1]) for row in rows]


def make_stream_dataset(
    tmp_path: Path,
    dsn: str,
    container: str,
    queue: str,
    queue_port: int,
    *,
    visibility_timeout: int = 5,
    max_deliveries: int = 5,
    batch_size: int = 10,
) -> StreamDataset:
    folder = tmp_path / "dataset"
    folder.mkdir()
    (folder / "sidecars.py").write_text(CODE)
    (folder / "collection").mkdir()
    (folder / "collection" / "template.json").write_text(json.dumps(TEMPLATE))
    (folder / "collection" / "description.md").write_text("Sidecars streamed from their events.")
    (folder / "dataset.yaml").write_text(
        textwrap.dedent(
            f"""\
            id: stream-test
            image: etl-task:test
            code:
              src: $<< local.path(./sidecars.py) >>
            collections:
              - id: {COLLECTION}
                class: sidecars:Sidecars
                template: $<< local.path(./collection) >>
                missing_items: remove
                asset_storage:
                  - uri: blob://{ACCOUNT}/{container}/assets
                    chunks:
                      options:
                        extensions: [.json]
                chunk_storage:
                  uri: {(tmp_path / "chunks").as_uri()}
                events:
                  queue: queue://{ACCOUNT}/{queue}
                  batch_size: {batch_size}
                  max_wait: 1
                  max_deliveries: {max_deliveries}
                  visibility_timeout: {visibility_timeout}
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETL_", "ARGO_"))}
    env |= {
        "ETL_PGSTAC_DSN": dsn,
        "ETL_STATE_DIR": str(tmp_path / "state"),
        "ETL_CONFIG_DIR": str(tmp_path / "config"),
        "ETL_AZURITE_QUEUE_PORT": str(queue_port),
        "CI": "true",
    }
    return StreamDataset(folder, container, queue, dsn, env)


MakeStream = Callable[..., StreamDataset]
"""``make_stream_dataset`` for this test's folder, database, container and queue: options only."""


@pytest.fixture
def stream_of(
    tmp_path: Path,
    pgstac_dsn: str,
    azurite_container: str,
    azurite_queue: str,
    *,
    azurite_queue_port: int,
    config_dir: Path,
) -> MakeStream:
    """Makes this test's stream dataset with the options given (visibility timeout, deliveries,
    batch size: :func:`make_stream_dataset`'s)."""
    return partial(
        make_stream_dataset, tmp_path, pgstac_dsn, azurite_container, azurite_queue,
        azurite_queue_port,
    )  # fmt: skip


@pytest.fixture
def streamed(stream_of: MakeStream) -> StreamDataset:
    """A stream dataset of this test's database, container and queue: visibility timeout 5 s,
    2 deliveries before a failing message is dead-lettered, batches of 10."""
    return stream_of(visibility_timeout=5, max_deliveries=2)
