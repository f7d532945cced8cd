"""The compiled workflow: its shape, its settings from dataset and profile, secrets as references."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from compile_cases import argo_profile, dataset, keyvault_profile

from etl.argo.compiling.workflow import compile_workflow
from etl.argo.options import RunRequest, WorkflowCommand
from etl.core.errors import (
    ConfigError,
    OptionError,
    ProfileError,
    UnknownCollectionError,
)
from etl.core.profiles.model import (
    ArgoSettings,
    PgstacSettings,
    Profile,
    SecretsSettings,
    StorageAccount,
    WorkflowDefaults,
)
from etl.core.run_options import LastSuccess
from etl.dataset.loader import load_dataset

PI = WorkflowCommand.PROCESS_ITEMS


def _templates(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    spec = manifest["spec"].get("workflowSpec", manifest["spec"])
    return {template["name"]: template for template in spec["templates"]}


def _tasks(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {task["name"]: task for task in template["dag"]["tasks"]}


def _args(template: dict[str, Any]) -> list[str]:
    return [*template["container"]["command"], *template["container"]["args"]]


def _option(args: list[str], flag: str) -> str | None:
    return args[args.index(flag) + 1] if flag in args else None


def test_process_items_lists_while_the_collection_is_ingested_then_loads() -> None:
    templates = _templates(compile_workflow(dataset("landsat"), PI, argo_profile()))
    main = _tasks(templates["main"])
    assert [t["template"] for t in main.values()] == [
        "landsat-8-process-items",
        "landsat-9-process-items",
    ]
    steps = _tasks(templates["landsat-8-process-items"])
    assert {name: task.get("depends") for name, task in steps.items()} == {
        "ingest-collection": None,
        "create-chunks": None,
        "process-chunks": "ingest-collection && create-chunks",
        "finish-collection": "process-chunks",
        "mark-success": "finish-collection",
    }
    assert [
        _args(templates[t["template"]])[1] for t in steps.values() if "batches" not in t["template"]
    ] == [
        "ingest-collection",
        "create-chunks",
        "finish-collection",
        "mark-success",
    ]


def test_fan_out_is_over_a_count_from_create_chunks() -> None:
    templates = _templates(compile_workflow(dataset("goes-glm"), PI, argo_profile()))
    chunker = templates["goes-glm-create-chunks"]
    outputs = {p["name"]: p["valueFrom"]["path"] for p in chunker["outputs"]["parameters"]}
    assert outputs == {
        "chunk-count": "/tmp/etl-outputs/chunk-count",
        "batch-count": "/tmp/etl-outputs/batch-count",
    }
    assert _option(_args(chunker), "--outputs") == "/tmp/etl-outputs"
    steps = _tasks(templates["goes-glm-process-items"])
    for fan_out in ("process-chunks",):
        assert steps[fan_out]["arguments"]["parameters"] == [
            {
                "name": "batch-count",
                "value": "{{tasks.create-chunks.outputs.parameters.batch-count}}",
            }
        ]
        (batch,) = templates[steps[fan_out]["template"]]["dag"]["tasks"]
        assert batch["withSequence"] == {"count": "{{inputs.parameters.batch-count}}"}
        pod_args = _args(templates[batch["template"]])
        assert pod_args[1] == fan_out
        assert _option(pod_args, "--batch-index") == "{{inputs.parameters.batch-index}}"
        assert {p["name"]: p["value"] for p in batch["arguments"]["parameters"]}[
            "batch-index"
        ] == "{{item}}"


def test_every_task_gets_the_bundle_dataset_and_the_workflow_name_as_run_id() -> None:
    manifest = compile_workflow(dataset("goes-glm"), PI, argo_profile())
    pods = [t for t in _templates(manifest).values() if "container" in t]
    assert len(pods) == 5
    for pod in pods:
        args = _args(pod)
        assert args[0] == "etl-task"
        assert pod["container"]["image"] == "ghcr.io/example/etl-task:1.2.0"
        dataset_uri = _option(args, "--dataset")
        assert dataset_uri is not None
        assert dataset_uri.startswith("blob://etlcode/bundles/goes-glm/")
        assert dataset_uri.endswith("/dataset.json")
        if args[1] != "ingest-collection":
            assert _option(args, "--run-id") == "{{workflow.name}}"


def test_node_bound_splits_max_pods_over_collections() -> None:
    profile = argo_profile(
        workflow=WorkflowDefaults(image="i", code_storage="blob://a/b", max_pods=40)
    )
    templates = _templates(compile_workflow(dataset("landsat"), PI, profile))
    assert _option(_args(templates["landsat-8-create-chunks"]), "--max-batches") == "20"
    one = _templates(compile_workflow(dataset("landsat"), RunRequest(PI, ("landsat-9",)), profile))
    assert _option(_args(one["landsat-9-create-chunks"]), "--max-batches") == "40"


def test_manifest_size_does_not_depend_on_the_number_of_assets() -> None:
    small = compile_workflow(dataset("goes-glm"), RunRequest(PI, limit=10), argo_profile())
    huge = compile_workflow(dataset("goes-glm"), RunRequest(PI, limit=10_000_000), argo_profile())
    assert len(json.dumps(huge)) - len(json.dumps(small)) == len("10000000") - len("10")


def test_workflow_settings_come_from_dataset_and_profile() -> None:
    manifest = compile_workflow(dataset("goes-glm"), PI, argo_profile())
    metadata, spec = manifest["metadata"], manifest["spec"]
    assert metadata["generateName"] == "goes-glm-process-items-"
    assert metadata["namespace"] == "etl"
    assert metadata["labels"] == {
        "etl.dev/dataset": "goes-glm",
        "etl.dev/command": "process-items",
        "etl.dev/version": "0.1.0",
        "etl.dev/collection": "goes-glm",
    }
    assert spec["serviceAccountName"] == "etl-workflow"
    assert spec["parallelism"] == 300
    assert spec["activeDeadlineSeconds"] == 86400
    assert spec["ttlStrategy"] == {"secondsAfterCompletion": 86400}
    assert spec["podGC"] == {"strategy": "OnPodSuccess"}
    assert spec["podMetadata"]["labels"]["etl.dev/dataset"] == "goes-glm"
    assert (
        "etl.dev/collection"
        not in compile_workflow(dataset("landsat"), PI, argo_profile())["metadata"]["labels"]
    )


def test_task_config_sets_resources_retries_parallelism_and_placement() -> None:
    templates = _templates(compile_workflow(dataset("landsat"), PI, argo_profile()))
    items = templates["landsat-8-process-chunks"]
    assert items["container"]["resources"] == {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"cpu": "1", "memory": "2Gi"},
    }
    assert items["retryStrategy"] == {
        "limit": "5",
        "retryPolicy": "Always",
        "backoff": {"duration": "15s", "factor": "2", "maxDuration": "10m"},
        "expression": "asInt(lastRetry.exitCode) != 2",
    }
    assert items["nodeSelector"] == {"agentpool": "batch"}
    assert items["tolerations"] == [
        {
            "key": "kubernetes.azure.com/scalesetpriority",
            "operator": "Equal",
            "value": "spot",
            "effect": "NoSchedule",
        }
    ]
    # The pods make items (create-items: 200 at once) and load them (ingest-items: 4): the tighter wins.
    assert templates["landsat-8-process-chunks-batches"]["parallelism"] == 4
    assert templates["landsat-9-create-chunks"]["container"]["resources"] == {
        "requests": {"memory": "4Gi"}
    }
    default = templates["landsat-9-process-chunks"]
    assert default["retryStrategy"]["limit"] == "3"
    assert "resources" not in default["container"]
    assert "nodeSelector" not in default
    assert "parallelism" not in templates["landsat-9-process-chunks-batches"]


def test_only_the_steps_that_write_items_hold_the_pgstac_semaphore() -> None:
    templates = _templates(compile_workflow(dataset("goes-glm"), PI, argo_profile()))
    holding = {name for name, t in templates.items() if "synchronization" in t}
    assert holding == {"goes-glm-process-chunks", "goes-glm-finish-collection"}
    for name in holding:
        assert templates[name]["synchronization"] == {
            "semaphores": [{"configMapKeyRef": {"name": "etl-semaphores", "key": "pgstac-ingest"}}]
        }


def _env(manifest: dict[str, Any]) -> dict[str, Any]:
    pod = next(t for t in _templates(manifest).values() if "container" in t)
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in pod["container"]["env"]}


def test_kubernetes_secrets_are_secret_key_refs() -> None:
    env = _env(compile_workflow(dataset("goes-glm"), PI, argo_profile()))
    for name, key in [
        ("ETL_SECRET_GOES_SAS", "goes-sas"),
        ("ETL_SECRET_GLM_API_TOKEN", "glm-api-token"),
        ("ETL_SECRET_PGSTAC_DSN", "pgstac-dsn"),
    ]:
        assert env[name] == {"secretKeyRef": {"name": "etl-secrets", "key": key, "optional": True}}
    assert env["ETL_PGSTAC_DSN_SECRET"] == "pgstac-dsn"
    assert env["API_TOKEN"] == {
        "secretKeyRef": {"name": "etl-secrets", "key": "glm-api-token", "optional": True}
    }
    assert set(env["ETL_SECRET_ENV"].split(",")) == {
        "ETL_SECRET_GOES_SAS=etl-secrets/goes-sas",
        "ETL_SECRET_GLM_API_TOKEN=etl-secrets/glm-api-token",
        "ETL_SECRET_PGSTAC_DSN=etl-secrets/pgstac-dsn",
        "API_TOKEN=etl-secrets/glm-api-token",
    }
    assert env["GDAL_HTTP_MAX_RETRY"] == "5"
    assert "ETL_PGSTAC_DSN" not in env


def test_the_profile_names_the_kubernetes_secret() -> None:
    profile = argo_profile()
    profile.secrets.kubernetes_secret = "etl-prod-secrets"
    env = _env(compile_workflow(dataset("goes-glm"), PI, profile))
    assert env["ETL_SECRET_GOES_SAS"] == {
        "secretKeyRef": {"name": "etl-prod-secrets", "key": "goes-sas", "optional": True}
    }


def test_keyvault_profile_reads_secrets_in_the_pod_with_workload_identity() -> None:
    manifest = compile_workflow(dataset("goes-glm"), PI, keyvault_profile())
    env = _env(manifest)
    # the pod profile names the backend and the vault: no variable of their own
    secrets = json.loads(env["ETL_PROFILE_JSON"])["secrets"]
    assert secrets == {"backend": "keyvault", "vault_url": "https://etl-kv.vault.azure.net",
                       "kubernetes_secret": "etl-secrets"}  # fmt: skip
    assert not any(name.startswith("ETL_SECRET") for name in env)
    assert not any(isinstance(value, dict) for value in env.values())
    assert manifest["spec"]["podMetadata"]["labels"]["azure.workload.identity/use"] == "true"
    # Kubernetes secrets, but the chunk storage has no SAS token: the identity is still needed.
    plain = compile_workflow(dataset("goes-glm"), PI, argo_profile())
    assert plain["spec"]["podMetadata"]["labels"]["azure.workload.identity/use"] == "true"


def test_no_secret_value_reaches_the_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {
        "ETL_SECRET_GOES_SAS": "sv=2024&sig=SASVALUE123",
        "ETL_SECRET_GLM_API_TOKEN": "APITOKEN456",
        "ETL_SECRET_PGSTAC_DSN": "postgresql://etl:DSNPASSWORD789@db/pgstac",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    secrets_file = tmp_path / "prod.secrets.yaml"
    secrets_file.write_text("goes-sas: FILESAS000\n")
    secrets_file.chmod(0o600)
    profile = argo_profile(
        argo=ArgoSettings(namespace="etl", token="ARGOTOKEN111"),
        storage={
            "acct": StorageAccount(
                account_url="https://acct.blob.core.windows.net", key="STORAGEKEY222"
            )
        },
        secrets=SecretsSettings(file=secrets_file),
    )
    text = json.dumps(
        [compile_workflow(dataset("goes-glm"), command, profile) for command in WorkflowCommand]
    )
    for secret in [
        *values.values(),
        "FILESAS000",
        "ARGOTOKEN111",
        "STORAGEKEY222",
        "DSNPASSWORD789",
    ]:
        assert secret not in text
    assert "https://acct.blob.core.windows.net" in text


def test_local_profile_writes_no_dsn_the_runner_gives_it_at_run_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ETL_STATE_DIR", str(tmp_path))
    env = _env(compile_workflow(dataset("goes-glm"), PI, Profile.builtin_local()))
    assert "ETL_PGSTAC_DSN" not in env


def test_local_runner_needs_no_image(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ETL_STATE_DIR", str(tmp_path))
    manifest = compile_workflow(dataset("landsat"), PI, Profile.builtin_local())
    pod = _templates(manifest)["landsat-8-create-chunks"]
    assert pod["container"]["image"] == "etl-task:0.1.0"
    dataset_uri = _option(_args(pod), "--dataset")
    assert dataset_uri is not None
    assert dataset_uri.startswith(f"file://{tmp_path}/bundles/landsat-c2/")


def test_a_dsn_with_a_password_is_refused() -> None:
    profile = argo_profile(pgstac=PgstacSettings(dsn="postgresql://etl:hunter2@db:5432/pgstac"))
    with pytest.raises(ProfileError, match=r"pgstac\.dsn_secret") as raised:
        compile_workflow(dataset("goes-glm"), PI, profile)
    assert "hunter2" not in str(raised.value)


def test_limit_and_since_reach_create_chunks_and_the_run_marks_its_success() -> None:
    templates = _templates(
        compile_workflow(
            dataset("goes-glm"),
            RunRequest(PI, limit=25, since=LastSuccess.MARKER),
            argo_profile(),
        )
    )
    args = _args(templates["goes-glm-create-chunks"])
    assert _option(args, "--limit") == "25"
    assert _option(args, "--since") == "last-success"
    mark = _args(templates["goes-glm-mark-success"])
    assert mark[1] == "mark-success"
    assert _option(mark, "--started-at") == "{{workflow.creationTimestamp}}"
    plain = _args(
        _templates(compile_workflow(dataset("goes-glm"), PI, argo_profile()))[
            "goes-glm-create-chunks"
        ]
    )
    assert "--limit" not in plain
    assert "--since" not in plain


def test_schedule_makes_a_cron_workflow() -> None:
    manifest = compile_workflow(
        dataset("goes-glm"), RunRequest(PI, schedule="0 3 * * *"), argo_profile()
    )
    assert manifest["kind"] == "CronWorkflow"
    assert manifest["metadata"]["name"] == "goes-glm-process-items"
    spec = manifest["spec"]
    assert spec["schedules"] == ["0 3 * * *"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] == 600
    assert spec["workflowSpec"]["workflowMetadata"]["labels"]["etl.dev/command"] == "process-items"
    assert "goes-glm-mark-success" in _templates(manifest)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"limit": 0}, "--limit 0"),
        ({"schedule": "every day"}, "--schedule 'every day'"),
    ],
)
def test_bad_options_are_input_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(OptionError) as raised:
        RunRequest(PI, **options)
    assert raised.value.flag_message.startswith(message)
    assert str(raised.value).startswith(message.removeprefix("--"))


def test_schedule_is_only_for_process_items() -> None:
    with pytest.raises(OptionError, match=r"^schedule is for process-items"):
        RunRequest(WorkflowCommand.CREATE_CHUNKS, schedule="@daily")


def test_collection_selection() -> None:
    manifest = compile_workflow(dataset("landsat"), RunRequest(PI, ("landsat-9",)), argo_profile())
    assert [t["name"] for t in _templates(manifest)["main"]["dag"]["tasks"]] == ["landsat-9"]
    assert manifest["metadata"]["labels"]["etl.dev/collection"] == "landsat-9"
    with pytest.raises(UnknownCollectionError, match="landsat-7"):
        compile_workflow(dataset("landsat"), RunRequest(PI, ("landsat-7",)), argo_profile())


@pytest.mark.parametrize(
    ("command", "subcommand"),
    [
        (WorkflowCommand.CREATE_CHUNKS, "create-chunks"),
        (WorkflowCommand.INGEST_COLLECTION, "ingest-collection"),
    ],
)
def test_single_step_commands(command: WorkflowCommand, subcommand: str) -> None:
    manifest = compile_workflow(dataset("landsat"), command, argo_profile())
    templates = _templates(manifest)
    assert manifest["metadata"]["generateName"] == f"landsat-c2-{subcommand}-"
    assert sorted(templates) == ["landsat-8-" + subcommand, "landsat-9-" + subcommand, "main"]
    assert [_args(templates[t["template"]])[1] for t in templates["main"]["dag"]["tasks"]] == [
        subcommand
    ] * 2


def test_missing_image_is_a_located_error(tmp_path: Path) -> None:
    (tmp_path / "dataset.yaml").write_text(
        "id: no-image\ncollections:\n  - id: c\n    class: m:C\n    asset_storage: []\n"
    )
    profile = argo_profile(workflow=WorkflowDefaults(code_storage="blob://a/b"))
    with pytest.raises(ConfigError, match=r"dataset.yaml:1:\d+: .*no image"):
        compile_workflow(load_dataset(tmp_path), PI, profile)


def test_collection_ids_that_clash_as_names_get_distinct_templates(tmp_path: Path) -> None:
    (tmp_path / "dataset.yaml").write_text(
        "id: clash\nimage: img\ncollections:\n"
        "  - {id: a_b, class: 'm:C', asset_storage: []}\n"
        "  - {id: a.b, class: 'm:C', asset_storage: []}\n"
        "  - {id: 9lives, class: 'm:C', asset_storage: []}\n"
    )
    manifest = compile_workflow(
        load_dataset(tmp_path), WorkflowCommand.INGEST_COLLECTION, argo_profile()
    )
    assert [t["name"] for t in _templates(manifest)["main"]["dag"]["tasks"]] == [
        "a-b",
        "a-b-2",
        "c-9lives",
    ]
