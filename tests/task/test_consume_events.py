"""``etl-task consume-events``, the consumer pod (issue 24, item 5): a message whose asset fails on
a transient error stays in the queue and is tried again after the visibility timeout; on its
``max_deliveries``-th delivery it moves to ``NAME-poison`` with its error and delivery count."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from stream_dataset import StreamDataset

pytestmark = pytest.mark.postgres

ETL_TASK = Path(sys.executable).parent / "etl-task"


def consume(ds: StreamDataset, idle_exit: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ETL_TASK), "consume-events", "--dataset", str(ds.folder),
         "--collection", "sidecars", "--idle-exit", idle_exit],
        env=ds.env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_a_transient_failure_is_retried_then_dead_lettered_on_the_last_delivery(
    streamed: StreamDataset, tmp_path: Path
) -> None:
    ds = streamed
    flaky = tmp_path / "flaky"
    flaky.write_text("")
    good = ds.upload("assets/good.json", id="good", n=1)
    failing = ds.upload("assets/flaky.json", id="flaky", n=2, flaky=str(flaky))
    ds.send(good, failing)

    result = consume(ds, "8")

    assert result.returncode == 0, result.stderr
    assert "failed (delivery 1 of 2, tried again after 5 s)" in result.stderr
    assert "consume-events sidecars: 3 events: 1 items loaded, 0 removed, 0 skipped, " \
           "1 dead-lettered" in result.stdout  # fmt: skip
    assert ds.item_ids() == ["good"]
    [letter] = [json.loads(text) for text in ds.peek(poison=True)]
    assert letter["deliveries"] == 2
    assert letter["error"] == (
        f"{failing}: TimeoutError: sidecar flaky: the service did not answer (delivery 2, the last)"
    )
    assert ds.peek() == []


def test_idle_exit_must_be_positive(streamed: StreamDataset) -> None:
    result = consume(streamed, "0")
    assert result.returncode == 2
    assert "error: --idle-exit 0.0: give a number of seconds above 0" in result.stderr
