"""The container executor (profile ``local.executor: container``), through ``etl``, on a real
Docker engine: each pod a container of the task image that tests/support/task_image.py builds.

The sample dataset gives the same items in PgSTAC as with the process executor and leaves no
container behind; a pod over its memory limit fails ``OOMKilled`` with the limit; requirements
that cannot be installed fail the pod with one line; a dataset's own image (``scripts/image
dataset``) is what its pods run; ``etl workflow stop`` ends the running containers.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from etl_cli import ETL
from etl_cli import run_etl as etl
from task_image import TaskImage

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "sample-sidecars"
ASSETS = 6

pytestmark = [pytest.mark.image, pytest.mark.postgres]


@pytest.fixture
def env(env: dict[str, str], task_image: TaskImage) -> dict[str, str]:
    """The local environment with a profile ``c``: the built-in local one, its pods containers of
    the test image."""
    made = etl("profile", "create", "c", "--from", "local", "--set", "local.executor=container",
               "--set", f"workflow.image={task_image.tag}", env=env)  # fmt: skip
    assert made.returncode == 0, made.stderr
    return env


@pytest.fixture
def sample_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    made = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), str(SAMPLE / "generate.py"),
         "--count", str(ASSETS), str(root / "assets")],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return root


@pytest.fixture
def own_dataset(tmp_path: Path) -> Iterator[Path]:
    """A copy of the sample dataset to change."""
    folder = tmp_path / "dataset"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    yield folder


def process(dataset: Path, root: Path, env: dict[str, str], *profile: str) -> Any:
    return etl(*profile, "dataset", "process-items", "-d", str(dataset), "-a", f"root={root}",
               "--submit", env=env)  # fmt: skip


def items(dsn: str) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select id, content, geometry::text, datetime from pgstac.items"
            " where collection = 'sample-sidecars'"
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def containers(client: str, run: str) -> list[str]:
    listed = subprocess.run(
        [client, "ps", "-aq", "--filter", f"label=etl.dev/run={run}"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return listed.stdout.split()


def test_the_sample_dataset_gives_the_same_items_as_processes_and_leaves_no_container(
    env: dict[str, str], pgstac_dsn: str, sample_root: Path, task_image: TaskImage
) -> None:
    by_process = process(SAMPLE, sample_root, env)
    assert by_process.returncode == 0, by_process.stderr
    expected = items(pgstac_dsn)
    assert len(expected) == ASSETS
    import psycopg

    with psycopg.connect(pgstac_dsn) as conn:
        conn.execute("delete from pgstac.items where collection = 'sample-sidecars'")

    in_containers = process(SAMPLE, sample_root, env, "-p", "c")

    assert in_containers.returncode == 0, in_containers.stderr
    assert items(pgstac_dsn) == expected
    run = in_containers.stdout.strip().splitlines()[0]
    assert containers(task_image.docker, run) == []
    logs = etl("-p", "c", "workflow", "logs", run, env=env)
    assert "process-chunks" in logs.stdout


def test_a_pod_over_its_memory_limit_fails_oomkilled(
    env: dict[str, str], own_dataset: Path, sample_root: Path, task_image: TaskImage
) -> None:
    (own_dataset / "sample_sidecars" / "hungry.py").write_text(
        "from sample_sidecars.collection import SampleSidecarsCollection\n\n\n"
        "class Hungry(SampleSidecarsCollection):\n"
        "    @classmethod\n"
        "    def create_item(cls, asset_uri, storage):\n"
        "        cls.ballast = bytearray(1024 * 2**20)\n"
        "        return super().create_item(asset_uri, storage)\n"
    )
    config = own_dataset / "dataset.yaml"
    text = config.read_text().replace(
        "sample_sidecars.collection:SampleSidecarsCollection", "sample_sidecars.hungry:Hungry"
    )
    config.write_text(
        text.replace(
            "      retries: 1",
            "      retries: 0\n      resources:\n        limits:\n          memory: 256Mi",
        )
    )

    result = process(own_dataset, sample_root, env, "-p", "c")

    assert result.returncode == 1
    assert "OOMKilled (exit code 137): the pod exceeded its memory limit (256Mi)" in result.stderr
    assert containers(task_image.docker, result.stdout.strip().splitlines()[0]) == []


def test_requirements_that_cannot_be_installed_fail_the_pod_with_one_line(
    env: dict[str, str], own_dataset: Path, sample_root: Path
) -> None:
    (own_dataset / "requirements.txt").write_text(
        "no-such-dist @ file:///no/such/no_such_dist-1.0-py3-none-any.whl\n"
    )
    config = own_dataset / "dataset.yaml"
    config.write_text(
        config.read_text().replace(
            "  src: $<< local.path(./sample_sidecars) >>",
            "  src: $<< local.path(./sample_sidecars) >>\n"
            "  requirements: $<< local.path(./requirements.txt) >>",
        )
    )

    result = process(own_dataset, sample_root, env, "-p", "c")

    assert result.returncode == 1, result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("  failed: ")]
    assert failed, result.stderr
    for line in failed:
        assert "error: installing the dataset's requirements failed: " in line
        assert "/no/such/no_such_dist-1.0-py3-none-any.whl" in line


def test_a_dataset_s_own_image_is_what_its_pods_run(
    env: dict[str, str], own_dataset: Path, sample_root: Path, task_image: TaskImage
) -> None:
    """``scripts/image dataset`` installs the dataset's requirements.txt (a wheel beside it,
    no index) into an image FROM the task image; the dataset names that image."""
    _wheel(own_dataset / "ballast_marker-1.0-py3-none-any.whl")
    (own_dataset / "requirements.txt").write_text("./ballast_marker-1.0-py3-none-any.whl\n")
    (own_dataset / "sample_sidecars" / "marked.py").write_text(
        "from ballast_marker import MARK\n"
        "from sample_sidecars.collection import SampleSidecarsCollection\n\n\n"
        "class Marked(SampleSidecarsCollection):\n"
        "    @classmethod\n"
        "    def create_item(cls, asset_uri, storage):\n"
        "        item = super().create_item(asset_uri, storage)\n"
        "        item.properties['sample:mark'] = MARK\n"
        "        return item\n"
    )
    tag = f"etl-dataset-test:{task_image.tag.rpartition('-')[2]}"
    config = own_dataset / "dataset.yaml"
    text = config.read_text().replace(
        "sample_sidecars.collection:SampleSidecarsCollection", "sample_sidecars.marked:Marked"
    )
    config.write_text(f"image: {tag}\n{text}")
    built = subprocess.run(
        [str(ROOT / "scripts" / "image"), "dataset", str(own_dataset), "--from", task_image.tag],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    try:
        result = process(own_dataset, sample_root, env, "-p", "c")
    finally:
        subprocess.run([task_image.docker, "rmi", "-f", tag], capture_output=True, check=False)

    assert result.returncode == 0, result.stderr
    marks = {
        content["properties"]["sample:mark"]
        for content, *_ in items(env["ETL_PGSTAC_DSN"]).values()
    }
    assert marks == {"from the dataset's image"}


def _wheel(path: Path) -> None:
    """A one-module wheel, written by hand (building one would need the index)."""
    files = {
        "ballast_marker/__init__.py": b'MARK = "from the dataset\'s image"\n',
        "ballast_marker-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: ballast-marker\n"
        b"Version: 1.0\n",
        "ballast_marker-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = ""
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record += f"{name},sha256={digest},{len(data)}\n"
    record += "ballast_marker-1.0.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
        wheel.writestr("ballast_marker-1.0.dist-info/RECORD", record)


def test_stop_ends_the_running_containers_and_leaves_none(
    env: dict[str, str], own_dataset: Path, sample_root: Path, task_image: TaskImage
) -> None:
    import json
    import time

    (own_dataset / "sample_sidecars" / "sleepy.py").write_text(
        "import time\n\nfrom sample_sidecars.collection import SampleSidecarsCollection\n\n\n"
        "class Sleepy(SampleSidecarsCollection):\n"
        "    @classmethod\n"
        "    def create_item(cls, asset_uri, storage):\n"
        "        time.sleep(300)\n"
    )
    config = own_dataset / "dataset.yaml"
    config.write_text(
        config.read_text().replace(
            "sample_sidecars.collection:SampleSidecarsCollection", "sample_sidecars.sleepy:Sleepy"
        )
    )
    running = subprocess.Popen(
        [str(ETL), "-p", "c", "dataset", "process-items", "-d", str(own_dataset),
         "-a", f"root={sample_root}", "--submit"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    name = ""
    for _ in range(600):
        listed = json.loads(etl("-p", "c", "workflow", "list", "-o", "json", env=env).stdout)
        name = listed[0]["name"] if listed else ""
        if name and containers(task_image.docker, name):
            break
        time.sleep(0.2)
    assert name and containers(task_image.docker, name), "no container started"

    stopped = etl("-p", "c", "workflow", "stop", name, env=env)
    _, err = running.communicate(timeout=120)

    assert stopped.returncode == 0, stopped.stderr
    assert running.returncode == 1, err
    got = json.loads(etl("-p", "c", "workflow", "get", name, "-o", "json", env=env).stdout)
    assert got["phase"] == "Failed" and got["message"] == "Stopped"
    assert containers(task_image.docker, name) == []
