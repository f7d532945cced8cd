"""The stand-in Argo Server holds requests to the Argo Server's API, so tests of the client mean it.

The API comes from Hera's generated service and models (``argo_api``); these tests send requests by
hand and check that the stand-in answers what the real server would and records a violation for
every request off the API.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from argo_api import ArgoApi
from argo_server import TOKEN, ArgoServerStandIn

AUTH = {"Authorization": f"Bearer {TOKEN}"}
WORKFLOW = {
    "metadata": {"generateName": "hello-"},
    "spec": {
        "entrypoint": "main",
        "templates": [{"name": "main", "container": {"image": "busybox", "command": ["true"]}}],
    },
}


@pytest.fixture
def stand_in(argo_apis: tuple[ArgoApi, ...]) -> Iterator[ArgoServerStandIn]:
    server = ArgoServerStandIn(argo_apis)
    server.start()
    yield server
    server.stop()


def _create(stand_in: ArgoServerStandIn, workflow: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{stand_in.url}/api/v1/workflows/argo",
        data=json.dumps({"workflow": workflow}),
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=10,
    )


def test_a_valid_workflow_is_created_and_can_be_read_back(stand_in: ArgoServerStandIn) -> None:
    created = _create(stand_in, WORKFLOW)
    assert created.status_code == 200, created.text
    name = created.json()["metadata"]["name"]
    got = requests.get(f"{stand_in.url}/api/v1/workflows/argo/{name}", headers=AUTH, timeout=10)
    assert got.json()["spec"]["entrypoint"] == "main"
    assert stand_in.operations() == ["create_workflow", "get_workflow"]
    assert stand_in.violations == []


def test_a_misspelt_field_in_a_body_is_refused(stand_in: ArgoServerStandIn) -> None:
    workflow = {**WORKFLOW, "spec": {**WORKFLOW["spec"], "paralelism": 2}}
    answer = _create(stand_in, workflow)
    assert answer.status_code == 400
    assert "'paralelism' was unexpected" in answer.json()["message"]
    assert any("workflow.spec" in violation for violation in stand_in.violations)


def test_a_null_or_mistyped_value_is_refused(stand_in: ArgoServerStandIn) -> None:
    workflow = {**WORKFLOW, "spec": {**WORKFLOW["spec"], "parallelism": "two", "podGC": None}}
    assert _create(stand_in, workflow).status_code == 400
    problems = "\n".join(stand_in.violations)
    assert "'two' is not of type 'integer'" in problems
    assert "None is not of type 'object'" in problems


def test_query_parameters_are_checked_by_name_and_type(stand_in: ArgoServerStandIn) -> None:
    url = f"{stand_in.url}/api/v1/workflows/argo"
    assert requests.get(url, params={"listOptions.limit": "5"}, headers=AUTH, timeout=10).ok
    assert stand_in.violations == []
    typo = requests.get(url, params={"listOptions.limt": "5"}, headers=AUTH, timeout=10)
    flag = requests.get(
        f"{stand_in.url}/api/v1/workflows/argo/x/log",
        params={"logOptions.follow": "yes"},
        headers=AUTH,
        timeout=10,
    )
    assert (typo.status_code, flag.status_code) == (400, 400)
    problems = "\n".join(stand_in.violations)
    assert "query parameter 'listOptions.limt' not declared for list_workflows" in problems
    assert "logOptions.follow='yes' is not a boolean" in problems


def test_paths_and_methods_off_the_api_are_refused(stand_in: ArgoServerStandIn) -> None:
    missing = requests.get(f"{stand_in.url}/api/v1/workflowz/argo", headers=AUTH, timeout=10)
    wrong_method = requests.delete(
        f"{stand_in.url}/api/v1/workflows/argo", headers=AUTH, timeout=10
    )
    assert (missing.status_code, wrong_method.status_code) == (404, 405)
    assert any("path not in the API" in violation for violation in stand_in.violations)
    assert any("method not in the API" in violation for violation in stand_in.violations)


def test_a_wrong_token_gets_argos_401(stand_in: ArgoServerStandIn) -> None:
    answer = requests.get(
        f"{stand_in.url}/api/v1/workflows/argo",
        headers={"Authorization": "Bearer wrong"},
        timeout=10,
    )
    assert answer.status_code == 401
    assert answer.json()["code"] == 16


def test_the_watch_hera_lacks_is_declared_with_the_list_options(
    argo_apis: tuple[ArgoApi, ...],
) -> None:
    hera = argo_apis[0]
    watch, args, _ = hera.match("GET", "/api/v1/workflow-events/argo")
    assert watch is not None and watch.streams and args == ["argo"]
    assert watch.query["listOptions.fieldSelector"] == "string"
    assert watch.query["listOptions.watch"] == "boolean"
    create, args, _ = hera.match("POST", "/api/v1/workflows/argo")
    assert create is not None and create.name == "create_workflow" and args == ["argo"]
    assert create.body is not None and not create.streams
