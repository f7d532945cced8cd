"""A run's outcome reaches the dataset's notification targets (issue 26, items 2 and 4).

Through ``etl dataset process-items --submit`` on the local profile, a dataset with a queue and a
webhook target: the compiled exit handler (``etl-task run-outcome``) sends one
``dev.etl.run.failed`` event for a run that failed, and ``dev.etl.run.succeeded`` for one that
succeeded, to Azurite's queue and to a webhook receiver that checks the signature, each a
CloudEvent valid against etl's schema, with the run's name, status, URL, counts and failed assets
(and where to read them). Without notifications the manifest has no exit handler.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cloud_events import check_events
from sidecar_dataset import Dataset, make_dataset
from webhook_receiver import WebhookReceiver, webhook_receiver

ACCOUNT = "devstoreaccount1"
HOOK_SECRET = "run-outcome-hook-secret"


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with webhook_receiver(HOOK_SECRET) as receiver:
        yield receiver


def notified_dataset(
    tmp_path: Path, dsn: str, queue: str, queue_port: int, hook: WebhookReceiver, broken: set[int]
) -> Dataset:
    """The sidecar dataset (25 assets in 3 chunks, ``broken`` failing) with a queue and a webhook
    target."""
    dataset = make_dataset(tmp_path, dsn, assets=25, broken=broken, chunk_length=10)
    yaml_path = dataset.folder / "dataset.yaml"
    yaml_path.write_text(
        yaml_path.read_text() + f"notifications:\n"
        f"  - queue: queue://{ACCOUNT}/{queue}\n"
        f"  - webhook: {hook.url}\n"
        f"    secret: $<< secrets.HOOK_SECRET >>\n"
    )
    dataset.env |= {
        "ETL_AZURITE_QUEUE_PORT": str(queue_port),
        "ETL_SECRET_HOOK_SECRET": HOOK_SECRET,
    }
    return dataset


def queued_events(queue: str, queue_port: int) -> list[dict[str, Any]]:
    """Every event in the queue's messages (each message a CloudEvents JSON batch)."""
    from azurite_queue import queue_service_client

    client = queue_service_client(queue_port).get_queue_client(queue)
    events = []
    for message in client.peek_messages(max_messages=32):
        events.extend(check_events(json.loads(str(message.content))))
    return events


def run_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"].startswith("dev.etl.run.")]


def test_a_failed_runs_outcome_reaches_the_queue_and_the_webhook(
    tmp_path: Path,
    pgstac_dsn: str,
    azurite_queue: str,
    azurite_queue_port: int,
    hook: WebhookReceiver,
    config_dir: Path,
) -> None:
    dataset = notified_dataset(
        tmp_path, pgstac_dsn, azurite_queue, azurite_queue_port, hook, broken={3, 17}
    )
    result = dataset.run("dataset", "process-items", "-d", str(dataset.folder), "--submit")
    assert result.returncode == 1, result.stderr
    [queued] = run_events(queued_events(azurite_queue, azurite_queue_port))
    [posted] = run_events(list(hook.unique().values()))
    assert queued == posted
    assert not hook.refused
    event = queued
    run = event["subject"]
    assert event["type"] == "dev.etl.run.failed"
    assert event["source"] == "/etl/datasets/sidecars"
    data = event["data"]
    assert data["run"] == run and data["dataset"] == "sidecars"
    assert data["status"] == "Failed"
    assert data["command"] == "process-items"
    assert data["items"] == 23
    assert data["failed_assets"] == 2
    [collection] = data["collections"]
    assert collection["assets"] == 25 and collection["chunks"] == 3
    assert collection["failed_assets"] == 2 and collection["items"] == 23
    failures = Path(collection["failures_uri"].removeprefix("file://"))
    listed = [
        json.loads(line)
        for f in sorted(failures.glob("*.ndjson"))
        for line in f.read_text().splitlines()
    ]
    assert sorted(Path(f["asset"]).name for f in listed) == ["00003.json", "00017.json"]
    assert data["url"] == (Path(dataset.env["ETL_STATE_DIR"]) / "runs" / run).as_uri()
    assert any("process-chunks" in step["step"] for step in data["failed_steps"])
    # The run stays Failed because of its steps, not because of the exit handler.
    shown = dataset.run("workflow", "get", run, "-o", "json")
    assert [n["node"] for n in json.loads(shown.stdout)["failed_nodes"]] != [f"{run}.onExit"]


def test_a_succeeded_runs_outcome_reaches_them_too(
    tmp_path: Path,
    pgstac_dsn: str,
    azurite_queue: str,
    azurite_queue_port: int,
    hook: WebhookReceiver,
    config_dir: Path,
) -> None:
    dataset = notified_dataset(
        tmp_path, pgstac_dsn, azurite_queue, azurite_queue_port, hook, broken=set()
    )
    result = dataset.run("dataset", "process-items", "-d", str(dataset.folder), "--submit")
    assert result.returncode == 0, result.stderr
    [queued] = run_events(queued_events(azurite_queue, azurite_queue_port))
    [posted] = run_events(list(hook.unique().values()))
    assert queued == posted
    assert queued["type"] == "dev.etl.run.succeeded"
    data = queued["data"]
    assert (data["status"], data["items"], data["failed_assets"]) == ("Succeeded", 25, 0)
    assert data["failed_steps"] == []


def test_without_notifications_the_manifest_has_no_exit_handler(
    tmp_path: Path, pgstac_dsn: str, config_dir: Path
) -> None:
    dataset = make_dataset(tmp_path, pgstac_dsn, assets=3, broken=set())
    rendered = dataset.run("dataset", "render", "-d", str(dataset.folder), "-o", "json")
    assert rendered.returncode == 0, rendered.stderr
    spec = json.loads(rendered.stdout)["spec"]
    assert "onExit" not in spec
    assert all("run-outcome" not in json.dumps(t) for t in spec["templates"])
