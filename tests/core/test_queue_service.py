"""Azurite's queue service (issue 24, item 4's set-up): ``scripts/services`` runs and reports it,
and the built-in ``local`` profile reaches it on ``ETL_AZURITE_QUEUE_PORT`` (default 10001)."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

from etl_cli import run_etl

ROOT = Path(__file__).resolve().parents[2]


def _services_status(queue_port: int) -> str:
    result = subprocess.run(
        [str(ROOT / "scripts/services"), "status"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "ETL_AZURITE_QUEUE_PORT": str(queue_port)},
    )
    return result.stdout


def test_services_status_reports_the_queue_service(azurite_queue_port: int) -> None:
    lines = _services_status(azurite_queue_port).splitlines()
    endpoint = f"http://127.0.0.1:{azurite_queue_port}/devstoreaccount1"
    assert f"queues:   up    {endpoint} (ETL_AZURITE_QUEUE_PORT={azurite_queue_port})" in lines
    azurite = next(line for line in lines if line.startswith("azurite:"))
    assert f"QueueEndpoint={endpoint};" in azurite


def test_services_status_says_when_the_queue_service_is_down() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = int(unused.getsockname()[1])
        assert "queues:   down" in _services_status(port).splitlines()


def test_local_profile_reaches_the_queue_service_on_its_port(config_dir: Path) -> None:
    result = run_etl("profile", "show", "local", "-o", "json",
                     env={"ETL_AZURITE_QUEUE_PORT": "12345"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    account = json.loads(result.stdout)["storage"]["devstoreaccount1"]
    assert account["queue_url"] == "http://127.0.0.1:12345/devstoreaccount1"
    assert account["account_url"] == "http://127.0.0.1:10000/devstoreaccount1"

    default = run_etl("profile", "show", "local", "-o", "json")
    queue_url = json.loads(default.stdout)["storage"]["devstoreaccount1"]["queue_url"]
    assert queue_url == "http://127.0.0.1:10001/devstoreaccount1"


def test_a_bad_queue_port_is_one_line_naming_the_variable(config_dir: Path) -> None:
    result = run_etl("profile", "show", "local", env={"ETL_AZURITE_QUEUE_PORT": "10001x"})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: ETL_AZURITE_QUEUE_PORT='10001x' is not a port number (1-65535)"
    )
