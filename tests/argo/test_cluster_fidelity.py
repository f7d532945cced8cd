"""What runs on a cluster is what etl promised (issue 22, findings 14 to 16), through ``etl``.

- Each pod keeps its log under its own name: Argo's pod names of a run are longer than the 63
  characters of ``HOSTNAME`` and differ only past them, so a log named after ``HOSTNAME`` was
  one file for every batch pod. The local runner now cuts ``HOSTNAME`` as the kubelet does and
  sets ``ARGO_NODE_ID`` as Argo's controller does; ``etl workflow logs`` finds a gone pod's kept
  log through the workflow's nodes, under the pod's name.
- Local paths in the storage of a workflow compiled for Argo are refused (a cluster's pods would
  list an empty folder of their own and load nothing), located in the file that names them.
- ``etl workflow submit FILE`` refuses a field Argo's models do not know, as ``argo submit`` does,
  rather than sending the manifest without it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from argo_server import TOKEN, ArgoServerStandIn, RunPlan
from etl_cli import run_etl
from sidecar_files import generate_sidecars

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "sample-sidecars"


def sample_copy(tmp_path: Path, replacements: dict[str, str]) -> Path:
    """A copy of the sample dataset with its dataset.yaml's text edited as a user would."""
    folder = tmp_path / "dataset"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    config = folder / "dataset.yaml"
    text = config.read_text()
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new)
    config.write_text(text)
    return folder


def generate_assets(root: Path, count: int, env: dict[str, str]) -> None:
    generate_sidecars(count, root / "assets", env)


def line_of(text: str, needle: str) -> int:
    """The 1-based line of ``text`` where ``needle`` starts."""
    return text[: text.index(needle)].count("\n") + 1


# 14: kept logs, one per pod ----------------------------------------------------------------


@pytest.mark.postgres
def test_every_batch_pod_of_a_run_with_long_pod_names_keeps_its_own_log(
    env: dict[str, str], tmp_path: Path
) -> None:
    root = tmp_path / "root"
    generate_assets(root, 4, env)
    dataset = sample_copy(tmp_path, {"chunk_length: 500": "chunk_length: 2"})

    run = run_etl("dataset", "process-items", "-d", str(dataset), "-a", f"root={root}",
                  "--submit", env=env)  # fmt: skip
    assert run.returncode == 0, run.stderr
    name = run.stdout.strip()
    batches = [f"{name}.sample-sidecars.process-chunks.batch({i})" for i in (0, 1)]
    # the pods' names (node ids) differ only past the 63 characters HOSTNAME keeps
    assert batches[0][:63] == batches[1][:63]

    kept = sorted(p.name for p in root.rglob(f"{name}/logs/*.log"))
    assert [f"{batch}.log" for batch in batches] == [k for k in kept if "process-chunks" in k]
    shutil.rmtree(Path(env["ETL_STATE_DIR"]) / "runs" / name / "logs")  # the pods are gone
    logs = run_etl("workflow", "logs", name, env=env)

    assert logs.returncode == 0, logs.stderr
    for i, batch in enumerate(batches):
        assert f"\n{batch}: batch {i}/2: 1 chunk processed, " in logs.stdout


