"""A dataset's ``environment`` may hold ``$<< secrets.NAME >>``: user code sees the secret's value.

Compiled: a value that is exactly one reference is a ``secretKeyRef`` (Kubernetes secrets); on Key
Vault, or with text around a reference, the value stays a reference named in ``ETL_RESOLVE_ENV``
and ``etl-task`` resolves it before it imports user code. Run on the local profile, the item the
user code makes records a hash of what it saw, and the raw value is written nowhere.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import psycopg
import sidecar_dataset as e2e
from compile_cases import argo_profile, dataset, keyvault_profile

from etl.argo.compiling.workflow import compile_workflow
from etl.argo.options import WorkflowCommand
from etl.dataset.loader import load_dataset

SECRET = "pod-secret-value-7f3a9c"

CODE = e2e.COLLECTION_CODE.replace(
    "import json\n", "import hashlib\nimport json\nimport os\n", 1
).replace(
    'properties={"n": record["n"]},',
    'properties={"n": record["n"], '
    '"x_sha256": hashlib.sha256(os.environ["X"].encode()).hexdigest(), '
    '"y_sha256": hashlib.sha256(os.environ["Y"].encode()).hexdigest()},',
)

ENVIRONMENT = """\
environment:
  X: $<< secrets.some-name >>
  Y: pre-$<< secrets.some-name >>-post
  PLAIN: "1"
"""


def _container_env(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    spec = manifest["spec"].get("workflowSpec", manifest["spec"])
    container = next(t["container"] for t in spec["templates"] if "container" in t)
    return list(container["env"])


def _by_name(env: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in env}


def _secret_dataset(tmp_path: Path, dsn: str) -> e2e.Dataset:
    data = e2e.make_dataset(tmp_path, dsn, assets=12, broken=set())
    (data.folder / "sidecars.py").write_text(CODE)
    yaml_path = data.folder / "dataset.yaml"
    text = yaml_path.read_text()
    yaml_path.write_text(text.replace("collections:\n", ENVIRONMENT + "collections:\n", 1))
    return data


def test_a_whole_reference_is_a_secret_key_ref_on_kubernetes_secrets() -> None:
    env = _by_name(
        _container_env(
            compile_workflow(dataset("goes-glm"), WorkflowCommand.PROCESS_ITEMS, argo_profile())
        )
    )

    assert env["API_TOKEN"] == {
        "name": "API_TOKEN",
        "valueFrom": {
            "secretKeyRef": {"name": "etl-secrets", "key": "glm-api-token", "optional": True}
        },
    }
    assert "API_TOKEN=etl-secrets/glm-api-token" in env["ETL_SECRET_ENV"]["value"].split(",")
    assert env["GDAL_HTTP_MAX_RETRY"]["value"] == "5"
    assert "ETL_RESOLVE_ENV" not in env


def test_on_key_vault_the_reference_stays_and_the_pod_resolves_it() -> None:
    manifest = compile_workflow(
        dataset("goes-glm"), WorkflowCommand.PROCESS_ITEMS, keyvault_profile()
    )
    env = _by_name(_container_env(manifest))

    assert env["API_TOKEN"]["value"] == "$<< secrets.glm-api-token >>"
    assert env["ETL_RESOLVE_ENV"]["value"] == "API_TOKEN"
    assert "secretKeyRef" not in json.dumps(manifest)
    assert "ETL_SECRET_ENV" not in env


def test_text_around_a_reference_is_resolved_by_the_pod(tmp_path: Path) -> None:
    data = _secret_dataset(tmp_path, "postgresql://unused@127.0.0.1/x")
    data.on_blob_storage()
    manifest = compile_workflow(
        load_dataset(data.folder / "dataset.yaml"), WorkflowCommand.PROCESS_ITEMS, argo_profile()
    )
    env = _by_name(_container_env(manifest))

    assert env["X"]["valueFrom"]["secretKeyRef"] == {
        "name": "etl-secrets", "key": "some-name", "optional": True,
    }  # fmt: skip
    assert env["Y"]["value"] == "pre-$<< secrets.some-name >>-post"
    assert env["ETL_RESOLVE_ENV"]["value"] == "Y"
    assert env["PLAIN"]["value"] == "1"
    assert env["ETL_SECRET_SOME_NAME"]["valueFrom"]["secretKeyRef"]["key"] == "some-name"


def test_user_code_sees_the_secret_value_which_is_written_nowhere(
    tmp_path: Path, pgstac_dsn: str
) -> None:
    data = _secret_dataset(tmp_path, pgstac_dsn)
    data.env["ETL_SECRET_SOME_NAME"] = SECRET

    rendered = data.run("dataset", "render", "-d", str(data.folder))
    run = data.run("dataset", "process-items", "-d", str(data.folder), "--submit", "-o", "json")

    assert rendered.returncode == 0, rendered.stderr
    assert "$<< secrets.some-name >>" in rendered.stdout
    assert run.returncode == 0, run.stderr
    name = json.loads(run.stdout)["name"]
    with psycopg.connect(pgstac_dsn) as conn:
        rows = conn.execute(
            "SELECT content->'properties' FROM pgstac.items WHERE collection = 'sidecars'"
        ).fetchall()
    assert len(rows) == 12
    want_x = hashlib.sha256(SECRET.encode()).hexdigest()
    want_y = hashlib.sha256(f"pre-{SECRET}-post".encode()).hexdigest()
    assert {(r[0]["x_sha256"], r[0]["y_sha256"]) for r in rows} == {(want_x, want_y)}
    logs = data.run("workflow", "logs", name)
    got = data.run("workflow", "get", name, "-o", "json")
    assert logs.returncode == 0 and got.returncode == 0
    for output in (rendered, run, logs, got):
        assert SECRET not in output.stdout + output.stderr
    leaks = [
        path
        for path in tmp_path.rglob("*")
        if path.is_file() and SECRET.encode() in path.read_bytes()
    ]
    assert leaks == []


def test_a_missing_secret_key_fails_the_pod_at_once_naming_the_key(
    tmp_path: Path, pgstac_dsn: str
) -> None:
    """On Argo a missing key of a required secretKeyRef keeps the pod Pending until the deadline;
    the refs are optional and etl-task names the key and fails without retries (exit 2).

    ``--submit`` on the local runner now stops at its preflight (tests/runner/test_preflight.py); the
    manifest submitted as a file, as a cluster gets it, reaches the pod."""
    data = _secret_dataset(tmp_path, pgstac_dsn)
    manifest = tmp_path / "workflow.yaml"
    rendered = data.run("dataset", "process-items", "-d", str(data.folder), "--upload-bundle")
    assert rendered.returncode == 0, rendered.stderr
    manifest.write_text(rendered.stdout)

    run = data.run("workflow", "submit", str(manifest), "--wait", "-o", "json")

    assert run.returncode == 1
    assert "missing secret key etl-secrets/some-name (for ETL_SECRET_SOME_NAME)" in run.stderr
    assert "etl dataset secrets -d DATASET" in run.stderr
    record = Path(data.env["ETL_STATE_DIR"]) / "runs" / json.loads(run.stdout)["name"] / "run.json"
    nodes = json.loads(record.read_text())["nodes"].values()
    assert {node["attempts"] for node in nodes if node["type"] == "Pod"} == {1}
