"""The task image, built once by a real Docker engine and cached by content.

:func:`ensure_task_image` gives a :class:`TaskImage`: the image that ``scripts/image build`` makes from the repository's Dockerfile, tagged ``etl-task:test-<digest>``. The digest covers what
the build reads: the Dockerfile, .dockerignore, every file of the build context (the Dockerfile's
COPY sources that .dockerignore keeps) and the base image's id. An image with that tag is reused,
so a later session skips the build; a machine-wide lock keeps two sessions from building at once,
and the xdist workers of one run use the image the first of them chose, even if the working tree
changed meanwhile. After a build, other ``etl-task:test-*`` tags older than two hours are removed,
so the images do not pile up.

The ``task_image`` fixture (this module is a plugin of tests/conftest.py) gives it to any test; it
is built once, as a later session or xdist worker finds the tag. The helpers that read the Dockerfile and .dockerignore
are shared with tests/task/test_image.py.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
TAG_PREFIX = "etl-task:test-"
LOCK_FILE = Path("/tmp/etl-task-image.lock")
STALE_AFTER = 2 * 3600  # seconds; older etl-task:test-* tags are removed after a build
BUILD_TIMEOUT = 900  # a cold build on a busy 2-core machine: base image + install, a few minutes


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs of the Dockerfile, continuation lines joined."""
    logical: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def context_copy_sources() -> list[str]:
    """Sources of every COPY that reads the build context (not another stage or image)."""
    sources: list[str] = []
    for name, args in instructions():
        words = args.split()
        if name != "COPY" or any(w.startswith("--from=") for w in words):
            continue
        sources.extend(w for w in words[:-1] if not w.startswith("--"))
    return sources


def dockerignore_excludes(relative: str) -> bool:
    """Docker's .dockerignore rule: the last pattern matching the path or a parent decides."""
    excluded = False
    parts = relative.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.removeprefix("!").strip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
        if any(re.fullmatch(regex.replace(r"\?", "[^/]"), c) for c in candidates):
            excluded = not negate
    return excluded


def context_files(root: Path = ROOT) -> list[Path]:
    """The files `docker build .` sends that the Dockerfile's COPYs read, sorted."""
    files: set[Path] = set()
    for source in context_copy_sources():
        origin = root / source
        found = [origin] if origin.is_file() else [p for p in origin.rglob("*") if p.is_file()]
        files.update(f for f in found if not dockerignore_excludes(f.relative_to(root).as_posix()))
    return sorted(files)