def test_workflow_logs_on_argo_shows_a_gone_pods_kept_log_under_its_pod_name(
    config_dir: Path, tmp_path: Path, argo_server: ArgoServerStandIn
) -> None:
    env = dict(os.environ, ETL_ARGO_SERVER=argo_server.url, ETL_ARGO_TOKEN=TOKEN,
               ETL_ARGO_NAMESPACE="ci")  # fmt: skip
    runs = tmp_path / "runs"
    dataset_json = tmp_path / "bundle" / "dataset.json"
    dataset_json.parent.mkdir()
    dataset_json.write_text(json.dumps({
        "id": "d",
        "collections": [{"id": "c", "class": "m:C", "asset_storage": [],
                         "chunk_storage": {"uri": f"file://{runs}"}}],
    }))  # fmt: skip
    manifest = tmp_path / "workflow.yaml"
    manifest.write_text(yaml.safe_dump(_chunking_workflow(f"file://{dataset_json}")))
    argo_server.plan_next(RunPlan(deleted_pods=("process-chunks",)))  # podGC: OnPodSuccess

    submitted = run_etl("workflow", "submit", str(manifest), "--wait", env=env)
    assert submitted.returncode == 0, submitted.stderr
    name = submitted.stdout.strip()
    nodes = argo_server.workflows.get("ci", name)["status"]["nodes"]
    node_ids = {node["displayName"]: node_id for node_id, node in nodes.items()}
    logs_dir = runs / name / "logs"
    logs_dir.mkdir(parents=True)
    for step, node_id in node_ids.items():  # what each pod's etl-task kept, as it names it now
        if step != name:
            (logs_dir / f"{node_id}.log").write_text(f"{step}: kept line\n")

    logs = run_etl("workflow", "logs", name, env=env)

    assert logs.returncode == 0, logs.stderr
    lines = logs.stdout.splitlines()
    live = [line for line in lines if line.endswith(": create-chunks: starting")]
    (process_pod,) = {line.split(": ")[0] for line in lines if "process-chunks" in line}
    # the gone pod's log, under the pod name Argo gives node NAME.process-chunks (v2 pod names)
    assert process_pod.startswith(f"{name}-process-chunks-")
    assert process_pod.removeprefix(f"{name}-process-chunks-") == node_ids[
        "process-chunks"
    ].removeprefix(f"{name}-")
    assert f"{process_pod}: process-chunks: kept line" in lines
    # the live pod's kept log is not shown a second time under its node id
    assert len(live) == 1
    assert not [line for line in lines if "create-chunks: kept line" in line]


def _chunking_workflow(dataset_uri: str) -> dict[str, Any]:
    """A hand-written two-step workflow whose steps run ``etl-task`` on collection ``c``."""

    def step(subcommand: str) -> dict[str, Any]:
        args = [subcommand, "--dataset", dataset_uri, "--collection", "c",
                "--run-id", "{{workflow.name}}"]  # fmt: skip
        return {"name": subcommand,
                "container": {"image": "etl-task:1", "command": ["etl-task"], "args": args}}  # fmt: skip

    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "d-process-items-"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {"name": "main", "dag": {"tasks": [
                    {"name": "create-chunks", "template": "create-chunks"},
                    {"name": "process-chunks", "template": "process-chunks",
                     "depends": "create-chunks"},
                ]}},
                step("create-chunks"),
                step("process-chunks"),
            ],
        },
    }  # fmt: skip


# 15: local paths in an Argo workflow's storage ---------------------------------------------


@pytest.fixture
def argo_profile(config_dir: Path, tmp_path: Path) -> dict[str, str]:
    """A profile ``prod`` whose runner is Argo (rendering never calls its server)."""
    env = dict(os.environ, ETL_ARGO_TOKEN=TOKEN)
    created = run_etl(
        "profile", "create", "prod", "--runner", "argo", "--argo-server", "http://127.0.0.1:9",
        "--namespace", "ci", "--set", f"workflow.code_storage=file://{tmp_path}/bundles",
        "--set", "pgstac.dsn_secret=pgstac-dsn", "--set", "workflow.image=etl-task:1", env=env,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    return env


def test_local_asset_storage_in_an_argo_workflow_is_refused_where_the_dataset_names_it(
    argo_profile: dict[str, str], tmp_path: Path
) -> None:
    root = tmp_path / "root"
    dataset = SAMPLE / "dataset.yaml"
    text = dataset.read_text()
    at = f"{dataset}:{line_of(text, '$<< args.root >>/assets')}"

    rendered = run_etl("-p", "prod", "dataset", "render", "-d", str(SAMPLE), "-a", f"root={root}",
                       env=argo_profile)  # fmt: skip
    submitted = run_etl("-p", "prod", "dataset", "process-items", "-d", str(SAMPLE),
                        "-a", f"root={root}", "--submit", env=argo_profile)  # fmt: skip
    local = run_etl("dataset", "render", "-d", str(SAMPLE), "-a", f"root={root}",
                    env=argo_profile)  # fmt: skip

    for result in (rendered, submitted):
        assert result.returncode == 2, result.stderr
        assert result.stdout == ""
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"error: {at}:")
        assert (
            f": collections[0].asset_storage[0].uri: {root}/assets is a local path: profile "
            "'prod' runs on Argo, whose pods cannot see this machine's files; use a blob:// URI"
        ) in line
    assert local.returncode == 0, local.stderr  # the local runner's pods see these folders


