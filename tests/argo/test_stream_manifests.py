"""``etl dataset stream`` prints KEDA objects that KEDA's own CRD schema accepts (issue 24, item 3).

The schema is KEDA's published CRDs kept in the repository
(``etl/argo/compiling/keda_crds``, read strictly by ``etl.argo.compiling.keda_schema``); the
consumer pods are the ``process-chunks`` pods' twins (image, environment, resources), running
``etl-task consume-events``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cluster_stream_dataset import QUEUE, stream_dataset
from etl_cli import create_argo_profile, run_etl

from etl.argo.compiling.keda_schema import manifest_errors
from etl.core.pod_contract import CONSUME_EVENTS, WORKLOAD_IDENTITY_LABEL

NAME = "sample-sidecars-sample-sidecars-stream"


@pytest.fixture
def printed(config_dir: Path, tmp_path: Path) -> tuple[list[dict[str, Any]], Path]:
    """The objects ``etl dataset stream`` prints on an Argo profile, and the dataset's folder."""
    create_argo_profile(
        "prod",
        "--set", "workflow.code_storage=blob://goesstorage/code",
        "--set", "pgstac.dsn_secret=pgstac-dsn",
        "--set", "stream.max_pods=7",
        "--set", "argo.service_account=etl-pods",
    )  # fmt: skip
    folder = stream_dataset(tmp_path / "ds", batch_size=50)
    result = run_etl(
        "-p",
        "prod",
        "dataset",
        "stream",
        "-d",
        str(folder),
        "-a",
        "root=blob://goesstorage/samples",
    )
    assert result.returncode == 0, result.stderr
    assert "which printing does not upload" in result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout)], folder


def test_printed_objects_validate_against_kedas_crds(
    printed: tuple[list[dict[str, Any]], Path],
) -> None:
    documents, _ = printed
    assert [(doc["kind"], doc["metadata"]["name"]) for doc in documents] == [
        ("TriggerAuthentication", NAME),
        ("ScaledJob", NAME),
    ]
    for document in documents:
        assert manifest_errors(document) == []
    authentication, scaled_job = documents
    assert authentication["spec"] == {"podIdentity": {"provider": "azure-workload"}}
    spec = scaled_job["spec"]
    assert spec["triggers"] == [
        {
            "type": "azure-queue",
            "metadata": {
                "queueName": QUEUE,
                "accountName": "devstoreaccount1",
                "queueLength": "50",
            },
            "authenticationRef": {"name": NAME},
        }
    ]
    assert spec["maxReplicaCount"] == 7
    assert spec["pollingInterval"] == 30
    assert spec["jobTargetRef"]["activeDeadlineSeconds"] == 3600
    pod = spec["jobTargetRef"]["template"]
    assert pod["metadata"]["labels"]["etl.dev/collection"] == "sample-sidecars"
    assert pod["metadata"]["labels"][WORKLOAD_IDENTITY_LABEL] == "true"
    assert pod["spec"]["serviceAccountName"] == "etl-pods"
    assert scaled_job["metadata"]["namespace"] == "etl"


def test_consumer_pods_are_the_process_chunks_pods_running_consume_events(
    printed: tuple[list[dict[str, Any]], Path],
) -> None:
    documents, folder = printed
    container = documents[1]["spec"]["jobTargetRef"]["template"]["spec"]["containers"][0]
    rendered = run_etl("-p", "prod", "dataset", "render", "-d", str(folder),
                       "-a", "root=blob://goesstorage/samples", "-o", "json")  # fmt: skip
    assert rendered.returncode == 0, rendered.stderr
    templates = json.loads(rendered.stdout)["spec"]["templates"]
    chunks = next(t for t in templates if t["name"].endswith("-process-chunks"))["container"]
    for key in ("image", "env", "resources"):
        assert container[key] == chunks[key], key
    assert container["resources"] == {"requests": {"cpu": "500m", "memory": "1Gi"}}
    dataset_uri = chunks["args"][chunks["args"].index("--dataset") + 1]
    assert [*container["command"], *container["args"]] == CONSUME_EVENTS.command_line(
        {"--dataset": dataset_uri, "--collection": "sample-sidecars", "--idle-exit": "60"}
    )


def test_the_schema_refuses_what_kubernetes_would_prune_or_refuse(
    printed: tuple[list[dict[str, Any]], Path],
) -> None:
    scaled_job = copy.deepcopy(printed[0][1])
    scaled_job["spec"]["maxReplicaCont"] = scaled_job["spec"].pop("maxReplicaCount")
    scaled_job["spec"]["pollingInterval"] = "30s"
    del scaled_job["spec"]["triggers"][0]["type"]
    errors = manifest_errors(scaled_job)
    assert "spec: Additional properties are not allowed ('maxReplicaCont' was unexpected)" in errors
    assert "spec/pollingInterval: '30s' is not of type 'integer'" in errors
    assert "spec/triggers/0: 'type' is a required property" in errors


def test_a_collection_without_events_is_one_line(config_dir: Path, tmp_path: Path) -> None:
    create_argo_profile("prod", "--set", "workflow.code_storage=blob://goesstorage/code")
    folder = tmp_path / "plain"
    stream_dataset(folder)
    text = (folder / "dataset.yaml").read_text()
    events = f"    events:\n      queue: queue://devstoreaccount1/{QUEUE}\n      batch_size: 50\n"
    assert events in text
    (folder / "dataset.yaml").write_text(text.replace(events, ""))
    result = run_etl("-p", "prod", "dataset", "stream", "-d", str(folder),
                     "-a", "root=blob://goesstorage/samples")  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: dataset 'sample-sidecars': no events to stream for collection(s) sample-sidecars;"
        " add collections[].events.queue: queue://ACCOUNT/NAME (docs/streaming.md)"
    ]
