"""``etl dataset stream --submit | --delete`` on a cluster profile, against a stand-in Kubernetes
API server that checks every call (issue 24, item 3): server-side apply of KEDA's objects (the
bodies validated against KEDA's CRD schema), updates by name, deletion, a refused token failing
at once and a failing server retried then reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient
from cluster_stream_dataset import stream_dataset
from conftest import AZURITE_CONNECTION_STRING
from etl_cli import run_etl
from kubernetes_api import TOKEN, KubernetesStandIn

NAME = "sample-sidecars-sample-sidecars-stream"
SCALED_JOB = ("scaledjobs", "ci", NAME)
AUTHENTICATION = ("triggerauthentications", "ci", NAME)
APPLY_PATH = f"/apis/keda.sh/v1alpha1/namespaces/ci/triggerauthentications/{NAME}"


@pytest.fixture
def stream_args(
    argo_env: dict[str, str],
    kubernetes_api: KubernetesStandIn,
    azurite_container: str,
    tmp_path: Path,
) -> list[str]:
    """``etl`` arguments up to the action: profile ``prod`` (Argo on the stand-in, code storage in
    Azurite) reaching the stand-in Kubernetes API; the sample dataset with a stream."""
    edited = run_etl("profile", "edit", "prod",
                     "--set", f"kubernetes.api_server={kubernetes_api.url}", env=argo_env)  # fmt: skip
    assert edited.returncode == 0, edited.stderr
    argo_env["ETL_KUBERNETES_TOKEN"] = TOKEN
    folder = stream_dataset(tmp_path / "ds")
    root = f"blob://devstoreaccount1/{azurite_container}"
    return ["-p", "prod", "dataset", "stream", "-d", str(folder), "-a", f"root={root}"]


def test_submit_creates_then_updates_and_delete_removes(
    stream_args: list[str], argo_env: dict[str, str], kubernetes_api: KubernetesStandIn
) -> None:
    first = run_etl(*stream_args, "--submit", env=argo_env)
    assert first.returncode == 0, first.stderr
    assert "uploading the code bundle to blob://devstoreaccount1/" in first.stdout
    assert f"triggerauthentication/{NAME} created in namespace ci" in first.stdout
    assert f"scaledjob/{NAME} created in namespace ci" in first.stdout
    assert set(kubernetes_api.objects) == {SCALED_JOB, AUTHENTICATION}
    dataset_uri = kubernetes_api.objects[SCALED_JOB]["spec"]["jobTargetRef"]["template"]["spec"][
        "containers"
    ][0]["args"][2]
    container, blob = dataset_uri.removeprefix("blob://devstoreaccount1/").split("/", 1)
    client = BlobServiceClient.from_connection_string(AZURITE_CONNECTION_STRING)
    assert client.get_blob_client(container, blob).exists()  # the bundle the pods read

    second = run_etl(*stream_args, "--submit", env=argo_env)
    assert second.returncode == 0, second.stderr
    assert f"scaledjob/{NAME} updated in namespace ci" in second.stdout
    assert set(kubernetes_api.objects) == {SCALED_JOB, AUTHENTICATION}

    deleted = run_etl(*stream_args, "--delete", env=argo_env)
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.splitlines() == [
        f"scaledjob/{NAME} deleted in namespace ci",
        f"triggerauthentication/{NAME} deleted in namespace ci",
    ]
    assert kubernetes_api.objects == {}
    again = run_etl(*stream_args, "--delete", env=argo_env)
    assert again.returncode == 0, again.stderr
    assert f"scaledjob/{NAME} absent in namespace ci" in again.stdout


def test_a_refused_token_is_one_line_exit_2_never_retried(
    stream_args: list[str], argo_env: dict[str, str], kubernetes_api: KubernetesStandIn
) -> None:
    kubernetes_api.fail_next(403, 'scaledjobs.keda.sh is forbidden: User "ci" cannot patch')
    result = run_etl(*stream_args, "--submit", env=argo_env)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(
        f"error: the Kubernetes API server at {kubernetes_api.url} refused the token of profile "
        "'prod' (403): scaledjobs.keda.sh is forbidden"
    )
    assert kubernetes_api.requests == [("PATCH", APPLY_PATH)]
    assert kubernetes_api.objects == {}


def test_a_failing_server_is_retried_then_reported(
    stream_args: list[str], argo_env: dict[str, str], kubernetes_api: KubernetesStandIn
) -> None:
    kubernetes_api.fail_next(503, "etcdserver: leader changed", times=3)
    result = run_etl(*stream_args, "--submit", env=argo_env)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: the Kubernetes API server at {kubernetes_api.url} failed (503): "
        "etcdserver: leader changed"
    )
    assert kubernetes_api.requests == [("PATCH", APPLY_PATH)] * 3
    kubernetes_api.fail_next(503, "etcdserver: leader changed", times=2)
    recovered = run_etl(*stream_args, "--submit", env=argo_env)
    assert recovered.returncode == 0, recovered.stderr
    assert set(kubernetes_api.objects) == {SCALED_JOB, AUTHENTICATION}


def test_a_wrong_token_is_refused_by_the_server(
    stream_args: list[str], argo_env: dict[str, str], kubernetes_api: KubernetesStandIn
) -> None:
    argo_env["ETL_KUBERNETES_TOKEN"] = "not-the-token"
    result = run_etl(*stream_args, "--delete", env=argo_env)
    assert result.returncode == 2
    assert "refused the token of profile 'prod' (401): Unauthorized" in result.stderr


def test_the_local_profile_refuses_delete_in_one_line(config_dir: Path, tmp_path: Path) -> None:
    folder = stream_dataset(tmp_path / "ds")
    result = run_etl("dataset", "stream", "-d", str(folder), "-a", f"root={tmp_path}", "--delete")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: etl dataset stream --delete: a local-runner profile has no cluster to run KEDA's "
        "objects on (its --submit runs the consumers here): use a profile with runner argo and a "
        "kubernetes.api_server"
    ]