def test_a_local_state_storage_in_an_argo_profile_is_refused_when_a_collection_uses_it(
    argo_profile: dict[str, str], tmp_path: Path
) -> None:
    dataset = sample_copy(tmp_path, {
        "$<< args.root >>/assets": "blob://etlassets/sample",
        "    chunk_storage:\n      uri: $<< args.root >>/runs\n": "",
    })  # fmt: skip
    render = ("-p", "prod", "dataset", "render", "-d", str(dataset), "-a", "root=unused")
    edit = ("profile", "edit", "prod", "--set")

    assert run_etl(*edit, f"workflow.state_storage=file://{tmp_path}/state",
                   env=argo_profile).returncode == 0  # fmt: skip
    refused = run_etl(*render, env=argo_profile)
    assert run_etl(*edit, "workflow.state_storage=blob://etlstate/runs",
                   env=argo_profile).returncode == 0  # fmt: skip
    fixed = run_etl(*render, env=argo_profile)

    assert refused.returncode == 2
    assert refused.stderr == (
        f"error: profile 'prod': workflow.state_storage: file://{tmp_path}/state is a local path,"
        " and collection 'sample-sidecars' keeps its runs there (it has no chunk_storage): profile"
        " 'prod' runs on Argo, whose pods cannot see this machine's files; etl profile edit prod"
        " --set workflow.state_storage=blob://ACCOUNT/CONTAINER/PREFIX\n"
    )
    assert fixed.returncode == 0, fixed.stderr


# 16: fields Argo does not know -------------------------------------------------------------


UNKNOWN_FIELDS = {
    # the singular Argo v3.6 still read, gone from v4 and from Hera's models
    "singular-semaphore": (
        lambda spec: spec.update(synchronization={"semaphore": {"configMapKeyRef": {
            "name": "etl-semaphores", "key": "pgstac-ingest"}}}),
        "spec.synchronization.semaphore", "    semaphore:",
    ),
    "misspelt-key": (
        lambda spec: spec["templates"][1]["container"].update(comand=["etl-task"]),
        "spec.templates[1].container.comand", "      comand:",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(UNKNOWN_FIELDS))
def test_workflow_submit_refuses_a_field_argo_does_not_know_where_the_file_has_it(
    config_dir: Path, tmp_path: Path, argo_server: ArgoServerStandIn, case: str
) -> None:
    edit, field, key = UNKNOWN_FIELDS[case]
    env = dict(os.environ, ETL_ARGO_SERVER=argo_server.url, ETL_ARGO_TOKEN=TOKEN,
               ETL_ARGO_NAMESPACE="ci")  # fmt: skip
    manifest = _chunking_workflow("file:///nowhere/dataset.json")
    edit(manifest["spec"])
    path = tmp_path / "workflow.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))
    text = path.read_text()
    column = len(key) - len(key.lstrip()) + 1

    result = run_etl("workflow", "submit", str(path), env=env)

    assert result.returncode == 2
    assert result.stderr == (
        f"error: {path}:{line_of(text, key)}:{column}: {field}: unknown field: not in the "
        "Workflow schema\n"
    )
    assert "create_workflow" not in argo_server.operations()
