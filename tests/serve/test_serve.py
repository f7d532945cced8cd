"""``etl serve``: the STAC API (stac-fastapi-pgstac) searched with pystac-client, the pages seen
in headless Chromium, and the run's page named by ``etl workflow get`` and the end of a run.

Everything runs through ``etl`` on the built-in ``local`` profile against a PgSTAC database of
the test's own: the sample-sidecars dataset with two broken sidecars makes a run with failed
assets (as in tests/cli/test_failures_shown.py). Screenshots are kept under the test's tmp dir; with
``ETL_UPDATE_SCREENSHOTS=1`` they are also written to docs/images/ (docs/serve.md shows them).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request
from pathlib import Path

import psycopg
import pytest
from etl_cli import help_and_modules
from etl_cli import run_etl as etl
from serve_browser import ROOT, chromium, served
from sidecar_files import generate_sidecars

from etl.core.profiles.resolve import resolve_profile
from etl.core.storage.opening import open_storage

SAMPLE = ROOT / "datasets" / "sample-sidecars"
COLLECTION = "sample-sidecars"
NOT_JSON = "sample-scene-0000002.json"
NO_FOOTPRINT = "sample-scene-0000004.json"
SCREENSHOTS = ROOT / "docs" / "images"
UPDATE_SCREENSHOTS = os.environ.get("ETL_UPDATE_SCREENSHOTS") == "1"
"""Read at import: the ``config_dir`` fixture clears every ``ETL_`` variable."""
SERVER_MODULES = ("fastapi", "starlette", "uvicorn", "stac_fastapi", "asyncpg", "selenium")


def failed_run(root: Path, env: dict[str, str], count: int = 9) -> subprocess.CompletedProcess[str]:
    """A process-items run of ``count`` scenes whose sidecars 2 (not JSON) and 4 (no footprint)
    are broken: it ends Failed with ``count - 2`` items."""
    assets = root / "assets"
    generate_sidecars(count, assets, env)
    storage = open_storage(str(assets), profile=resolve_profile(None))
    paths = {info.path.rsplit("/", 1)[-1]: info.path for info in storage.list_objects()}
    storage.write_text(paths[NOT_JSON], "not json{")
    record = json.loads(storage.read_text(paths[NO_FOOTPRINT]))
    del record["footprint"]
    storage.write_text(paths[NO_FOOTPRINT], json.dumps(record))
    return etl("dataset", "process-items", "-d", str(SAMPLE), "-a", f"root={root}", "--submit",
               env=env)  # fmt: skip


def pgstac_ids(dsn: str, where: str = "", params: tuple[object, ...] = ()) -> set[str]:
    with psycopg.connect(dsn) as conn:
        conn.execute("SET search_path TO pgstac, public")
        rows = conn.execute(
            f"SELECT id FROM items WHERE collection = %s {where}",  # type: ignore[arg-type]
            (COLLECTION, *params),
        ).fetchall()
    return {row[0] for row in rows}


def screenshot(driver: object, tmp_path: Path, name: str) -> None:
    """Keep a screenshot under the test's tmp dir, and in docs/images/ when asked to."""
    path = tmp_path / f"{name}.png"
    driver.save_screenshot(str(path))  # type: ignore[attr-defined]
    assert path.stat().st_size > 0
    if UPDATE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / path.name).write_bytes(path.read_bytes())


def test_help_does_not_load_the_server() -> None:
    shown, modules = help_and_modules()
    assert "serve" in shown
    assert sorted(modules & set(SERVER_MODULES)) == []


