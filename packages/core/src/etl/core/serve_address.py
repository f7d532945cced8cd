"""Where a running ``etl serve`` is: a small record under the state folder, read by other commands.

``etl serve`` writes ``serve/PROFILE.json`` (its page's URL, its pid and the process's start
time) while it runs and removes it on exit. A record left by a server that was killed is ignored:
its pid is gone, or is now another process (a different start time). ``etl workflow get`` and the
end of a followed run print :func:`run_page_url` when a server of the active profile is running,
and a local run's outcome event links to it (``etl-task run-outcome``, given the runner's state
folder). Standard library and :mod:`etl.core` only.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import quote

from etl.core.atomic_files import write_atomically
from etl.core.paths import state_dir

__all__ = ["RUN_PAGE", "record_server", "run_page_url", "server_url"]

RUN_PAGE = "runs/{name}"
"""The path of a run's page, under the page's URL."""


def _record_path(profile: str, env: Mapping[str, str]) -> Path:
    return state_dir(env) / "serve" / f"{profile}.json"


def _start_time(pid: int) -> str | None:
    """The process's start time (clock ticks since boot, from ``/proc``); ``None`` if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


@contextlib.contextmanager
def record_server(profile: str, url: str, env: Mapping[str, str] = os.environ) -> Iterator[Path]:
    """Record that this process serves ``profile``'s page at ``url`` until the block ends."""
    path = _record_path(profile, env)
    path.parent.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    record = {"url": url, "pid": pid, "started": _start_time(pid)}
    write_atomically(path, json.dumps(record).encode())
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            if json.loads(path.read_text()).get("pid") == pid:
                path.unlink()


def server_url(profile: str, env: Mapping[str, str] = os.environ) -> str | None:
    """The page's URL of the ``etl serve`` running for ``profile``; ``None`` when none runs."""
    try:
        record = json.loads(_record_path(profile, env).read_text())
        pid, url = int(record["pid"]), str(record["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    started = _start_time(pid)
    if started is None or started != record.get("started"):
        return None
    return url


def run_page_url(profile: str, name: str, env: Mapping[str, str] = os.environ) -> str | None:
    """The page of run ``name`` on the running ``etl serve`` of ``profile``, if one runs."""
    url = server_url(profile, env)
    return url + RUN_PAGE.format(name=quote(name)) if url else None
