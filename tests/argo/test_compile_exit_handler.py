"""The compiled exit handler of a dataset with notifications (issue 26, item 4).

A dataset workflow whose collections have notification targets (the dataset's, a collection's or
the profile's) gets ``spec.onExit: run-outcome``, a container template running ``etl-task
run-outcome`` with Argo's ``{{workflow.status}}`` and ``{{workflow.failures}}`` and the run's page
in the Argo UI; the manifest is valid against the strict schema derived from Hera's models and
round-trips through Hera. Without targets nothing changes (the golden files of
tests/argo/test_compile_golden.py hold those manifests byte for byte).
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
from argo_schema import manifest_errors
from compile_cases import CASES, DATASETS_DIR, argo_profile, dataset
from hera.workflows import models as hera

from etl.argo.compiling.models import WorkflowSpec
from etl.argo.compiling.workflow import compile_workflow
from etl.argo.options import RunRequest, WorkflowCommand
from etl.core.notifications.targets import NotificationTarget
from etl.dataset.loader import load_dataset

QUEUE = NotificationTarget.model_validate({"queue": "queue://etlevents/runs"})


def exit_handler(manifest: dict[str, Any]) -> dict[str, Any]:
    spec = manifest["spec"].get("workflowSpec") or manifest["spec"]
    [template] = [t for t in spec["templates"] if t["name"] == spec["onExit"]]
    return template


def flags(template: dict[str, Any]) -> dict[str, str]:
    args = template["container"]["args"]
    assert args[0] == "run-outcome"
    return dict(zip(args[1::2], args[2::2], strict=True))


@pytest.mark.parametrize(
    "request_",
    [
        RunRequest(WorkflowCommand.PROCESS_ITEMS),
        RunRequest(WorkflowCommand.CREATE_CHUNKS),
        RunRequest(WorkflowCommand.INGEST_COLLECTION),
        RunRequest(WorkflowCommand.PROCESS_ITEMS, schedule="0 3 * * *"),
    ],
    ids=["process-items", "create-chunks", "ingest-collection", "cron"],
)
def test_a_profiles_targets_give_every_dataset_workflow_an_exit_handler(
    request_: RunRequest,
) -> None:
    manifest = compile_workflow(dataset("landsat"), request_, argo_profile(notifications=[QUEUE]))
    spec = manifest["spec"].get("workflowSpec") or manifest["spec"]
    assert spec["onExit"] == "run-outcome"
    template = exit_handler(manifest)
    assert template["container"]["command"] == ["etl-task"]
    given = flags(template)
    assert given["--collections"] == "landsat-8,landsat-9"
    assert given["--run-id"] == "{{workflow.name}}"
    assert given["--command"] == request_.command.value
    assert given["--status"] == "{{workflow.status}}"
    assert given["--failures"] == "{{workflow.failures}}"
    assert given["--run-url"] == "https://argo.example.com:2746/workflows/etl/{{workflow.name}}"
    assert given["--dataset"].endswith("/dataset.json")
    assert template["retryStrategy"]["expression"] == "asInt(lastRetry.exitCode) != 2"
    assert manifest_errors(manifest) == []
    from hera.workflows import CronWorkflow, Workflow

    hera_class = CronWorkflow if manifest["kind"] == "CronWorkflow" else Workflow
    assert hera_class.from_dict(copy.deepcopy(manifest)).to_dict() == manifest


def test_a_datasets_or_a_collections_targets_give_it_one(tmp_path: Path) -> None:
    folder = tmp_path / "landsat"
    shutil.copytree(DATASETS_DIR / "landsat", folder)
    text = (folder / "dataset.yaml").read_text()
    with_collection_target = text.replace(
        "  - id: landsat-9\n",
        "  - id: landsat-9\n    notifications:\n      - queue: queue://etlevents/landsat9\n",
    )
    assert with_collection_target != text
    (folder / "dataset.yaml").write_text(with_collection_target)
    loaded = load_dataset(folder, args={"year": "2024"})
    profile = argo_profile()
    only_9 = RunRequest(WorkflowCommand.PROCESS_ITEMS, collections=("landsat-9",))
    only_8 = RunRequest(WorkflowCommand.PROCESS_ITEMS, collections=("landsat-8",))
    assert flags(exit_handler(compile_workflow(loaded, only_9, profile)))["--collections"] == (
        "landsat-9"
    )
    assert "onExit" not in compile_workflow(loaded, only_8, profile)["spec"]
    (folder / "dataset.yaml").write_text(
        text + "notifications:\n  - webhook: https://hooks.example.org/stac\n"
        "    secret: $<< secrets.HOOK_SECRET >>\n"
    )
    loaded = load_dataset(folder, args={"year": "2024"})
    manifest = compile_workflow(loaded, only_8, profile)
    assert manifest["spec"]["onExit"] == "run-outcome"
    assert manifest_errors(manifest) == []
    # The profile's empty list silences the dataset's targets.
    silenced = compile_workflow(loaded, only_8, argo_profile(notifications=[]))
    assert "onExit" not in silenced["spec"]


def test_without_targets_no_compiled_workflow_has_an_exit_handler() -> None:
    for case in CASES:
        manifest = case.compile()
        spec = manifest["spec"].get("workflowSpec") or manifest["spec"]
        assert "onExit" not in spec, case.id


def test_the_mirror_has_argos_on_exit_field() -> None:
    fields = WorkflowSpec.__dataclass_fields__
    assert "on_exit" in fields
    assert hera.WorkflowSpec.model_fields["on_exit"].alias == "onExit"
