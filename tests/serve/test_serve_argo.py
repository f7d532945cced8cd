"""``etl serve`` on an Argo profile (issue 25): the runs page lists the Argo Server's runs, each
with a link to its page in the Argo UI, and a run's page shows its steps and logs.

The Argo Server is the stand-in of tests/support/argo_server.py, which checks every request ``etl serve``
makes against the Argo Server's API; the workflows are submitted with ``etl workflow submit``,
as a user would. The runs page is read over HTTP and, once, in headless Chromium.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from argo_server import TOKEN, ArgoServerStandIn, RunPlan
from etl_cli import one_pod_workflow, run_etl
from serve_browser import chromium, served

from etl.runner.active_runs import DATASET_LABEL

NAMESPACE = "argo"


@pytest.fixture
def on_argo(config_dir: Path, argo_server: ArgoServerStandIn, pgstac_dsn: str) -> dict[str, str]:
    """A user's environment whose built-in profile names the stand-in Argo Server."""
    return {
        "ETL_CONFIG_DIR": str(config_dir),
        "ETL_STATE_DIR": str(config_dir.parent / "state"),
        "ETL_ARGO_SERVER": argo_server.url,
        "ETL_ARGO_TOKEN": TOKEN,
        "ETL_PGSTAC_DSN": pgstac_dsn,
        "CI": "true",
    }


def submit(tmp_path: Path, env: dict[str, str], dataset: str) -> str:
    """Submit a one-pod workflow labelled with ``dataset`` and wait for its end; its name."""
    manifest: dict[str, Any] = one_pod_workflow(f"{dataset}-", "print('hello')")
    manifest["metadata"]["labels"] = {DATASET_LABEL: dataset}
    path = tmp_path / f"{dataset}.json"
    path.write_text(json.dumps(manifest))
    result = run_etl("workflow", "submit", str(path), "--wait", "-o", "json", env=env)
    assert result.returncode in (0, 1), result.stderr
    name: str = json.loads(result.stdout)["name"]
    return name


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.postgres
def test_the_runs_page_lists_the_argo_servers_runs_with_links_to_the_argo_ui(
    on_argo: dict[str, str], argo_server: ArgoServerStandIn, tmp_path: Path
) -> None:
    ok = submit(tmp_path, on_argo, "stations")
    argo_server.plan_next(RunPlan(phase="Failed", failures={"main": "exit code 3: broken"}))
    failed = submit(tmp_path, on_argo, "gauges")
    ui = {name: f"{argo_server.url}/workflows/{NAMESPACE}/{name}" for name in (ok, failed)}

    with served(on_argo, "--no-api") as server:
        asked = len(argo_server.requests)
        status, runs = fetch(f"{server.page}runs")
        listing = argo_server.operations()[asked:]
        _, only_failed = fetch(f"{server.page}runs?status=Failed")
        _, only_stations = fetch(f"{server.page}runs?dataset=stations")
        run_status, run = fetch(f"{server.page}runs/{failed}")
        missing_status, _ = fetch(f"{server.page}runs/no-such-run")
        with chromium(tmp_path / "chromium") as driver:
            from selenium.webdriver.common.by import By

            driver.get(f"{server.page}runs")
            table = driver.find_element(By.CSS_SELECTOR, "table.runs")
            argo_links = [
                link.get_attribute("href")
                for link in table.find_elements(By.CSS_SELECTOR, "a")
                if link.text == "Argo UI"
            ]
            seen = table.text

    assert status == 200
    assert listing == ["list_workflows"], "one request for the page, not one more per run"
    for name in (ok, failed):
        assert name in runs and f'href="{ui[name]}"' in runs
    assert "Succeeded" in runs and "Failed" in runs
    assert "stations" in runs and "gauges" in runs
    assert failed in only_failed and ok not in only_failed
    assert ok in only_stations and failed not in only_stations
    assert run_status == 200
    assert f'href="{ui[failed]}"' in run
    assert "exit code 3: broken" in run  # the failed step, and its pod's log
    assert "main: starting" in run
    assert missing_status == 404
    assert ok in seen and failed in seen
    assert sorted(argo_links) == sorted(ui.values())
    assert TOKEN not in runs + run, "no secret is ever shown"
    assert argo_server.violations == []
