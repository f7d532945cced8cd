"""Item events reach their targets (issue 26, items 1-3 and 5): ``etl dataset process-items
--submit`` on the local profile, a dataset whose ``notifications`` are an Azurite queue and a local
webhook receiver that checks every request's HMAC signature. Created, updated and deleted items
each reach both as CloudEvents that pass etl's schema, exactly once per change after de-duplication
by id; a target that is down never fails the run, ``etl dataset status`` shows what waits, and
``etl dataset send-notifications`` sends it; a bad target is a located error (exit 2)."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from event_grid_stand_in import event_grid_topic
from notified_dataset import SECRET, Notified, changes
from sidecar_dataset import Dataset, item_ids, make_dataset
from stream_dataset import StreamDataset
from webhook_receiver import webhook_receiver

pytestmark = pytest.mark.postgres


def write_asset(data: Dataset, index: int, **fields: Any) -> None:
    record = {"id": f"item-{index:05d}", "x": index, "y": index, "t": "2021-05-01T00:00:00+00:00"}
    (data.assets / f"{index:05d}.json").write_text(json.dumps({"n": index} | record | fields))


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


def status_of(notified: Notified) -> dict[str, Any]:
    result = notified.data.run("dataset", "status", "-d", str(notified.data.folder), "-o", "json")
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout)["collections"][0])


def test_a_webhook_that_is_down_fails_nothing_status_shows_what_waits_and_a_resend_sends_it(
    notified: Notified,
) -> None:
    notified.hook.answer = 503
    run = notified.run()
    assert run.returncode == 0, run.stderr
    assert changes(notified.queued()) == [("created", f"item-{n:05d}") for n in range(3)]
    assert notified.hook.events == []
    assert notified.hook.requests > 1  # tried again before leaving them

    [waiting] = status_of(notified)["notifications"]
    assert waiting["target"] == f"webhook:{notified.hook.url}"
    assert waiting["undelivered"] == 4  # the 3 items' events and the run's outcome
    assert "503" in waiting["last_error"]
    table = notified.data.run("dataset", "status", "-d", str(notified.data.folder))
    assert "etl dataset send-notifications" in table.stdout
    assert SECRET not in run.stderr + run.stdout + table.stdout

    refused = notified.data.run("dataset", "send-notifications", "-d", str(notified.data.folder))
    assert refused.returncode == 1
    assert "503" in refused.stdout + refused.stderr

    notified.hook.answer = 200
    sent = notified.data.run("dataset", "send-notifications", "-d", str(notified.data.folder))
    assert sent.returncode == 0, sent.stderr
    assert changes(notified.hook.events) == [("created", f"item-{n:05d}") for n in range(3)]
    assert status_of(notified)["notifications"] == []


def test_a_pod_killed_after_its_commit_loses_no_event(notified: Notified) -> None:
    notified.hook.holding = True  # the pod's delivery hangs after the load committed
    first: list[Any] = []
    running = threading.Thread(target=lambda: first.append(notified.run()))
    running.start()
    os.kill(notified.hook.held_sender(), signal.SIGKILL)
    notified.hook.holding = False
    notified.hook.released.set()
    running.join(600)

    assert first[0].returncode != 0  # the pod died: the run failed
    assert item_ids(notified.data.env["ETL_PGSTAC_DSN"]) == [f"item-{n:05d}" for n in range(3)]
    # The next delivery step was the failed run's exit handler: it sent what the pod left in the
    # outbox, then the run's outcome.
    created = [("created", f"item-{n:05d}") for n in range(3)]
    assert changes(notified.hook.events) == created
    assert [e["type"] for e in notified.hook.events][-1] == "dev.etl.run.failed"
    assert status_of(notified)["notifications"] == []

    again = notified.run()
    assert again.returncode == 0, again.stderr
    assert changes(notified.hook.events) == created
    assert changes(notified.queued()) == created
    assert status_of(notified)["notifications"] == []


def test_an_event_grid_topic_gets_each_item_event_in_azures_publish_shape(
    tmp_path: Path, pgstac_dsn: str
) -> None:
    data = make_dataset(tmp_path, pgstac_dsn, assets=3, broken=set())
    with event_grid_topic("topic-key-1") as topic:
        yaml_path = data.folder / "dataset.yaml"
        yaml_path.write_text(
            yaml_path.read_text()
            + f"notifications:\n  - event_grid:\n      endpoint: {topic.endpoint}\n"
            "      key: $<< secrets.TOPIC_KEY >>\n"
        )
        data.env["ETL_SECRET_TOPIC_KEY"] = "topic-key-1"
        run = data.run("dataset", "process-items", "-d", str(data.folder), "--submit")

    assert run.returncode == 0, run.stderr
    assert topic.refused == []
    assert changes(topic.events) == [("created", f"item-{n:05d}") for n in range(3)]


def test_the_stream_consumer_sends_the_same_item_events(
    streamed: StreamDataset,
) -> None:
    ds = streamed
    with webhook_receiver(SECRET) as hook:
        yaml_path = ds.folder / "dataset.yaml"
        yaml_path.write_text(
            yaml_path.read_text()
            + f"notifications:\n  - webhook: {hook.url}\n    secret: $<< secrets.HOOK_SECRET >>\n"
        )
        ds.env["ETL_SECRET_HOOK_SECRET"] = SECRET
        uris = [ds.upload(f"assets/{n}.json", id=f"item-{n}", n=n) for n in range(2)]
        ds.send(*uris)
        streamed_once = ds.etl("dataset", "stream", "-d", str(ds.folder), "--submit",
                               "--until-idle", "2", "--polling", "0.5")  # fmt: skip
        assert streamed_once.returncode == 0, streamed_once.stderr
        ds.delete("assets/1.json")
        ds.send(uris[1], kind="deleted")
        streamed_twice = ds.etl("dataset", "stream", "-d", str(ds.folder), "--submit",
                                "--until-idle", "2", "--polling", "0.5")  # fmt: skip
        assert streamed_twice.returncode == 0, streamed_twice.stderr

    assert changes(hook.events) == [
        ("created", "item-0"),
        ("created", "item-1"),
        ("deleted", "item-1"),
    ]
    assert {event["source"] for event in hook.events} == {
        "/etl/datasets/stream-test/collections/sidecars"
    }


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("  - webhook: https://h.example/x\n", "a webhook needs a secret"),
        ("  - webhook: https://h.example/x\n    secret: plain-text\n", "secret must be one secret"),
        ("  - queue: queue://acct/Bad_Name\n", "queue name"),
        ("  - queue: queue://acct/items\n    webhook: https://h.example/x\n", "exactly one of"),
        ("  - event_grid: {endpoint: ftp://x}\n", "endpoint must be an http(s) URL"),
        ("  - email: a@b.c\n", "email"),
    ],
)
def test_a_bad_target_is_a_located_error(
    tmp_path: Path, pgstac_dsn: str, entry: str, message: str
) -> None:
    data = make_dataset(tmp_path, pgstac_dsn, assets=1, broken=set())
    yaml_path = data.folder / "dataset.yaml"
    lines = len(yaml_path.read_text().splitlines())
    yaml_path.write_text(yaml_path.read_text() + "notifications:\n" + entry)

    result = data.run("dataset", "validate", "-d", str(data.folder))

    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    located = re.match(rf"error: {re.escape(str(yaml_path))}:(\d+):\d+: notifications\[0\]", line)
    assert located, line
    assert int(located.group(1)) in (lines + 2, lines + 3)  # the entry, or its field
    assert message in line


def test_the_profiles_notifications_replace_the_datasets(notified: Notified) -> None:
    with webhook_receiver("profile-hook-secret") as other:
        profiles = Path(notified.data.env["ETL_CONFIG_DIR"]) / "profiles"
        profiles.mkdir(parents=True, exist_ok=True)
        (profiles / "local.yaml").write_text(
            f"notifications:\n  - webhook: {other.url}\n"
            "    secret: $<< secrets.PROFILE_HOOK >>\n    include_item: true\n"
        )
        notified.data.env["ETL_SECRET_PROFILE_HOOK"] = "profile-hook-secret"
        run = notified.run()

    assert run.returncode == 0, run.stderr
    assert changes(other.events) == [("created", f"item-{n:05d}") for n in range(3)]
    assert other.events[0]["data"]["item"]["id"] == other.events[0]["subject"]
    assert notified.queued() == []
    assert notified.hook.events == []
