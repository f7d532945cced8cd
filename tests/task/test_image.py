"""The task image (Dockerfile): its install step and its instructions, checked without Docker.

The build's real work is `scripts/image-install`, so the tests build a copy of the Docker build
context (the Dockerfile's COPY sources, filtered by .dockerignore), run the script from there into a
fresh venv exactly as the build stage does, then remove the context, as the runtime stage has no
sources, and run the installed `etl-task`: seconds, where a real build takes a minute. The
Dockerfile itself is checked for what a cluster would notice: its entry point, a non-root numeric
user, a pinned base image and uv, and COPY sources that the build context really holds.
tests/task/test_image_build.py builds and runs the real image with Docker.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from task_image import context_copy_sources, context_files, dockerignore_excludes, instructions

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.image


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def _build_arg_defaults() -> dict[str, str]:
    defaults: dict[str, str] = {}
    for name, args in instructions():
        if name == "ARG" and "=" in args:
            key, value = args.split("=", 1)
            defaults[key] = value
    return defaults


def _build_context(destination: Path) -> None:
    """Copy what `docker build .` would send for the Dockerfile's COPY instructions."""
    for file in context_files():
        relative = file.relative_to(ROOT)
        (destination / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, destination / relative)


def _install_environment() -> dict[str, str]:
    """This process's environment (proxies, CA bundles, uv's cache) minus the active venv."""
    assert shutil.which("uv"), "uv is not on PATH (scripts/setup installs it)"
    env = {
        k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"}
    }
    env["UV_PYTHON"] = str(Path(sys.base_prefix) / "bin" / "python3")
    return env


@pytest.fixture(scope="module")
def installed_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A venv built by scripts/image-install from a copy of the build context, sources removed."""
    work = tmp_path_factory.mktemp("image")
    context, venv = work / "src", work / "opt-etl"
    _build_context(context)
    subprocess.run(
        [str(context / "scripts" / "image-install"), str(venv)],
        check=True,
        timeout=120,
        env=_install_environment(),
    )
    shutil.rmtree(context)  # the runtime stage copies only the venv
    yield venv


def _venv_python(venv: Path, code: str) -> str:
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_install_gives_the_runtime_packages_without_the_sources(installed_venv: Path) -> None:
    out = _venv_python(
        installed_venv,
        "import etl.core, etl.dataset, etl.pgstac, etl.task, pypgstac, pystac, azure.identity;"
        "print(etl.task.__file__)",
    )
    assert out.startswith(str(installed_venv)), "etl.task must be installed, not linked to the repo"


def test_install_leaves_out_what_only_the_cli_needs(installed_venv: Path) -> None:
    out = _venv_python(
        installed_venv,
        "import importlib.util, json;"
        "print(json.dumps({m: importlib.util.find_spec(m) is not None for m in"
        " ['etl.cli', 'etl.argo', 'hera', 'pytest', 'mypy']}))",
    )
    assert json.loads(out) == dict.fromkeys(
        ["etl.cli", "etl.argo", "hera", "pytest", "mypy"], False
    )


def test_installed_etl_task_runs_from_the_venv_alone(installed_venv: Path, tmp_path: Path) -> None:
    # What `docker run IMAGE` does: ENTRYPOINT etl-task, CMD --help, venv on PATH, no sources.
    result = subprocess.run(
        ["etl-task", "--help"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": f"{installed_venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: etl-task")
    assert "create-chunks" in result.stdout
    out = _venv_python(
        installed_venv,
        "from importlib.metadata import entry_points;"
        "print([e.value for e in entry_points(group='console_scripts', name='etl-task')])",
    )
    assert out.strip() == "['etl.task.main:main']"


def test_install_refuses_a_missing_target_argument() -> None:
    result = subprocess.run(
        [str(ROOT / "scripts" / "image-install")],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "usage: scripts/image-install TARGET_VENV" in result.stderr


def test_runtime_stage_runs_etl_task_as_a_numeric_non_root_user() -> None:
    runtime = _stages()[-1]
    users = [args for name, args in runtime if name == "USER"]
    assert users, "the runtime stage must switch away from root"
    uid = users[-1].split(":")[0]
    if uid.startswith("${"):
        uid = _build_arg_defaults()[uid.strip("${}")]
    assert uid.isdigit() and int(uid) != 0  # numeric, so runAsNonRoot can verify it
    (entrypoint,) = [json.loads(args) for name, args in runtime if name == "ENTRYPOINT"]
    assert entrypoint == ["etl-task"]
    env = " ".join(args for name, args in runtime if name == "ENV")
    assert "PATH=/opt/etl/bin:" in env


def test_build_stage_runs_the_tested_install_script_into_the_runtime_venv() -> None:
    build_runs = [args for stage in _stages()[:-1] for name, args in stage if name == "RUN"]
    assert any("scripts/image-install /opt/etl" in run for run in build_runs)
    copies = [args for name, args in _stages()[-1] if name == "COPY"]
    assert any("--from=build" in c and c.split()[-2:] == ["/opt/etl", "/opt/etl"] for c in copies)


def test_base_image_and_uv_are_pinned_to_versions() -> None:
    assert re.fullmatch(
        r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?",
        _build_arg_defaults()["BASE_IMAGE"],
    )
    assert [args.split()[0] for name, args in instructions() if name == "FROM"] == [
        "${BASE_IMAGE}",
        "${BASE_IMAGE}",
    ]
    pins = [
        line
        for line in (ROOT / "scripts" / "image-uv-requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert re.fullmatch(r"uv==\d+\.\d+\.\d+ \\", pins[0])
    assert len([p for p in pins if re.fullmatch(r"\s+--hash=sha256:[0-9a-f]{64}( \\)?", p)]) > 1
    runs = " ".join(args for name, args in instructions() if name == "RUN")
    assert "--require-hashes -r scripts/image-uv-requirements.txt" in runs


def test_copy_sources_exist_and_are_in_the_build_context() -> None:
    sources = context_copy_sources()
    assert {"pyproject.toml", "uv.lock", "scripts/image-install"} <= set(sources)
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not dockerignore_excludes(source.rstrip("/")), f".dockerignore drops {source}"
    assert dockerignore_excludes(".venv/bin/python")
    assert dockerignore_excludes("packages/core/src/etl/core/__pycache__/errors.cpython-311.pyc")
