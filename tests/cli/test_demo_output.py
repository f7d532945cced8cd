"""What the demo prints (issue 25, gap 13): a quiet image build, and why a smaller COUNT makes more.

``ETL_LOCAL_EXECUTOR=container scripts/demo`` printed about 61 BuildKit lines for a build that
succeeded; ``scripts/image`` now keeps BuildKit's log in a file, leaves one line on success and
prints the whole log when the build fails. The tests build a two-step image FROM the Debian base
(``scripts/image base``) with ``scripts/image dataset``, which builds as ``scripts/image build``
does (the task image's own build is tests/task/test_image_build.py's).

``scripts/demo 200`` after ``scripts/demo`` said "items this run 2,000" without saying why: the
run lists every scene in the folder, the 1,800 of the earlier run too. The generator now says so
on its line (the demo's summary says it too); the test checks it and that etl does process
every scene in the folder. scripts/demo itself is not run here: it writes into the repository's
``.state/demo`` and the shared ``pgstac`` database.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from etl_cli import run_etl

from etl.pgstac.writer import PgstacWriter

ROOT = Path(__file__).resolve().parents[2]
IMAGE = ROOT / "scripts" / "image"
SAMPLE = ROOT / "datasets" / "sample-sidecars"
PYTHON = ROOT / ".venv" / "bin" / "python"


@pytest.fixture(scope="module")
def base_image() -> str:
    """The Debian base image (made from Debian's packages when missing; no registry here)."""
    made = subprocess.run(
        [str(IMAGE), "base"], capture_output=True, text=True, timeout=900, check=False
    )
    if made.returncode != 0:
        pytest.fail(f"scripts/image base failed (is dockerd running?):\n{made.stderr[-3000:]}")
    return made.stdout.strip()


@pytest.fixture
def image_tag() -> Iterator[str]:
    tag = f"etl-quiet-build-test:{uuid.uuid4().hex[:12]}"
    yield tag
    subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False, timeout=120)


def build(folder: Path, tag: str, base: str, dockerfile: str) -> subprocess.CompletedProcess[str]:
    folder.mkdir()
    (folder / "Dockerfile").write_text(f"ARG TASK_IMAGE\nFROM ${{TASK_IMAGE}}\n{dockerfile}")
    return subprocess.run(
        [str(IMAGE), "dataset", str(folder), "--tag", tag, "--from", base],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.mark.image
def test_a_successful_image_build_leaves_one_line(
    tmp_path: Path, base_image: str, image_tag: str
) -> None:
    marker = uuid.uuid4().hex  # a step BuildKit has not cached
    built = build(tmp_path / "ok", image_tag, base_image, f"RUN echo {marker} > /marker\n")

    assert built.returncode == 0, built.stderr
    lines = built.stderr.splitlines()
    assert lines[0] == (
        f"image: building {image_tag} from {tmp_path / 'ok' / 'Dockerfile'} "
        f"(TASK_IMAGE={base_image})"
    )
    assert len(lines) == 2, built.stderr
    assert lines[1].startswith(f"image: built {image_tag} in ")
    assert lines[1].endswith(" s (2 steps, 1 cached)")
    assert marker not in built.stderr + built.stdout


@pytest.mark.image
def test_a_failed_image_build_prints_its_log(
    tmp_path: Path, base_image: str, image_tag: str
) -> None:
    marker = uuid.uuid4().hex
    built = build(tmp_path / "bad", image_tag, base_image, f"RUN echo {marker}-said && false\n")

    assert built.returncode == 1
    assert f"{marker}-said" in built.stderr  # the failing step's own output
    lines = built.stderr.splitlines()
    assert (
        lines[-1]
        == f"image: building {image_tag} from {tmp_path / 'bad'}/Dockerfile failed (see above)"
    )
    kept = lines[-2].rpartition("the log above is also in ")[2]
    assert lines[-2].startswith(f"image: building {image_tag} failed (exit 1);")
    assert f"{marker}-said" in Path(kept).read_text()
    Path(kept).unlink()


@pytest.mark.postgres
def test_a_smaller_count_after_a_larger_one_says_the_run_makes_them_all(
    tmp_path: Path, env: dict[str, str], pgstac_dsn: str
) -> None:
    assets = tmp_path / "assets"

    def generate(count: int) -> str:
        made = subprocess.run(
            [str(PYTHON), str(SAMPLE / "generate.py"), "--count", str(count), str(assets)],
            capture_output=True, text=True, check=True, timeout=120, env=env,
        )  # fmt: skip
        return made.stdout.strip()

    first = generate(5)
    second = generate(2)
    run = run_etl("dataset", "process-items", "-d", str(SAMPLE), "-a", f"root={tmp_path}",
                  "--submit", env=env)  # fmt: skip

    assert "more scenes" not in first
    written, _, others = second.partition(" s); ")
    assert written.startswith(f"2 scenes in {assets.as_uri()}: 0 objects written, 4 unchanged (")
    assert others == (
        "3 more scenes of an earlier, larger --count are there too and the dataset lists them all "
        "(delete the folder to start over)"
    )
    assert run.returncode == 0, run.stderr
    with PgstacWriter(pgstac_dsn) as writer:
        assert writer.count_items("sample-sidecars") == 5
