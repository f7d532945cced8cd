"""The sidecar dataset with two notification targets, as notification tests drive it: an Azurite
queue and a local webhook receiver (``webhook_receiver``), and what reached them.

``notified_dataset`` makes it (the ``notified`` fixture, a pytest plugin of tests/conftest.py, is
its default form); ``changes`` reads the item events a target got as (kind, item id), duplicates
by id dropped, as a consumer does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from azurite_queue import queue_service_client
from cloud_events import check_events
from sidecar_dataset import Dataset, make_dataset
from webhook_receiver import WebhookReceiver, webhook_receiver

SECRET = "s3cret-for-the-hook"
ACCOUNT = "devstoreaccount1"


@dataclass
class Notified:
    """The dataset, its two targets, and how to read what reached them."""

    data: Dataset
    hook: WebhookReceiver
    queue: Any

    def run(self, *flags: str) -> Any:
        return self.data.run(
            "dataset", "process-items", "-d", str(self.data.folder), "--submit", *flags
        )

    def queued(self) -> list[dict[str, Any]]:
        """Every event in the queue's messages (each a JSON batch), messages consumed."""
        events: list[dict[str, Any]] = []
        while messages := list(self.queue.receive_messages(max_messages=32)):
            for message in messages:
                events.extend(check_events(json.loads(message.content)))
                self.queue.delete_message(message)
        return events


def changes(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(type's last word, item id) of item events, duplicates by id dropped, sorted (each run's
    outcome event is tests/cli/test_run_outcome.py's)."""
    unique = {event["id"]: event for event in events}.values()
    items = [e for e in unique if e["type"].startswith("dev.etl.item.")]
    return sorted((e["type"].rsplit(".", 1)[1], e["subject"]) for e in items)


@contextmanager
def notified_dataset(
    tmp_path: Path,
    pgstac_dsn: str,
    azurite_queue: str,
    azurite_queue_port: int,
    *,
    webhook_first: bool = False,
) -> Iterator[Notified]:
    """Three sidecars whose ``notifications`` are the queue and the webhook (in that order, or
    the webhook first)."""
    data = make_dataset(tmp_path, pgstac_dsn, assets=3, broken=set())
    with webhook_receiver(SECRET) as hook:
        queue_entry = f"  - queue: queue://{ACCOUNT}/{azurite_queue}\n"
        hook_entry = f"  - webhook: {hook.url}\n    secret: $<< secrets.HOOK_SECRET >>\n"
        entries = [hook_entry, queue_entry] if webhook_first else [queue_entry, hook_entry]
        yaml_path = data.folder / "dataset.yaml"
        yaml_path.write_text(yaml_path.read_text() + "notifications:\n" + "".join(entries))
        data.env |= {
            "ETL_AZURITE_QUEUE_PORT": str(azurite_queue_port),
            "ETL_SECRET_HOOK_SECRET": SECRET,
        }
        queue = queue_service_client(azurite_queue_port).get_queue_client(azurite_queue)
        yield Notified(data, hook, queue)


@pytest.fixture
def notified(
    tmp_path: Path, pgstac_dsn: str, azurite_queue: str, azurite_queue_port: int
) -> Iterator[Notified]:
    """The notified dataset of this test (:func:`notified_dataset`, the queue target first)."""
    with notified_dataset(tmp_path, pgstac_dsn, azurite_queue, azurite_queue_port) as made:
        yield made
