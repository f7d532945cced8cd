"""``scripts/azurite-blob.js``: the Azurite that ``scripts/services`` runs has no background GC.

Azurite's blob GC sweeps deleted blobs' extents every 10 minutes in quadratic time: after a test
session it kept a core at 100% for many minutes. Its debug log names every mark-and-sweep step, so
a private Azurite started through the launcher must log none, while Azurite started directly does
(the control: it shows that the log would tell).
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AZURITE_MAIN = ROOT / ".tools/node_modules/azurite/dist/src/blob/main.js"
LAUNCHER = ROOT / "scripts/azurite-blob.js"
GC_STEP = "BlobGCManager:markSweep"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _debug_log_of(script: Path, tmp_path: Path) -> str:
    """Start ``script`` as Azurite on a free port, wait until it listens, stop it: its debug log."""
    port = _free_port()
    log = tmp_path / f"{script.stem}.log"
    address = ["--blobHost", "127.0.0.1", "--blobPort", str(port)]
    quiet = ["--inMemoryPersistence", "--silent", "--disableTelemetry"]
    process = subprocess.Popen(
        ["node", str(script), *address, *quiet, "--debug", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"{script.name} exited with {process.returncode}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"{script.name} did not listen in 30 s"
                time.sleep(0.1)
        time.sleep(2)  # the debug log is written asynchronously
    finally:
        process.terminate()
        process.wait(timeout=10)
    return log.read_text()


@pytest.mark.azurite
def test_scripts_azurite_runs_without_the_background_gc(tmp_path: Path) -> None:
    assert GC_STEP in _debug_log_of(AZURITE_MAIN, tmp_path)
    launched = _debug_log_of(LAUNCHER, tmp_path)
    assert "successfully listens on http://127.0.0.1" in launched  # it did log, and served
    assert GC_STEP not in launched
