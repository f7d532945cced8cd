"""A copy of the sample-sidecars dataset whose pods a test steers through files in a control folder.

The collection class reads ``CONTROL/slow`` (seconds to sleep per item), waits while
``CONTROL/hold`` exists (saying ``pod PID holds on ASSET`` on stderr), and kills its own pod with
SIGKILL for the assets ``CONTROL/die`` names; with no control file it is the sample's class.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from etl_cli import ROOT
from sidecar_files import generate_sidecars

SAMPLE = ROOT / "datasets" / "sample-sidecars"

FAULTY = """
import os
import signal
import sys
import time
from pathlib import Path

from sample_sidecars.collection import SampleSidecarsCollection

CONTROL = Path({control!r})


class FaultySidecars(SampleSidecarsCollection):
    @classmethod
    def create_item(cls, asset_uri, storage):
        slow = CONTROL / "slow"
        if slow.exists():
            time.sleep(float(slow.read_text()))
        hold = CONTROL / "hold"
        if hold.exists():
            print(f"pod {{os.getpid()}} holds on {{asset_uri}}", file=sys.stderr, flush=True)
            while hold.exists():
                time.sleep(0.1)
        die = CONTROL / "die"
        if die.exists() and asset_uri.endswith(tuple(die.read_text().split())):
            os.kill(os.getpid(), signal.SIGKILL)
        return super().create_item(asset_uri, storage)
"""


def faulty_sidecars(tmp_path: Path, env: dict[str, str], *, retries: bool = True) -> Path:
    """The dataset's folder (``tmp_path / "dataset"``): 10 assets in ``tmp_path / "assets"``, in
    chunks of 5, its control folder ``tmp_path / "control"``; ``retries=False``: no pod retried."""
    control = tmp_path / "control"
    control.mkdir()
    dataset = tmp_path / "dataset"
    shutil.copytree(SAMPLE, dataset, ignore=shutil.ignore_patterns("__pycache__"))
    (dataset / "sample_sidecars" / "faulty.py").write_text(FAULTY.format(control=str(control)))
    text = (dataset / "dataset.yaml").read_text()
    text = text.replace("sample_sidecars.collection:SampleSidecarsCollection",
                        "sample_sidecars.faulty:FaultySidecars")  # fmt: skip
    text = text.replace("chunk_length: 500", "chunk_length: 5")
    if not retries:
        text = text.replace("retries: 1", "retries: 0")
    (dataset / "dataset.yaml").write_text(text)
    generate_sidecars(10, tmp_path / "assets", env)
    return dataset
