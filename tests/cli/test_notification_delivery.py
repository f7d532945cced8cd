"""How the pods deliver item events (issue 26, item 6): each target is sent its events at the same
time as the others, so a target that hangs holds back nobody else's; and a pod's log tells, per
target, how many events it sent and how long that took (``etl workflow logs``)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from etl_cli import etl_json
from notified_dataset import ACCOUNT, Notified, changes, notified_dataset

pytestmark = pytest.mark.postgres

CREATED = [("created", f"item-{n:05d}") for n in range(3)]


@pytest.fixture
def webhook_first(
    tmp_path: Path, pgstac_dsn: str, azurite_queue: str, azurite_queue_port: int
) -> Iterator[Notified]:
    """The webhook is the dataset's first target, the queue its second."""
    with notified_dataset(
        tmp_path, pgstac_dsn, azurite_queue, azurite_queue_port, webhook_first=True
    ) as made:
        yield made


def test_each_pod_logs_how_many_events_it_sent_each_target_and_in_how_long(
    webhook_first: Notified, azurite_queue: str
) -> None:
    run = webhook_first.run()
    assert run.returncode == 0, run.stderr
    [latest] = etl_json("workflow", "list", "--limit", "1", env=webhook_first.data.env)
    logs = webhook_first.data.run("workflow", "logs", latest["name"], "--step", "process-chunks")
    assert logs.returncode == 0, logs.stderr

    for target in (f"webhook:{webhook_first.hook.url}", f"queue://{ACCOUNT}/{azurite_queue}"):
        line = rf"notifications: 3 event\(s\) sent to {re.escape(target)} in \d+\.\d\d s$"
        assert re.search(line, logs.stdout, re.MULTILINE), logs.stdout
    assert changes(webhook_first.hook.events) == CREATED


def test_a_target_that_hangs_does_not_hold_back_the_others_events(
    webhook_first: Notified,
) -> None:
    webhook_first.hook.holding = True  # the webhook takes the request and never answers
    finished: list[Any] = []
    running = threading.Thread(target=lambda: finished.append(webhook_first.run()))
    running.start()
    try:
        webhook_first.hook.held_sender()  # the pod is sending to the webhook, which hangs
        queued: list[dict[str, Any]] = []
        deadline = time.monotonic() + 120
        while changes(queued) != CREATED and time.monotonic() < deadline:
            queued += webhook_first.queued()
            time.sleep(0.2)
        assert changes(queued) == CREATED  # the queue got them while the webhook hung
    finally:
        webhook_first.hook.holding = False
        webhook_first.hook.released.set()
        running.join(600)

    assert finished[0].returncode == 0, finished[0].stderr
    assert changes(webhook_first.hook.events) == CREATED  # the webhook's, once it answered
