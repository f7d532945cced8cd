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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Targets:
    """The test's queue (its name, and the port of Azurite's queue service) and webhook."""

    queue: str
    queue_port: int
    hook: WebhookReceiver

    def events(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The run events in the queue's messages, and those the webhook got (duplicates
        dropped), each checked against etl's schema."""
        from azurite_queue import queue_service_client

        client = queue_service_client(self.queue_port).get_queue_client(self.queue)
        queued = []
        for message in client.peek_messages(max_messages=32):
            queued.extend(check_events(json.loads(str(message.content))))
        assert not self.hook.refused
        return _runs(queued), _runs(list(self.hook.unique().values()))


def _runs(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"].startswith("dev.etl.run.")]


@pytest.fixture
def targets(
    azurite_queue: str, hook: WebhookReceiver, *, azurite_queue_port: int, config_dir: Path
) -> Targets:
    return Targets(azurite_queue, azurite_queue_port, hook)


def notified_dataset(tmp_path: Path, dsn: str, targets: Targets, broken: set[int]) -> Dataset:
    """The sidecar dataset (25 assets in 3 chunks, ``broken`` failing) with the test's queue and
    webhook as its targets."""
    dataset = make_dataset(tmp_path, dsn, assets=25, broken=broken, chunk_length=10)
    yaml_path = dataset.folder / "dataset.yaml"
    yaml_path.write_text(
        yaml_path.read_text() + f"notifications:\n"
        f"  - queue: queue://{ACCOUNT}/{targets.queue}\n"
        f"  - webhook: {targets.hook.url}\n"
        f"    secret: $<< secrets.HOOK_SECRET >>\n"
    )
    dataset.env |= {
        "ETL_AZURITE_QUEUE_PORT": str(targets.queue_port),
        "ETL_SECRET_HOOK_SECRET": HOOK_SECRET,
    }
    return dataset


def test_a_failed_runs_outcome_reaches_the_queue_and_the_webhook(
    tmp_path: Path, pgstac_dsn: str, targets: Targets
) -> None:
    dataset = notified_dataset(tmp_path, pgstac_dsn, targets, broken={3, 17})
    result = dataset.run("dataset", "process-items", "-d", str(dataset.folder), "--submit")
    assert result.returncode == 1, result.stderr
    [queued], [posted] = targets.events()
    assert queued == posted
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
    # The run stays Failed because of its steps, not because of the exit handler, whose node's
    # output `etl workflow logs` shows like any other's.
    shown = dataset.run("workflow", "get", run, "-o", "json")
    assert f"{run}.onExit" not in [n["node"] for n in json.loads(shown.stdout)["failed_nodes"]]
    logs = dataset.run("workflow", "logs", run, f"{run}.onExit")
    assert f"run outcome of {run}: dev.etl.run.failed (2 failed assets)" in logs.stdout


def test_a_succeeded_runs_outcome_reaches_them_too(
    tmp_path: Path, pgstac_dsn: str, targets: Targets
) -> None:
    from etl.core.serve_address import record_server

    dataset = notified_dataset(tmp_path, pgstac_dsn, targets, broken=set())
    # An `etl serve` of the local profile is running (its record, as the server writes it): the
    # event links to the run's page there.
    with record_server("local", "http://127.0.0.1:8765/", dataset.env):
        result = dataset.run("dataset", "process-items", "-d", str(dataset.folder), "--submit")
    assert result.returncode == 0, result.stderr
    [queued], [posted] = targets.events()
    assert queued == posted
    assert queued["data"]["url"] == f"http://127.0.0.1:8765/runs/{queued['subject']}"
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
