"""``etl dataset stream --submit --until-idle`` through outages (issue 24, item 5): the queue
service pausing and PostgreSQL restarting mid-batch lose and duplicate nothing, dead-letter
nothing, and are told in one-line warnings.

The queue service is a private Azurite queue service of the test, paused with ``SIGSTOP`` while
the consumer holds on an asset; PostgreSQL is reached through a test-owned TCP proxy that, once
armed, cuts every connection when the batch's load starts and refuses new ones until told (what
a client sees of a restart). The shared services are never paused or restarted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from azurite_queue import private_queue_service, queue_service_client
from etl_cli import ETL
from stream_dataset import StreamDataset, make_stream_dataset

from etl.core.env_names import AZURITE_QUEUE_PORT_ENV

pytestmark = pytest.mark.postgres

SHORT_TIMEOUTS = ("--set", "storage_timeouts.read=2", "--set", "storage_timeouts.retries=1",
                  "--set", "storage_timeouts.notice=1")  # fmt: skip
"""Storage requests to a paused service give up after seconds, not minutes."""


class CuttingProxy:
    """Forwards TCP to ``upstream``; :meth:`arm` makes it cut every connection and refuse new
    ones as soon as a client sends ``trigger``, until :meth:`reopen`."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self.trigger: bytes | None = None
        self.cut = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._server: socket.socket | None = None
        self.reopen()

    def reopen(self) -> None:
        """Accept connections (again, on the same port)."""
        server = socket.create_server(("127.0.0.1", self.port))
        self.port = server.getsockname()[1]
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def arm(self, trigger: bytes) -> None:
        """Cut at the first client packet holding ``trigger``."""
        self.trigger = trigger

    def close(self) -> None:
        """Close the listener and every connection; new connections are refused."""
        with self._lock:
            if self._server is not None:
                self._server.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
                self._server.close()
                self._server = None
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, from_client: bool) -> None:
        try:
            while data := source.recv(65536):
                if from_client and self.trigger is not None and self.trigger in data:
                    self.trigger = None
                    self.cut.set()
                    self.close()
                    return
                target.sendall(data)
        except OSError:
            return


@pytest.fixture
def pg_proxy(pgstac_dsn: str) -> Iterator[CuttingProxy]:
    address = urlsplit(pgstac_dsn)
    proxy = CuttingProxy((address.hostname or "127.0.0.1", address.port or 5432))
    yield proxy
    proxy.close()


def proxied(dsn: str, port: int) -> str:
    """``dsn`` pointed at ``127.0.0.1:port``."""
    address = urlsplit(dsn)
    return address._replace(netloc=f"{address.username}@127.0.0.1:{port}").geturl()


