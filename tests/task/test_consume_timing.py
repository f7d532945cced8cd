"""A consumer whose batch outlasted its messages' visibility timeout (issue 24, item 5): another
consumer received the message again, so the first one's delete carries a stale receipt, which
Azure's queues refuse with ``400 PopReceiptMismatch`` (not ``404``). That is at-least-once delivery
working: the first consumer warns and goes on, the second loads the same item again (an upsert)
and deletes the message. It used to end the first consumer failed ("cannot delete message").

Two events, ``batch_size: 1``, ``visibility_timeout: 5``, two consumers. One asset holds the first
consumer that reads it while a file exists; its sidecar is then rewritten to name a second file,
which holds the consumer that receives it again after the timeout. The first is let go while the
second still holds the message: its delete is the stale one, every time.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from etl_cli import ETL
from stream_dataset import MakeStream, StreamDataset

pytestmark = pytest.mark.postgres


def _pods_holding(ds: StreamDataset, asset: str, count: int) -> set[int]:
    """The pids of ``count`` consumer pods that held on ``asset``, from the runner's logs."""
    pods: set[int] = set()
    for _ in range(600):
        for run in json.loads(ds.etl("workflow", "list", "-o", "json").stdout or "[]"):
            for line in ds.etl("workflow", "logs", run["name"]).stdout.splitlines():
                if line.endswith(f" holds on {asset}"):
                    pods.add(int(line.split("pod ", 1)[1].split()[0]))
        if len(pods) >= count:
            return pods
        time.sleep(0.2)
    raise AssertionError(f"{count} consumer pods never held on {asset}: {pods}")


def test_a_message_received_again_while_its_batch_ran_is_a_warning_not_a_failure(
    tmp_path: Path, stream_of: MakeStream
) -> None:
    ds = stream_of(batch_size=1, visibility_timeout=5)
    first, second = tmp_path / "hold-first", tmp_path / "hold-second"
    for hold in (first, second):
        hold.write_text("")
    held = ds.upload("assets/held.json", id="held", n=1, hold=str(first))
    plain = ds.upload("assets/plain.json", id="plain", n=2)
    ds.send(held, plain)
    command = [str(ETL), "dataset", "stream", "-d", str(ds.folder), "--submit", "--until-idle",
               "20", "--polling", "0.5", "--max-consumers", "2", "-o", "json"]  # fmt: skip
    running = subprocess.Popen(
        command, env=ds.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        (pod,) = _pods_holding(ds, held, 1)
        ds.upload("assets/held.json", id="held", n=1, hold=str(second))
        _pods_holding(ds, held, 2)  # received again once the first's receipt expired
        first.unlink()  # the first loads it and deletes with its stale receipt
        for _ in range(600):
            if not Path(f"/proc/{pod}").exists():
                break
            time.sleep(0.1)
    finally:
        for hold in (first, second):
            hold.unlink(missing_ok=True)
        out, err = running.communicate(timeout=300)

    assert running.returncode == 0, err
    totals = json.loads(out)
    assert totals["failed_consumers"] == [], totals
    assert totals["dead_lettered"] == 0
    assert ds.item_ids() == ["held", "plain"]
    assert ds.peek() == []
    warning = ds.log_line("was received again before it was deleted")
    assert ": warning: message " in warning, warning
