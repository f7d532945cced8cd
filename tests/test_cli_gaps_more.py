"""The day-2 CLI gaps of issue 25 (part 3: gaps 7, 8, 9, 12, 13), each through ``etl`` as a user meets it."""

from __future__ import annotations

import json
from pathlib import Path

from etl_cli import run_etl


def test_gap7_local_profiles_follow_the_service_ports(config_dir: Path) -> None:
    """ETL_PG_PORT/ETL_AZURITE_PORT (as scripts/services takes them) move the built-in ``local``
    profile and a new ``local``-runner profile to those ports."""
    ports = {"ETL_PG_PORT": "55999", "ETL_AZURITE_PORT": "10999"}
    shown = run_etl("profile", "show", "local", "-o", "json", env=ports)
    assert shown.returncode == 0, shown.stderr
    profile = json.loads(shown.stdout)
    assert "127.0.0.1:55999/pgstac" in profile["pgstac"]["dsn"]
    assert profile["storage"]["devstoreaccount1"]["account_url"] == (
        "http://127.0.0.1:10999/devstoreaccount1"
    )

    created = run_etl("profile", "create", "mine", "--runner", "local", env=ports)
    assert created.returncode == 0, created.stderr
    saved = (config_dir / "profiles" / "mine.yaml").read_text()
    assert "127.0.0.1:55999/pgstac" in saved and "127.0.0.1:10999/devstoreaccount1" in saved

    bad = run_etl("profile", "show", "local", env={"ETL_PG_PORT": "fivefive"})
    assert bad.returncode == 2
    assert "ETL_PG_PORT='fivefive' is not a port number" in bad.stderr
    assert "Traceback" not in bad.stderr