def content_digest(base_image_id: str, root: Path = ROOT) -> str:
    """What the build's result depends on: Dockerfile, .dockerignore, the context, the base."""
    digest = hashlib.sha256(f"base {base_image_id}\n".encode())
    for file in [root / "Dockerfile", root / ".dockerignore", *context_files(root)]:
        relative = file.relative_to(root).as_posix()
        mode = "x" if file.stat().st_mode & 0o111 else "-"
        digest.update(f"{relative} {mode} {file.stat().st_size}\n".encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def docker() -> str:
    """The docker client (any version can run containers; scripts/image picks one to build)."""
    client = shutil.which("docker")
    if client is None:
        pytest.fail(
            "no docker client on PATH: scripts/setup installs the Docker engine (docker.io)"
        )
    probe = subprocess.run(
        [client, "info"], capture_output=True, text=True, check=False, timeout=60
    )
    if probe.returncode != 0:
        pytest.fail(
            "the Docker engine is not running (docker info failed); start it with"
            f" scripts/services start: {probe.stderr.strip().splitlines()[-1:]}"
        )
    return client


def image_id(client: str, reference: str) -> str | None:
    result = subprocess.run(
        [client, "image", "inspect", "--format", "{{.Id}}", reference],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return result.stdout.strip() if result.returncode == 0 else None


@dataclass(frozen=True)
class TaskImage:
    """A built task image and how to use it."""

    docker: str
    tag: str
    base: str
    built_now: bool
    build_seconds: float
    build_log: str  # the build's output, or "" when the image was already there

    def inspect(self) -> dict[str, Any]:
        out = subprocess.run(
            [self.docker, "image", "inspect", self.tag],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        config: dict[str, Any] = json.loads(out)[0]
        return config

    def run(
        self, *args: str, entrypoint: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """`docker run --rm` the image (no network); the container is removed when it ends."""
        command = [self.docker, "run", "--rm", "--network", "none"]
        if entrypoint is not None:
            command += ["--entrypoint", entrypoint]
        return subprocess.run(
            [*command, self.tag, *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )


def _remove_stale_test_images(client: str, keep: str) -> None:
    """Remove other test tags older than STALE_AFTER: a concurrent session may use a newer one."""
    listed = subprocess.run(
        [client, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}\t{{.CreatedAt}}", "etl-task"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    ).stdout.splitlines()
    now = datetime.now(UTC)
    stale = []
    for line in listed:
        tag, _, created = line.partition("\t")
        if not tag.startswith(TAG_PREFIX) or tag == keep:
            continue
        when = datetime.strptime(created[:25], "%Y-%m-%d %H:%M:%S %z")
        if (now - when).total_seconds() > STALE_AFTER:
            stale.append(tag)
    if stale:
        subprocess.run([client, "rmi", *stale], capture_output=True, check=False, timeout=120)


def build_if_missing(client: str, tag: str, base: str) -> TaskImage:
    """`scripts/image build` as `tag` on `base`, unless an image has that tag already."""
    if image_id(client, tag):
        return TaskImage(client, tag, base, built_now=False, build_seconds=0.0, build_log="")
    start = time.monotonic()
    built = scripts_image("build", ETL_IMAGE_TAG=tag, BASE_IMAGE=base)
    seconds = time.monotonic() - start
    log = built.stdout + built.stderr
    if built.returncode != 0:
        pytest.fail(f"scripts/image build failed:\n{log[-6000:]}")
    _remove_stale_test_images(client, keep=tag)
    return TaskImage(client, tag, base, built_now=True, build_seconds=seconds, build_log=log)


def scripts_image(command: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``scripts/image COMMAND`` with ``env`` added to this environment."""
    return subprocess.run(
        [str(ROOT / "scripts" / "image"), command],
        capture_output=True,
        text=True,
        check=False,
        timeout=BUILD_TIMEOUT,
        env={**os.environ, **env},
    )


def _run_record() -> Path | None:
    """Where the xdist workers of one run agree on one image (the tree may change meanwhile)."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    return LOCK_FILE.with_name(f"etl-task-image-run-{run}.json") if run else None


def ensure_task_image() -> TaskImage:
    """The image of this checkout's build context: reused when its content tag exists."""
    client = docker()
    record = _run_record()
    with LOCK_FILE.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time on this machine
        if record is not None and record.exists():
            chosen = json.loads(record.read_text())
            if image_id(client, chosen["tag"]):
                return build_if_missing(client, chosen["tag"], chosen["base"])
        made = scripts_image("base")
        if made.returncode != 0:
            pytest.fail(f"scripts/image base failed:\n{made.stderr[-4000:]}")
        base = made.stdout.strip()
        base_id = image_id(client, base)
        assert base_id, f"scripts/image base printed {base!r}, which is not an image"
        image = build_if_missing(client, TAG_PREFIX + content_digest(base_id)[:16], base)
        if record is not None:
            for old in record.parent.glob("etl-task-image-run-*.json"):
                if time.time() - old.stat().st_mtime > 86400:
                    old.unlink(missing_ok=True)
            record.write_text(json.dumps({"tag": image.tag, "base": base}))
        return image


@pytest.fixture(scope="session")
def task_image() -> TaskImage:
    """The task image of this checkout: built once per content by the real Docker engine."""
    return ensure_task_image()
