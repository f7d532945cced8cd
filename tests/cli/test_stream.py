"""``etl dataset stream --submit --until-idle`` on the local profile (issue 24, items 4-6): storage
events become items, deleted blobs' items go, other events are skipped and counted, a consumer
killed mid-batch loses and duplicates nothing, poison reaches ``NAME-poison`` and
``etl dataset status``, and ``etl dataset replay-dead-letters`` puts it back. Azurite's queue and
blob services and a real PgSTAC; events put with ``etl dataset send-events``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from etl_cli import ETL, run_etl
from stream_dataset import StreamDataset

pytestmark = pytest.mark.postgres


def stream(ds: StreamDataset, *extra: str) -> tuple[int, dict, str]:
    result = ds.etl("dataset", "stream", "-d", str(ds.folder), "--submit", "--until-idle", "2",
                    "--polling", "0.5", "-o", "json", *extra)  # fmt: skip
    return result.returncode, json.loads(result.stdout or "{}"), result.stderr


def test_created_events_become_items_deleted_ones_remove_them_others_are_skipped(
    streamed: StreamDataset,
) -> None:
    ds = streamed
    uris = [ds.upload(f"assets/{n}.json", id=f"item-{n}", n=n) for n in range(3)]
    outside = ds.upload("assets/readme.txt", id="not-an-asset", n=9)
    ds.send(*uris, outside)

    code, totals, stderr = stream(ds)

    assert code == 0, stderr
    assert (totals["events"], totals["loaded"], totals["skipped"]) == (4, 3, 1), totals
    assert totals["dead_lettered"] == 0
    assert ds.item_ids() == ["item-0", "item-1", "item-2"]
    assert ds.source_rows() == [(f"item-{n}", uris[n]) for n in range(3)]
    assert ds.peek() == []  # every message deleted once its items were committed

    ds.delete("assets/1.json")
    ds.send(uris[1], kind="deleted")
    code, totals, stderr = stream(ds)

    assert code == 0, stderr
    assert (totals["events"], totals["removed"]) == (1, 1), totals
    assert ds.item_ids() == ["item-0", "item-2"]


def test_poison_reaches_the_dead_letter_queue_status_shows_it_and_replay_moves_it_back(
    streamed: StreamDataset,
) -> None:
    ds = streamed
    good = ds.upload("assets/good.json", id="good", n=1)
    refused = ds.upload("assets/refused.json", id="refused", n=2, refuse=True)
    ds.send(good, refused)
    ds.put_raw("this is not an event")

    code, totals, stderr = stream(ds)

    assert code == 1, stderr
    assert "2 messages dead-lettered" in stderr
    assert (totals["loaded"], totals["dead_lettered"]) == (1, 2), totals
    assert ds.item_ids() == ["good"]
    letters = [json.loads(text) for text in ds.peek(poison=True)]
    errors = sorted(letter["error"] for letter in letters)
    assert "not a storage event (bad base64)" in errors[1]
    assert errors[0].startswith(f"{refused}: ValueError: sidecar refused is refused")
    assert {letter["deliveries"] for letter in letters} == {1}
    assert "this is not an event" in [letter["body"] for letter in letters]

    status = ds.etl("dataset", "status", "-d", str(ds.folder), "-o", "json")
    assert status.returncode == 0, status.stderr
    [collection] = json.loads(status.stdout)["collections"]
    assert collection["events"]["dead_letters"] == 2
    assert collection["events"]["depth"] == 0
    shown = ds.etl("dataset", "status", "-d", str(ds.folder))
    assert "dead letters 2" in shown.stdout, shown.stdout

    replayed = ds.etl("dataset", "replay-dead-letters", "-d", str(ds.folder))

    assert replayed.returncode == 0, replayed.stderr
    assert "2 dead letters moved" in replayed.stdout
    assert ds.peek(poison=True) == []
    assert sorted(ds.peek())[1] == "this is not an event"


def test_a_consumer_killed_mid_batch_loses_and_duplicates_nothing(
    streamed: StreamDataset, tmp_path: Path
) -> None:
    ds = streamed
    hold = tmp_path / "hold"
    hold.write_text("")
    uris = [ds.upload(f"assets/{n}.json", id=f"item-{n}", n=n) for n in range(4)]
    uris.append(ds.upload("assets/held.json", id="held", n=9, hold=str(hold)))
    ds.send(*uris)
    command = [str(ETL), "dataset", "stream", "-d", str(ds.folder), "--submit",
               "--until-idle", "8", "--polling", "0.5", "-o", "json"]  # fmt: skip
    with subprocess.Popen(command, env=ds.env, stdout=subprocess.PIPE, text=True) as running:
        try:
            pod = ds.held_pod()
            os.kill(pod, signal.SIGKILL)  # kill -9 of the consumer pod, mid-batch
            hold.unlink()
            out, _ = running.communicate(timeout=300)
        finally:
            hold.unlink(missing_ok=True)
            if running.poll() is None:
                running.kill()

    assert running.returncode == 0
    totals = json.loads(out)
    assert totals["loaded"] == 5 and totals["dead_lettered"] == 0, totals
    assert len(totals["failed_consumers"]) == 1  # the killed one
    assert ds.item_ids() == ["held", "item-0", "item-1", "item-2", "item-3"]
    assert len(ds.source_rows()) == 5
    assert ds.peek() == []


def test_stream_without_submit_prints_the_cluster_objects(streamed: StreamDataset) -> None:
    result = run_etl("dataset", "stream", "-d", str(streamed.folder), env=streamed.env)
    assert result.returncode == 0, result.stderr
    kinds = [line for line in result.stdout.splitlines() if line.startswith("kind: ")]
    assert kinds == ["kind: TriggerAuthentication", "kind: ScaledJob"]
