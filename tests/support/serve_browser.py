"""``etl serve`` in a subprocess, and the system's headless Chromium driven by selenium, for
tests/serve/test_serve.py."""

from __future__ import annotations

import json
import queue
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from etl_cli import ETL

if TYPE_CHECKING:
    from selenium.webdriver import Chrome

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
)
_URL = re.compile(r"(https?://\S+)")
START_SECONDS = 120


@dataclass
class Served:
    """A running ``etl serve``: its page's URL, its STAC API's (if any) and the process."""

    page: str
    stac: str | None
    process: subprocess.Popen[str]
    first_lines: list[str]


@contextmanager
def served(env: dict[str, str], *args: str) -> Iterator[Served]:
    """Start ``etl serve --port 0 ARGS``, read its URLs from its first lines, stop it (SIGTERM)
    at the end."""
    process = subprocess.Popen(
        [str(ETL), "serve", "--port", "0", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    first: list[str] = []
    try:
        wanted = 1 if "--no-api" in args or "json" in args else 2
        while len(first) < wanted:
            try:
                line = lines.get(timeout=START_SECONDS)
            except queue.Empty:
                pytest.fail(f"etl serve printed no URL in {START_SECONDS} s")
            if line is None:
                stderr = process.stderr.read() if process.stderr else ""
                pytest.fail(f"etl serve ended: {stderr}")
            first.append(line.rstrip("\n"))
        if first[0].startswith("{"):  # -o json: one object
            announced = json.loads(first[0])
            yield Served(announced["page"], announced["stac"], process, first)
            return
        urls = [_URL.search(line) for line in first]
        page = urls[0].group(1) if urls[0] else ""
        stac = next(
            (u.group(1) for u, line in zip(urls, first, strict=True) if u and "STAC" in line),
            None,
        )
        yield Served(page, stac, process, first)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@contextmanager
def chromium(profile_dir: Path) -> Iterator[Chrome]:
    """A headless Chromium (Debian's ``chromium`` and ``chromium-driver``) with a fresh profile."""
    if not CHROMIUM.exists() or not shutil.which(str(CHROMEDRIVER)):
        pytest.skip("no /usr/bin/chromium or chromedriver: scripts/setup installs them")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
