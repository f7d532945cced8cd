"""One report, two front ends: ``etl dataset status`` and the catalog page of ``etl serve`` show
what one library call (``etl.runner.catalog_reports.dataset_status``) makes, so they agree.

Everything goes through ``etl`` on the built-in ``local`` profile against a PgSTAC database of
the test's own: a sample-sidecars run with two broken sidecars ends Failed with failed assets.
"""

from __future__ import annotations

import html
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from etl_cli import run_etl
from serve_browser import ROOT, served
from sidecar_files import generate_sidecars

from etl.core.profiles.resolve import resolve_profile
from etl.core.storage.opening import open_storage

SAMPLE = ROOT / "datasets" / "sample-sidecars"
COLLECTION = "sample-sidecars"
BROKEN = ("sample-scene-0000002.json", "sample-scene-0000004.json")


def a_failed_run(root: Path, env: dict[str, str]) -> str:
    """Five scenes, two of whose sidecars are not JSON, processed: the run's name."""
    assets = root / "assets"
    generate_sidecars(5, assets, env)
    storage = open_storage(str(assets), profile=resolve_profile(None))
    for info in storage.list_objects():
        if info.path.rsplit("/", 1)[-1] in BROKEN:
            storage.write_text(info.path, "not json{")
    result = run_etl(
        "dataset", "process-items", "-d", str(SAMPLE), "-a", f"root={root}", "--submit",
        "--wait", env=env,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    # the end of the followed run: its counts and its failed assets, on stderr
    assert f"{COLLECTION}: 5 assets in 1 chunk, 2 failed" in result.stderr
    assert all(name in result.stderr for name in BROKEN)
    return result.stdout.strip()


@pytest.mark.postgres
def test_status_and_the_catalog_page_show_the_same_report(
    env: dict[str, str], tmp_path: Path
) -> None:
    root = tmp_path / "root"
    name = a_failed_run(root, env)
    result = run_etl(
        "dataset", "status", "-d", str(SAMPLE), "-a", f"root={root}", "-o", "json", env=env
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (status,) = json.loads(result.stdout)["collections"]
    assert status["outstanding_failures"] == 2
    assert status["last_success"] is None

    with served(env, "--no-api", "-d", str(SAMPLE), "-a", f"root={root}") as server:
        page = html.unescape(
            urllib.request.urlopen(f"{server.page}collections/{COLLECTION}").read().decode()
        )
    shown: dict[str, Any] = status
    assert f"<dt>outstanding failures</dt><dd>{shown['outstanding_failures']}</dd>" in page
    assert page.count(name) >= len(shown["failed_assets"])
    for failure in shown["failed_assets"]:
        assert failure["run_id"] == name
        assert failure["asset"] in page and failure["error"] in page
    assert f'<span id="item-count">{shown["pgstac"]["items"]}</span>' in page
