"""Scheduled runs, through ``etl`` and the stand-in Argo Server (issue 13, item 1).

``etl dataset process-items --schedule CRON --submit`` uploads the code bundle to the profile's
code storage (an Azurite container here) and creates the ``CronWorkflow`` through the Argo Server's
CronWorkflow API, or updates the one of that name; ``--timezone`` becomes ``spec.timezone``;
``etl cron list|get|delete`` work on them; the local runner, which has no cron, refuses in one line.
Every request and answer is checked against the Argo Server API by the stand-in (``argo_server``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from argo_server import ArgoServerStandIn
from compile_cases import DATASETS_DIR
from etl_cli import run_etl

GOES = str(DATASETS_DIR / "goes-glm")
CRON_NAME = "goes-glm-process-items"


@pytest.fixture
def argo_env(argo_env: dict[str, str]) -> dict[str, str]:
    """Profile ``prod`` (selected) on the stand-in Argo Server, namespace ``ci``, code storage in
    an Azurite container."""
    selected = run_etl("profile", "set", "prod", env=argo_env)
    assert selected.returncode == 0, selected.stderr
    return argo_env


def _blob_names(connection_string: str, container: str) -> set[str]:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(connection_string)
    return {blob.name for blob in service.get_container_client(container).list_blobs()}


def _dataset_uri(manifest: dict[str, object]) -> str:
    spec = manifest["spec"]
    assert isinstance(spec, dict)
    for template in spec["workflowSpec"]["templates"]:
        args = (template.get("container") or {}).get("args") or []
        if "--dataset" in args:
            return str(args[args.index("--dataset") + 1])
    raise AssertionError("no --dataset in the CronWorkflow")


def test_schedule_submit_uploads_the_bundle_and_creates_the_cron_workflow(
    argo_env: dict[str, str],
    argo_server: ArgoServerStandIn,
    azurite_connection_string: str,
    azurite_container: str,
) -> None:
    schedule = ["dataset", "process-items", "-d", GOES, "--schedule", "0 3 * * *"]
    rendered = yaml.safe_load(run_etl(*schedule, env=argo_env).stdout)

    result = run_etl(*schedule, "--submit", "-o", "json", env=argo_env)

    assert result.returncode == 0, result.stderr
    applied = json.loads(result.stdout)
    assert applied == {
        "name": CRON_NAME,
        "namespace": "ci",
        "runner": "argo",
        "action": "created",
        "url": f"{argo_server.url}/cron-workflows/ci/{CRON_NAME}",
    }
    # The pods' dataset.json is in Azurite before the CronWorkflow exists.
    dataset_uri = _dataset_uri(rendered)
    prefix = f"blob://devstoreaccount1/{azurite_container}/"
    assert dataset_uri.startswith(prefix)
    bundle = dataset_uri.removeprefix(prefix).removesuffix("/dataset.json")
    blobs = _blob_names(azurite_connection_string, azurite_container)
    assert {f"{bundle}/dataset.json", f"{bundle}/code/goes_glm.py"} <= blobs
    assert f"uploading the code bundle to {prefix}{bundle}" in result.stderr
    ops = argo_server.operations()
    assert ops.index("get_version") < ops.index("create_cron_workflow")
    (created,) = [r.body for r in argo_server.requests if r.operation == "create_cron_workflow"]
    assert created == {"namespace": "ci", "cronWorkflow": rendered}
    held = argo_server.crons.get("ci", CRON_NAME)
    assert held["spec"]["schedules"] == ["0 3 * * *"]
    assert held["spec"]["concurrencyPolicy"] == "Forbid"


def test_submitting_again_updates_it_by_name(
    argo_env: dict[str, str], argo_server: ArgoServerStandIn
) -> None:
    base = ["dataset", "process-items", "-d", GOES, "--submit"]
    first = run_etl(*base, "--schedule", "0 3 * * *", env=argo_env)
    version = argo_server.crons.get("ci", CRON_NAME)["metadata"]["resourceVersion"]

    again = run_etl(*base, "--schedule", "30 4 * * 1", "--timezone", "Europe/Paris", env=argo_env)

    assert first.returncode == 0, first.stderr
    assert again.returncode == 0, again.stderr
    assert first.stdout == again.stdout == f"{CRON_NAME}\n"
    assert f"created CronWorkflow {CRON_NAME} in namespace ci" in first.stderr
    assert f"updated CronWorkflow {CRON_NAME} in namespace ci" in again.stderr
    held = argo_server.crons.get("ci", CRON_NAME)
    assert held["spec"]["schedules"] == ["30 4 * * 1"]
    assert held["spec"]["timezone"] == "Europe/Paris"
    assert held["metadata"]["generation"] == 2
    # The update carried the resourceVersion the get returned (the stand-in refuses a stale one).
    (update,) = [r.body for r in argo_server.requests if r.operation == "update_cron_workflow"]
    assert update["cronWorkflow"]["metadata"]["resourceVersion"] == version
    assert argo_server.operations().count("create_cron_workflow") == 2  # the second one: 409


def test_cron_list_get_and_delete(argo_env: dict[str, str], argo_server: ArgoServerStandIn) -> None:
    submitted = run_etl(
        "dataset", "process-items", "-d", GOES, "--submit", "--schedule", "@daily",
        "--timezone", "America/New_York", env=argo_env,
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    argo_server.crons.scheduled("ci", CRON_NAME, "goes-glm-process-items-1712345678")

    listed = run_etl("cron", "list", env=argo_env)
    listed_json = run_etl("cron", "list", "-o", "json", env=argo_env)
    got = run_etl("cron", "get", CRON_NAME, "-o", "json", env=argo_env)
    table = run_etl("cron", "get", CRON_NAME, env=argo_env)
    deleted = run_etl("cron", "delete", CRON_NAME, env=argo_env)
    gone = run_etl("cron", "get", CRON_NAME, env=argo_env)
    empty = run_etl("cron", "list", "-o", "json", env=argo_env)

    header, row = listed.stdout.splitlines()
    assert header.split() == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPENDED", "LAST", "RUN", "ACTIVE",
                              "CREATED"]  # fmt: skip
    assert row.split()[:4] == [CRON_NAME, "@daily", "America/New_York", "no"]
    assert [c["name"] for c in json.loads(listed_json.stdout)] == [CRON_NAME]
    cron = json.loads(got.stdout)
    assert {k: cron[k] for k in ("name", "namespace", "schedules", "timezone", "suspended")} == {
        "name": CRON_NAME,
        "namespace": "ci",
        "schedules": ["@daily"],
        "timezone": "America/New_York",
        "suspended": False,
    }
    assert cron["concurrency_policy"] == "Forbid"
    assert cron["active"] == ["goes-glm-process-items-1712345678"]
    assert cron["labels"]["etl.dev/dataset"] == "goes-glm"
    rows = dict(line.split(None, 1) for line in table.stdout.splitlines())
    assert rows["url"] == f"{argo_server.url}/cron-workflows/ci/{CRON_NAME}"
    assert rows["active"] == "goes-glm-process-items-1712345678"
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout == f"CronWorkflow '{CRON_NAME}' deleted\n"
    assert gone.returncode == 1
    assert gone.stderr == (
        f"error: cron workflow '{CRON_NAME}' not found in namespace 'ci' on the Argo Server at "
        f"{argo_server.url}/\n"
    )
    assert json.loads(empty.stdout) == []


def test_timezone_reaches_the_manifest_and_is_checked(config_dir: Path) -> None:
    schedule = ["dataset", "render", "-d", GOES, "--schedule", "0 3 * * *", "-o", "json"]

    paris = run_etl(*schedule, "--timezone", "Europe/Paris")
    plain = run_etl(*schedule)
    bad = run_etl(*schedule, "--timezone", "Europe/Atlantis")
    alone = run_etl("dataset", "render", "-d", GOES, "--timezone", "UTC")

    assert json.loads(paris.stdout)["spec"]["timezone"] == "Europe/Paris"
    assert "timezone" not in json.loads(plain.stdout)["spec"]
    assert (bad.returncode, bad.stdout) == (2, "")
    assert json.loads(bad.stderr)["error"]["message"] == (  # -o json: the error is JSON too
        "--timezone 'Europe/Atlantis': give an IANA time zone, e.g. 'Europe/Paris' or 'UTC'"
    )
    assert (alone.returncode, alone.stderr) == (2, "error: --timezone is for a --schedule\n")


def test_a_rendered_cron_workflow_says_how_to_upload_its_bundle(
    argo_env: dict[str, str], azurite_connection_string: str, azurite_container: str
) -> None:
    schedule = ["dataset", "process-items", "-d", GOES, "--schedule", "0 3 * * *"]

    printed = run_etl(*schedule, env=argo_env)
    assert _blob_names(azurite_connection_string, azurite_container) == set()
    uploaded = run_etl(*schedule, "--upload-bundle", env=argo_env)

    assert printed.returncode == 0 and uploaded.returncode == 0, uploaded.stderr
    assert printed.stdout == uploaded.stdout  # the same manifest, for kubectl apply -f -
    dataset_uri = _dataset_uri(yaml.safe_load(printed.stdout))
    (note,) = printed.stderr.splitlines()
    assert note.startswith(f"note: the CronWorkflow's pods read {dataset_uri}, which this command")
    assert "--upload-bundle" in note
    assert "note:" not in uploaded.stderr
    key = dataset_uri.removeprefix(f"blob://devstoreaccount1/{azurite_container}/")
    assert key in _blob_names(azurite_connection_string, azurite_container)


def test_the_local_runner_has_no_cron(config_dir: Path) -> None:
    submitted = run_etl(
        "dataset", "process-items", "-d", GOES, "--schedule", "0 3 * * *", "--submit"
    )
    listed = run_etl("cron", "list")

    assert (submitted.returncode, submitted.stdout) == (2, "")
    assert submitted.stderr == (
        "error: --schedule with --submit: the local runner has no cron: run `etl dataset "
        "process-items --submit` from your own scheduler, or use a profile with runner argo (a "
        "CronWorkflow on the Argo Server)\n"
    )
    assert listed.returncode == 2
    assert listed.stderr.startswith("error: etl cron: the local runner has no cron")
    assert listed.stderr.count("\n") == 1


def test_schedule_does_not_wait(argo_env: dict[str, str], argo_server: ArgoServerStandIn) -> None:
    result = run_etl(
        "dataset", "process-items", "-d", GOES, "--schedule", "@daily", "--submit", "--wait",
        env=argo_env,
    )  # fmt: skip

    assert result.returncode == 2
    assert "--wait is for a Workflow; a CronWorkflow starts one at each scheduled time" in (
        result.stderr
    )
    assert argo_server.operations() == []
