"""The sample dataset with a stream, for a cluster: ``datasets/sample-sidecars`` copied, its collection given an
``events:`` queue and pod resources (for the stream tests of tests/argo and tests/cli)."""

from __future__ import annotations

import shutil
from pathlib import Path

from etl_cli import ROOT

__all__ = ["QUEUE", "stream_dataset"]

QUEUE = "sample-sidecars-events"


def stream_dataset(folder: Path, *, batch_size: int = 50) -> Path:
    """The copy in ``folder``: events from ``queue://devstoreaccount1/QUEUE``, resources set."""
    shutil.copytree(ROOT / "datasets" / "sample-sidecars", folder, dirs_exist_ok=True)
    path = folder / "dataset.yaml"
    text = path.read_text()
    text = text.replace(
        "    chunk_storage:\n",
        f"    events:\n      queue: queue://devstoreaccount1/{QUEUE}\n"
        f"      batch_size: {batch_size}\n    chunk_storage:\n",
    )
    text = text.replace(
        "      retries: 1\n",
        "      retries: 1\n      resources:\n        requests: {cpu: 500m, memory: 1Gi}\n",
        1,
    )
    path.write_text(text)
    return folder
