"""A queue target's messages compressed (issue 26, item 6: a notified run's cost): with
``compress: true`` each message is the base64 of the gzip of a CloudEvents JSON batch, decoded
as docs/notifications.md tells consumers to, and holding the same events; the key belongs to
queues only (a located error, exit 2, on any other target)."""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cloud_events import check_events
from notified_dataset import ACCOUNT, Notified, changes, notified_dataset
from sidecar_dataset import make_dataset

pytestmark = pytest.mark.postgres


@pytest.fixture
def compressed(
    tmp_path: Path, pgstac_dsn: str, azurite_queue: str, azurite_queue_port: int
) -> Iterator[Notified]:
    """The notified dataset, its queue target hand-edited to ``compress: true``."""
    with notified_dataset(tmp_path, pgstac_dsn, azurite_queue, azurite_queue_port) as made:
        yaml_path = made.data.folder / "dataset.yaml"
        entry = f"  - queue: queue://{ACCOUNT}/{azurite_queue}\n"
        yaml_path.write_text(yaml_path.read_text().replace(entry, entry + "    compress: true\n"))
        yield made


def decoded(text: str) -> list[dict[str, Any]]:
    """A compressed message's events, decoded as a consumer does (docs/notifications.md)."""
    batch = json.loads(gzip.decompress(base64.b64decode(text, validate=True)))
    assert isinstance(batch, list)
    return check_events(batch)


def test_a_compressed_queue_gets_its_events_as_base64_of_gzip(compressed: Notified) -> None:
    run = compressed.run()

    assert run.returncode == 0, run.stderr
    texts = []
    while messages := list(compressed.queue.receive_messages(max_messages=32)):
        for message in messages:
            texts.append(message.content)
            compressed.queue.delete_message(message)
    assert texts and not any(text.lstrip().startswith("[") for text in texts)
    events = [event for text in texts for event in decoded(text)]
    created = [("created", f"item-{n:05d}") for n in range(3)]
    assert changes(events) == created
    assert [e["type"] for e in events if not e["type"].startswith("dev.etl.item.")] == [
        "dev.etl.run.succeeded"
    ]
    assert changes(compressed.hook.events) == created  # the webhook's are JSON as before


@pytest.mark.parametrize(
    "entry",
    [
        "  - webhook: https://h.example/x\n    secret: $<< secrets.H >>\n    compress: true\n",
        "  - event_grid: {endpoint: https://t.example/api/events}\n    compress: true\n",
    ],
)
def test_compress_on_a_target_other_than_a_queue_is_a_located_error(
    tmp_path: Path, pgstac_dsn: str, entry: str
) -> None:
    data = make_dataset(tmp_path, pgstac_dsn, assets=1, broken=set())
    yaml_path = data.folder / "dataset.yaml"
    yaml_path.write_text(yaml_path.read_text() + "notifications:\n" + entry)

    result = data.run("dataset", "validate", "-d", str(data.folder))

    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert re.match(rf"error: {re.escape(str(yaml_path))}:\d+:\d+: notifications\[0\]", line)
    assert "compress is a queue's" in line
