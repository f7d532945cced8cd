"""The task image, built by a real Docker engine from the repository's Dockerfile (scripts/image).

The image is built once per content (tests/support/task_image.py: tag = digest of the Dockerfile, the
build context and the base image), so a second session reuses it. The base image is made from
Debian's packages (scripts/image base), as no registry is reachable here, and the build trusts the
machine's CA bundle, handed over as a BuildKit secret, to get through this network's TLS
interception. Every container is started with --rm.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import task_image as ti
from packaging.markers import Marker
from packaging.utils import canonicalize_name

pytestmark = pytest.mark.image

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def _locked_runtime() -> tuple[set[str], dict[str, str]]:
    """What uv.lock pins for etl-task on this platform: workspace packages, {name: version}."""
    export = ["uv", "export", "--frozen", "--no-dev", "--package", "etl-task", "--no-editable"]
    out = subprocess.run(
        [*export, "--no-hashes", "--no-header", "--no-annotate"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=ROOT,
    ).stdout
    workspace: set[str] = set()
    pinned: dict[str, str] = {}
    for line in out.splitlines():
        requirement, _, marker = line.partition(";")
        requirement = requirement.strip()
        if not requirement or (marker.strip() and not Marker(marker.strip()).evaluate()):
            continue
        if requirement.startswith("./packages/"):
            workspace.add("etl-" + requirement.removeprefix("./packages/"))
        else:
            name, version = requirement.split("==")
            pinned[canonicalize_name(name)] = version
    return workspace, pinned


def test_image_runs_etl_task_help_as_a_non_root_user(task_image: ti.TaskImage) -> None:
    result = task_image.run()  # no arguments: ENTRYPOINT etl-task, CMD --help
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: etl-task")
    assert "create-chunks" in result.stdout
    who = task_image.run(
        "-c", "id -u; id -g; echo $HOME; touch $HOME/x /opt/etl/x", entrypoint="sh"
    )
    assert who.returncode == 0, who.stderr
    assert who.stdout.split() == ["10001", "10001", "/home/etl"]
    config = task_image.inspect()["Config"]
    assert config["User"] == "10001:10001"  # numeric: runAsNonRoot can verify it
    assert config["Entrypoint"] == ["etl-task"]
    assert config["Cmd"] == ["--help"]


def test_image_holds_exactly_the_locked_runtime_packages(task_image: ti.TaskImage) -> None:
    workspace, pinned = _locked_runtime()
    assert {"etl-core", "etl-dataset", "etl-pgstac", "etl-task"} == workspace
    result = task_image.run(
        "-c",
        "import importlib.metadata as m, json, etl.task;"
        "print(json.dumps({'file': etl.task.__file__,"
        " 'dists': {d.metadata['Name']: d.version for d in m.distributions()}}))",
        entrypoint="python",
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["file"].startswith("/opt/etl/lib/"), "etl.task must be installed, not linked"
    dists = {canonicalize_name(name): version for name, version in found["dists"].items()}
    third_party = {name: v for name, v in dists.items() if not name.startswith("etl-")}
    assert third_party == pinned  # every version from uv.lock, nothing more
    assert {name for name in dists if name.startswith("etl-")} == workspace  # no CLI, argo, runner
    for dev_tool in ("pytest", "pytest-xdist", "ruff", "mypy", "hera", "kubernetes-validate"):
        assert dev_tool not in dists
    sources = task_image.run("-c", "test ! -e /src && test ! -e /opt/uv", entrypoint="sh")
    assert sources.returncode == 0, "the runtime stage must not hold the build stage's files"


def test_image_has_uv_for_images_that_extend_it(task_image: ti.TaskImage) -> None:
    result = task_image.run("--version", entrypoint="uv")
    assert result.returncode == 0, result.stderr
    wanted = (ROOT / "scripts" / "image-uv-requirements.txt").read_text()
    version = result.stdout.split()[1]
    assert f"uv=={version} " in wanted


def test_image_is_small(task_image: ti.TaskImage) -> None:
    size_mb = task_image.inspect()["Size"] / 1e6
    # Measured: 263 MB (a 125 MB Debian base with python3, 38 MB uv, 100 MB venv). A slip back to
    # a single-stage build (compilers, uv's cache, sources) or to dev dependencies would pass 350.
    assert size_mb < 350, f"the task image is {size_mb:.0f} MB"


def test_build_does_not_keep_the_ca_bundle_it_was_handed(task_image: ti.TaskImage) -> None:
    bundle = SYSTEM_CA_BUNDLE.read_bytes()
    script = (
        "import hashlib, os, sys\n"
        "size, digest = int(sys.argv[1]), sys.argv[2]\n"
        "for top in ('/etc', '/home', '/opt', '/root', '/run', '/src', '/tmp', '/usr', '/var'):\n"
        "    for folder, _, names in os.walk(top):\n"
        "        for name in names:\n"
        "            path = os.path.join(folder, name)\n"
        "            if os.path.isfile(path) and not os.path.islink(path)"
        " and os.path.getsize(path) == size:\n"
        "                if hashlib.sha256(open(path, 'rb').read()).hexdigest() == digest:\n"
        "                    print(path)\n"
    )
    wanted = [str(len(bundle)), hashlib.sha256(bundle).hexdigest()]
    as_root = [task_image.docker, "run", "--rm", "--network", "none", "--user", "0:0"]
    result = subprocess.run(
        [*as_root, "--entrypoint", "python", task_image.tag, "-c", script, *wanted],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "", f"the build's CA bundle is in the image: {result.stdout}"


def test_build_trusts_the_ca_bundle_it_is_handed(task_image: ti.TaskImage, tmp_path: Path) -> None:
    # Here, pip reaches the package index only through the system CA bundle that scripts/image hands
    # the build (the session's image was built that way). Hand it a CA that signed nothing instead:
    # the build stage's first download must fail on the certificate, not succeed some other way.
    assert shutil.which("openssl"), "openssl makes the stand-in CA"
    ca = tmp_path / "unrelated-ca.pem"
    key_and_cert = ["-keyout", str(tmp_path / "key.pem"), "-out", str(ca)]
    self_signed = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    subprocess.run(
        [*self_signed, "-subj", "/CN=etl test CA that signed nothing", *key_and_cert],
        capture_output=True,
        check=True,
        timeout=60,
    )
    result = subprocess.run(
        [str(ROOT / "scripts" / "image"), "build", "--target", "build", "--no-cache"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env={
            **os.environ,
            "CA_BUNDLE": str(ca),
            "BASE_IMAGE": task_image.base,
            "ETL_IMAGE_TAG": "etl-task:test-untrusted-ca",
        },
    )
    log = result.stdout + result.stderr
    assert f"trusting the CA bundle {ca}" in log
    assert result.returncode != 0, "a build that trusts only an unrelated CA must fail"
    assert "CERTIFICATE_VERIFY_FAILED" in log, log[-3000:]


def test_content_tag_follows_what_the_build_reads(tmp_path: Path) -> None:
    for file in [ROOT / "Dockerfile", ROOT / ".dockerignore", *ti.context_files()]:
        copy = tmp_path / file.relative_to(ROOT)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, copy)
    before = ti.content_digest("sha256:base", tmp_path)
    assert ti.content_digest("sha256:base", tmp_path) == before
    assert ti.content_digest("sha256:other-base", tmp_path) != before

    cache = tmp_path / "packages" / "task" / "src" / "etl" / "task" / "__pycache__" / "x.pyc"
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(b"not sent to the build: .dockerignore")
    (tmp_path / "README.md").write_text("not in the build context")
    assert ti.content_digest("sha256:base", tmp_path) == before

    main = tmp_path / "packages" / "task" / "src" / "etl" / "task" / "main.py"
    main.write_text(main.read_text() + "\n# changed\n")
    assert ti.content_digest("sha256:base", tmp_path) != before


def test_an_image_with_the_content_tag_is_reused(task_image: ti.TaskImage) -> None:
    before = ti.image_id(task_image.docker, task_image.tag)
    again = ti.build_if_missing(task_image.docker, task_image.tag, task_image.base)
    assert not again.built_now  # a second session with the same content builds nothing
    assert ti.image_id(task_image.docker, task_image.tag) == before
    assert ti.image_id(task_image.docker, "etl-task:test-untrusted-ca") is None
