"""Rendered manifests keep within Kubernetes' and Argo's limits for the longest real ids.

The ids come from the PCTasks corpus (``tests/pctasks``): its longest collection ids are used as
dataset ids too (the corpus's own dataset ids are short), since a CronWorkflow name over 52
characters makes Argo's cron controller fail on every tick. Names cut to fit end with a digest of
the full id, so ids that agree on their first characters still get different names.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from argo_schema import manifest_errors
from etl_cli import run_etl

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "pctasks"

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
ARGO_FIELD_NAME = re.compile(r"[a-zA-Z0-9][-a-zA-Z0-9]*")


def _corpus_ids() -> tuple[list[str], list[str]]:
    """The corpus's dataset ids and collection ids, longest first."""
    datasets, collections = [], []
    for path in sorted(CORPUS.glob("*/dataset.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        datasets.append(raw["id"])
        collections += [c["id"].strip() for c in raw["collections"]]
    return sorted(datasets, key=len, reverse=True), sorted(collections, key=len, reverse=True)


DATASET_IDS, COLLECTION_IDS = _corpus_ids()
LONG_IDS = COLLECTION_IDS[:3]
"""The three longest ids of the corpus (44 to 54 characters), used as dataset ids."""
OVER_LABEL = f"{COLLECTION_IDS[0]}-{COLLECTION_IDS[1]}"[:80]
"""A collection id longer than a label value may be (63)."""


def _write_dataset(folder: Path, dataset_id: str, collection_ids: list[str]) -> Path:
    folder.mkdir(parents=True)
    collections = [
        {
            "id": collection_id,
            "class": "etl.dataset:Collection",
            "asset_storage": [{"uri": f"blob://assets/scenes{index}", "chunks": {}}],
            "chunk_storage": {"uri": f"blob://state/chunks/{index}"},
        }
        for index, collection_id in enumerate(collection_ids)
    ]
    document = {"id": dataset_id, "image": "example/etl-task:1", "collections": collections}
    (folder / "dataset.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An Argo profile ``prod`` (Kubernetes secrets) in a config folder of this module's own."""
    root = tmp_path_factory.mktemp("limits")
    variables = {"ETL_CONFIG_DIR": str(root / "config"), "ETL_STATE_DIR": str(root / "state")}
    created = run_etl(
        "profile", "create", "prod", "--runner", "argo",
        "--argo-server", "https://argo.example.com", "--namespace", "etl",
        "--set", "argo.service_account=etl-workflow", "--set", "workflow.image=example/etl:1",
        "--set", "workflow.code_storage=blob://etlcode/bundles",
        "--set", "pgstac.dsn_secret=pgstac-dsn",
        env=variables,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    return variables


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One dataset per long id, each holding the corpus's longest collection ids."""
    root = tmp_path_factory.mktemp("datasets")
    collections = [*COLLECTION_IDS[:5], OVER_LABEL]
    return {
        dataset_id: _write_dataset(root / str(index), dataset_id, collections)
        for index, dataset_id in enumerate(LONG_IDS)
    }


def _render(
    env: dict[str, str], folder: Path, *options: str, profile: str = "prod"
) -> dict[str, Any]:
    result = run_etl("-p", profile, "dataset", "render", "-d", str(folder), "-o", "json",
                     *options, env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    manifest: dict[str, Any] = json.loads(result.stdout)
    return manifest


def _spec(manifest: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = manifest["spec"]
    return spec.get("workflowSpec", spec)


def _check_limits(manifest: dict[str, Any]) -> None:
    """Every name and label of ``manifest`` within its limit, and the strict schema met."""
    assert manifest_errors(manifest) == []
    spec = _spec(manifest)
    label_sets = [manifest["metadata"]["labels"], spec["podMetadata"]["labels"]]
    label_sets += [spec["workflowMetadata"]["labels"]] if "workflowMetadata" in spec else []
    for labels in label_sets:
        for value in labels.values():
            assert len(value) <= 63 and LABEL_VALUE.fullmatch(value), value
    names = [template["name"] for template in spec["templates"]]
    assert len(set(names)) == len(names)
    for template in spec["templates"]:
        tasks = [task["name"] for task in template.get("dag", {}).get("tasks", [])]
        assert len(set(tasks)) == len(tasks)
        for name in [template["name"], *tasks]:
            assert len(name) <= 128 and ARGO_FIELD_NAME.fullmatch(name), name


def test_the_corpus_has_ids_long_enough_to_matter() -> None:
    # dataset_id + "-process-items" passed 52 characters from 39 on
    assert all(len(dataset_id) >= 39 for dataset_id in LONG_IDS)
    assert len(OVER_LABEL) > 63
    # the longest ids agree on their first 29 characters: cut short alone, they would collide
    assert len({dataset_id[:29] for dataset_id in LONG_IDS}) < len(LONG_IDS)


def test_cron_workflow_names_fit_argo_and_stay_apart(
    env: dict[str, str], datasets: dict[str, Path]
) -> None:
    names = []
    for folder in datasets.values():
        cron = _render(env, folder, "--schedule", "0 3 * * *")
        assert cron["kind"] == "CronWorkflow"
        _check_limits(cron)
        name = cron["metadata"]["name"]
        assert len(name) <= 52 and DNS_LABEL.fullmatch(name), name
        assert name.endswith("-process-items")
        # the workflows it starts are NAME-<unix time>: still a valid 63-character name
        assert len(f"{name}-1735700000") <= 63
        names.append(name)
    assert len(set(names)) == len(names)
    assert names[0].startswith("noaa-cdr-sea-surface-temperat")


def test_workflow_names_templates_and_labels_fit(
    env: dict[str, str], datasets: dict[str, Path]
) -> None:
    renders = [(folder, "process-items") for folder in datasets.values()]
    renders += [(next(iter(datasets.values())), c) for c in ("create-chunks", "ingest-collection")]
    prefixes = []
    for folder, command in renders:
        manifest = _render(env, folder, "--command", command)
        _check_limits(manifest)
        prefix = manifest["metadata"]["generateName"]
        # Kubernetes adds 5 characters and cuts a prefix over 58: ours is never cut
        assert len(prefix) <= 58 and prefix.endswith(f"-{command}-"), prefix
        assert DNS_LABEL.fullmatch(prefix[:-1])
        prefixes.append(prefix)
        main = next(t for t in manifest["spec"]["templates"] if t["name"] == "main")
        assert len(main["dag"]["tasks"]) == len(COLLECTION_IDS[:5]) + 1
    assert len(set(prefixes)) == len(prefixes)


def test_a_collection_label_too_long_is_cut_with_a_digest(
    env: dict[str, str], datasets: dict[str, Path]
) -> None:
    folder = next(iter(datasets.values()))
    labels = []
    for collection_id in (OVER_LABEL, COLLECTION_IDS[0]):
        manifest = _render(env, folder, "-c", collection_id)
        _check_limits(manifest)
        labels.append(manifest["metadata"]["labels"]["etl.dev/collection"])
    cut, whole = labels
    assert len(cut) == 63 and re.fullmatch(r".+-[0-9a-f]{8}", cut)
    assert cut.startswith(OVER_LABEL[:54])
    assert whole == COLLECTION_IDS[0]  # a 54-character id is a label value as it is


def test_workflows_fail_after_the_profile_deadline(
    env: dict[str, str], datasets: dict[str, Path]
) -> None:
    folder = next(iter(datasets.values()))
    assert _render(env, folder)["spec"]["activeDeadlineSeconds"] == 86400
    cron = _render(env, folder, "--schedule", "@daily")
    assert cron["spec"]["workflowSpec"]["activeDeadlineSeconds"] == 86400
    short = run_etl("profile", "create", "short", "--from", "prod",
                    "--set", "workflow.active_deadline_seconds=3600", env=env)  # fmt: skip
    assert short.returncode == 0, short.stderr
    assert _render(env, folder, profile="short")["spec"]["activeDeadlineSeconds"] == 3600
    refused = run_etl("profile", "edit", "short", "--set", "workflow.active_deadline_seconds=0",
                      env=env)  # fmt: skip
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "workflow.active_deadline_seconds" in refused.stderr
