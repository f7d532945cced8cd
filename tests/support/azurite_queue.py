"""Azurite's queue service for the tests: the one ``scripts/services`` runs, or a private one.

:func:`private_queue_service` starts Azurite's queue service (in memory, on a free port) as
``scripts/services`` does (through ``scripts/azurite-queue.js``), for a session or for one test that pauses it (``SIGSTOP`` to its own
process, by its pid); :func:`queue_service_client` reaches a queue service on a port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import AZURITE_CONNECTION_STRING, ROOT

AZURITE_QUEUE_MAIN = ROOT / ".tools/node_modules/azurite/dist/src/queue/main.js"
LAUNCHER = ROOT / "scripts/azurite-queue.js"
"""How ``scripts/services`` starts it: Azurite's queue service without its per-request re-sorts."""


def listens(port: int) -> bool:
    """Whether something accepts connections on ``127.0.0.1:port``."""
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def queue_service_client(port: int) -> Any:
    """A ``QueueServiceClient`` of Azurite's ``devstoreaccount1`` on ``port``."""
    from azure.storage.queue import QueueServiceClient

    connection_string = (
        AZURITE_CONNECTION_STRING.rsplit("BlobEndpoint=", 1)[0]
        + f"QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
    )
    return QueueServiceClient.from_connection_string(connection_string)


@dataclass
class QueueService:
    """A private Azurite queue service: its port and process."""

    port: int
    process: subprocess.Popen[bytes]

    def pause(self) -> None:
        """Stop the service (``SIGSTOP``): it accepts connections and answers nothing."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused service go on (``SIGCONT``)."""
        os.kill(self.process.pid, signal.SIGCONT)


@contextmanager
def private_queue_service(log: Path) -> Iterator[QueueService]:
    """Azurite's queue service on a free port, in memory, its output in ``log``; stopped after.

    Raises:
        RuntimeError: ``scripts/setup`` has not installed Azurite, or the service did not start.
    """
    if not AZURITE_QUEUE_MAIN.exists():
        raise RuntimeError(f"no {AZURITE_QUEUE_MAIN}: run scripts/setup")
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = int(free.getsockname()[1])
    with log.open("w") as out:
        command = ["node", str(LAUNCHER), "--queueHost", "127.0.0.1",
                   "--queuePort", str(port), "--inMemoryPersistence", "--silent",
                   "--disableTelemetry", "--skipApiVersionCheck", "--loose"]  # fmt: skip
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    service = QueueService(port, process)
    try:
        deadline = time.monotonic() + 30
        while not listens(port):
            if process.poll() is not None or time.monotonic() > deadline:
                why = log.read_text()[-500:]
                raise RuntimeError(f"Azurite's queue service did not start on {port}: {why}")
            time.sleep(0.1)
        yield service
    finally:
        if process.poll() is None:
            service.resume()  # a paused process would not act on SIGTERM
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