def start_stream(ds: StreamDataset, hold: Path) -> subprocess.Popen[str]:
    """Five events sent, one of whose assets holds its consumer while ``hold`` exists; the
    stream started."""
    hold.write_text("")
    uris = [ds.upload(f"assets/{n}.json", id=f"item-{n}", n=n) for n in range(4)]
    uris.append(ds.upload("assets/held.json", id="held", n=9, hold=str(hold)))
    ds.send(*uris)
    command = [str(ETL), "dataset", "stream", "-d", str(ds.folder), "--submit",
               "--until-idle", "4", "--polling", "0.5", "-o", "json"]  # fmt: skip
    return subprocess.Popen(
        command, env=ds.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(running: subprocess.Popen[str]) -> tuple[dict, str]:
    """The stream's totals and stderr, once it ended (exit 0)."""
    out, err = running.communicate(timeout=300)
    assert running.returncode == 0, err
    return json.loads(out), err


def assert_nothing_lost_or_duplicated(
    ds: StreamDataset, totals: dict, *, consumers_may_fail: bool = False
) -> None:
    """Every item once, nothing dead-lettered, the queues empty; no consumer failed, unless
    ``consumers_may_fail``: a consumer whose queue stops answering longer than its retries may
    end failed, and the next one started by the queue's depth takes its messages (as KEDA's next
    Job does)."""
    assert totals["dead_lettered"] == 0, totals
    assert consumers_may_fail or totals["failed_consumers"] == [], totals
    assert ds.item_ids() == ["held", "item-0", "item-1", "item-2", "item-3"]
    assert len(ds.source_rows()) == 5
    assert ds.peek() == [] and ds.peek(poison=True) == []


def assert_told_in_one_line(ds: StreamDataset, stderr: str, warning: str) -> None:
    """``warning`` is one line of a consumer's log; no traceback anywhere."""
    assert "Traceback" not in stderr, stderr
    runs = json.loads(ds.etl("workflow", "list", "-o", "json").stdout)
    logs = "\n".join(ds.etl("workflow", "logs", run["name"]).stdout for run in runs)
    assert "Traceback" not in logs, logs
    assert warning in logs, logs


def test_the_queue_service_pausing_mid_batch_loses_and_duplicates_nothing(
    tmp_path: Path,
    pgstac_dsn: str,
    azurite_container: str,
    config_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with private_queue_service(tmp_path / "azurite-queue.log") as service:
        monkeypatch.setenv(AZURITE_QUEUE_PORT_ENV, str(service.port))  # for ds.peek
        queue_service_client(service.port).create_queue("paused")
        ds = make_stream_dataset(tmp_path, pgstac_dsn, azurite_container, "paused", service.port,
                                 visibility_timeout=5, max_deliveries=2)  # fmt: skip
        created = ds.etl("profile", "create", "local", "--runner", "local", *SHORT_TIMEOUTS)
        assert created.returncode == 0, created.stderr
        hold = tmp_path / "hold"
        with start_stream(ds, hold) as running:
            try:
                ds.held_pod()
                service.pause()  # the batch is made, then its load done, its deletes unanswered
                hold.unlink()
                warned = ds.log_line("warning: a batch of 5 messages failed")
                service.resume()
                totals, stderr = finish(running)
            finally:
                hold.unlink(missing_ok=True)
                service.resume()
                if running.poll() is None:
                    running.kill()

        assert "cannot delete message" in warned, warned
        assert_nothing_lost_or_duplicated(ds, totals, consumers_may_fail=True)
        assert_told_in_one_line(ds, stderr, "trying again in")
        # the scaler, reading the depth meanwhile, said so: it gave up or it was still waiting
        told = ("warning: cannot read the depth of queue://", "waiting on queue://")
        assert any(line in stderr for line in told), stderr


@pytest.mark.parametrize(
    "trigger",
    [b"COPY", b"INSERT INTO etl.event_counts"],
    ids=["mid-load", "after-the-load-before-the-deletes"],
)
def test_postgresql_restarting_mid_batch_loses_and_duplicates_nothing(
    trigger: bytes,
    tmp_path: Path,
    pgstac_dsn: str,
    azurite_container: str,
    *,
    azurite_queue: str,
    azurite_queue_port: int,
    config_dir: Path,
    pg_proxy: CuttingProxy,
) -> None:
    ds = make_stream_dataset(tmp_path, proxied(pgstac_dsn, pg_proxy.port), azurite_container,
                             azurite_queue, azurite_queue_port, visibility_timeout=5,
                             max_deliveries=2)  # fmt: skip
    ds = dataclasses.replace(ds, dsn=pgstac_dsn)  # the test reads PgSTAC directly
    hold = tmp_path / "hold"
    with start_stream(ds, hold) as running:
        try:
            ds.held_pod()
            pg_proxy.arm(trigger)  # PostgreSQL goes down as the batch loads, or once it loaded
            hold.unlink()
            warned = ds.log_line("warning: a batch of 5 messages failed")
            pg_proxy.reopen()
            totals, stderr = finish(running)
        finally:
            hold.unlink(missing_ok=True)
            if running.poll() is None:
                running.kill()

    assert pg_proxy.cut.is_set()
    assert "PgSTAC" in warned, warned
    assert_nothing_lost_or_duplicated(ds, totals)
    assert_told_in_one_line(ds, stderr, "trying again in")