@pytest.mark.postgres
def test_stac_api_and_pages_show_the_catalog_and_a_failed_run(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    from pystac_client import Client
    from selenium.webdriver.common.by import By

    result = failed_run(tmp_path / "root", env)
    assert result.returncode == 1, result.stderr
    name = result.stdout.strip()
    held = pgstac_ids(pgstac_dsn)
    assert len(held) == 7

    with served(env, "-d", str(SAMPLE), "-a", f"root={tmp_path / 'root'}") as server:
        assert server.page.startswith("http://127.0.0.1:")
        assert server.stac == f"{server.page}stac"

        # The STAC API: pystac-client finds exactly what PgSTAC holds.
        client = Client.open(server.stac)
        assert [c.id for c in client.get_collections()] == [COLLECTION]
        everything = client.search(collections=[COLLECTION], max_items=100)
        assert {item.id for item in everything.items()} == held
        with psycopg.connect(pgstac_dsn) as conn:
            conn.execute("SET search_path TO pgstac, public")
            lons, times = zip(
                *conn.execute(
                    "SELECT ST_X(ST_Centroid(geometry)), datetime FROM items ORDER BY 1"
                ).fetchall(),
                strict=True,
            )
        west, east = lons[0] - 0.001, lons[3] + 0.001
        start, end = min(times), sorted(times)[5]
        wanted = pgstac_ids(
            pgstac_dsn,
            "AND ST_Intersects(geometry, ST_MakeEnvelope(%s, -90, %s, 90, 4326))"
            " AND datetime BETWEEN %s AND %s",
            (west, east, start, end),
        )
        assert 0 < len(wanted) < len(held)
        found = client.search(
            collections=[COLLECTION],
            bbox=[west, -90, east, 90],
            datetime=[start, end],
            max_items=100,
        )
        assert {item.id for item in found.items()} == wanted

        # The pages, in Chromium.
        with chromium(tmp_path / "chromium") as driver:
            driver.get(f"{server.page}runs")
            assert name in driver.find_element(By.CSS_SELECTOR, "table.runs").text
            assert "Failed" in driver.find_element(By.CSS_SELECTOR, "table.runs").text
            screenshot(driver, tmp_path, "serve-runs")

            driver.find_element(By.LINK_TEXT, name).click()
            assert driver.find_element(By.ID, "failed-assets").text == "Failed assets (2)"
            failed = driver.find_element(By.CSS_SELECTOR, "table.failed-assets").text
            assert NOT_JSON in failed and "not JSON" in failed
            assert NO_FOOTPRINT in failed and "missing footprint" in failed
            steps = driver.find_elements(By.CSS_SELECTOR, ".timeline .step")
            assert len(steps) >= 3
            assert "missing footprint" in driver.find_element(By.CSS_SELECTOR, "pre.logs").text
            screenshot(driver, tmp_path, "serve-run")

            driver.get(f"{server.page}collections")
            driver.find_element(By.LINK_TEXT, COLLECTION).click()
            assert driver.find_element(By.ID, "item-count").text == "7"
            paths = driver.find_elements(By.CSS_SELECTOR, "svg.map path.footprint")
            assert sorted(p.get_attribute("data-item") for p in paths) == sorted(held)
            assert all(p.size["width"] > 0 and p.size["height"] > 0 for p in paths)
            bars = driver.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar")
            assert len(bars) == len({t.date() for t in times})
            page = driver.find_element(By.TAG_NAME, "main").text
            assert "outstanding failures\n2" in page and name in page
            assert pgstac_dsn not in driver.page_source
            screenshot(driver, tmp_path, "serve-collection")


def get_page_lines(name: str, env: dict[str, str]) -> list[str]:
    got = etl("workflow", "get", name, env=env)
    assert got.returncode == 0, got.stderr
    return [line for line in got.stderr.splitlines() if line.startswith("page: ")]


@pytest.mark.postgres
def test_workflow_get_and_the_end_of_a_run_name_the_runs_page(
    env: dict[str, str], tmp_path: Path
) -> None:
    with served(env, "--no-api") as server:
        assert len(server.first_lines) == 1 and "STAC" not in server.first_lines[0]
        result = failed_run(tmp_path / "root", env)
        name = result.stdout.strip()
        run_page = f"{server.page}runs/{name}"
        assert f"page: {run_page}\n" in result.stderr
        assert get_page_lines(name, env) == [f"page: {run_page}"]
        with urllib.request.urlopen(run_page) as response:
            assert NOT_JSON in response.read().decode()
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{server.page}stac")
        assert missing.value.code == 404
        missing.value.close()

        record = Path(env["ETL_STATE_DIR"]) / "serve" / "local.json"
        pid = json.loads(record.read_text())["pid"]
        os.kill(pid, signal.SIGKILL)  # killed: its record stays behind
        server.process.wait(timeout=30)
        assert record.exists()
        assert get_page_lines(name, env) == []

    with served(env, "--no-api", "-o", "json") as again:
        assert json.loads(again.first_lines[0]) == {"page": again.page, "stac": None}
        assert get_page_lines(name, env) == [f"page: {again.page}runs/{name}"]
        again.process.terminate()
        again.process.wait(timeout=30)
    assert not record.exists()
    assert get_page_lines(name, env) == []
