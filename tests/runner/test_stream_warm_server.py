"""``etl dataset stream --submit`` on the local runner: every consumer forks from the one warm task
server the stream started, so a consumer started as the queue deepens begins without importing
etl-task again (issue 24, item 9: the cold start of every consumer after the first).

Two consumers are made to run at once (two events, ``batch_size: 1``, ``--max-consumers 2``; each
holds on its asset while a file exists); both pods must be children of the same process.
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


def _held_pods(ds: StreamDataset, count: int) -> set[int]:
    """The pids of ``count`` consumer pods holding on an asset, from the local runner's logs."""
    pods: set[int] = set()
    for _ in range(600):
        for run in json.loads(ds.etl("workflow", "list", "-o", "json").stdout or "[]"):
            for line in ds.etl("workflow", "logs", run["name"]).stdout.splitlines():
                if " holds on " in line:
                    pods.add(int(line.split("pod ", 1)[1].split()[0]))
        if len(pods) >= count:
            return pods
        time.sleep(0.2)
    raise AssertionError(f"{count} consumer pods never held at once: {pods}")


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_consumers_started_by_depth_fork_from_one_warm_server(
    tmp_path: Path, stream_of: MakeStream
) -> None:
    ds = stream_of(batch_size=1, visibility_timeout=120)
    hold = tmp_path / "hold"
    hold.write_text("")
    uris = [ds.upload(f"assets/{n}.json", id=f"item-{n}", n=n, hold=str(hold)) for n in range(2)]
    ds.send(*uris)
    command = [str(ETL), "dataset", "stream", "-d", str(ds.folder), "--submit", "--until-idle",
               "2", "--polling", "0.5", "--max-consumers", "2", "-o", "json"]  # fmt: skip
    running = subprocess.Popen(
        command, env=ds.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        pods = _held_pods(ds, 2)
        parents = {_parent(pod) for pod in pods}
    finally:
        hold.unlink()
        out, err = running.communicate(timeout=300)

    assert running.returncode == 0, err
    assert len(parents) == 1, f"the consumer pods {pods} have different parents {parents}"
    assert parents != {running.pid}  # forked from the warm server, not started by the stream
    totals = json.loads(out)
    assert (totals["loaded"], totals["consumers"], totals["failed_consumers"]) == (2, 2, [])
    assert ds.item_ids() == ["item-0", "item-1"]
