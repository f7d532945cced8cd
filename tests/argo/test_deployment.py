"""deployment/: every manifest is valid Kubernetes, and the RBAC lets etl's workflows actually run.

No cluster runs here: manifests are checked against Kubernetes' own OpenAPI schemas (shipped
offline by kubernetes-validate, strict mode: unknown fields are errors), and the RBAC rules are
evaluated the way the API server's authorizer would for the requests Argo and etl make.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

DEPLOYMENT = Path(__file__).resolve().parents[2] / "deployment"
KUBERNETES_VERSION = "1.30"
NAMESPACE = "etl"
TEMPLATES = {"secrets.example.yaml"}  # filled in by hand, never applied by kustomization.yaml


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _manifest_files() -> list[Path]:
    return sorted(p for p in DEPLOYMENT.glob("*.yaml") if p.name != "kustomization.yaml")


def _applied() -> Iterator[dict[str, Any]]:
    """Every object `kubectl apply -k deployment/` creates."""
    kustomization = yaml.safe_load((DEPLOYMENT / "kustomization.yaml").read_text())
    for name in kustomization["resources"]:
        yield from _documents(DEPLOYMENT / name)


def _find(kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in _applied() if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected exactly one {kind}/{name}, found {len(matches)}"
    return matches[0]


def _allows(role: dict[str, Any], group: str, resource: str, verb: str) -> bool:
    """Whether an RBAC Role's rules grant ``verb`` on ``group/resource`` (no resourceNames)."""
    return any(
        group in rule.get("apiGroups", [])
        and resource in rule.get("resources", [])
        and verb in rule.get("verbs", [])
        and not rule.get("resourceNames")
        for rule in role["rules"]
    )


def _roles_bound_to(service_account: str) -> list[dict[str, Any]]:
    roles: list[dict[str, Any]] = []
    for binding in (o for o in _applied() if o["kind"] == "RoleBinding"):
        subjects = binding.get("subjects", [])
        if any(
            s["kind"] == "ServiceAccount"
            and s["name"] == service_account
            and s.get("namespace") == NAMESPACE
            for s in subjects
        ):
            assert binding["roleRef"]["kind"] == "Role"
            roles.append(_find("Role", binding["roleRef"]["name"]))
    return roles


def _can(service_account: str, group: str, resource: str, verb: str) -> bool:
    return any(_allows(r, group, resource, verb) for r in _roles_bound_to(service_account))


@pytest.mark.parametrize("path", _manifest_files(), ids=lambda p: p.name)
def test_every_manifest_is_valid_kubernetes_in_strict_mode(path: Path) -> None:
    docs = _documents(path)
    assert docs, f"{path.name} holds no object"
    for doc in docs:
        # Raises on a schema violation, on an unknown field (strict), and on an unknown kind.
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_a_typo_in_a_manifest_is_caught_by_the_validation() -> None:
    sa = _find("ServiceAccount", "etl-workflow")
    typo = {**sa, "metadata": {**sa["metadata"], "anotations": sa["metadata"]["annotations"]}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(typo, KUBERNETES_VERSION, strict=True)


def test_kustomization_applies_every_manifest_but_the_secret_template() -> None:
    kustomization = yaml.safe_load((DEPLOYMENT / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization"
    assert kustomization["namespace"] == NAMESPACE
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in _manifest_files()}
    assert listed == on_disk - TEMPLATES
    assert not listed & TEMPLATES, "applying the template would overwrite the real DSN"


def test_every_object_lives_in_the_etl_namespace() -> None:
    for obj in _applied():
        if obj["kind"] == "Namespace":
            assert obj["metadata"]["name"] == NAMESPACE
        else:
            assert obj["metadata"]["namespace"] == NAMESPACE, obj["metadata"]["name"]


def test_workflow_pods_can_report_their_outputs_to_argo() -> None:
    # Without these the emissary's wait container fails every step with
    # `workflowtaskresults.argoproj.io is forbidden`.
    for verb in ("create", "patch"):
        assert _can("etl-workflow", "argoproj.io", "workflowtaskresults", verb)


def test_workflow_pods_get_no_more_than_the_executor_needs() -> None:
    for role in _roles_bound_to("etl-workflow"):
        for rule in role["rules"]:
            assert "*" not in rule["verbs"] and "*" not in rule["resources"]
    assert not _can("etl-workflow", "", "secrets", "get")
    assert not _can("etl-workflow", "argoproj.io", "workflows", "create")


def test_workflow_service_account_carries_the_workload_identity() -> None:
    sa = _find("ServiceAccount", "etl-workflow")
    client_id = sa["metadata"]["annotations"]["azure.workload.identity/client-id"]
    # A GUID shape: the documented all-zero placeholder, replaced by an overlay in a real cluster.
    assert [len(part) for part in client_id.split("-")] == [8, 4, 4, 4, 12]


def test_documented_overlay_patch_points_at_the_client_id() -> None:
    # kustomization.yaml shows the JSON patch an overlay uses to set the real client id; a wrong
    # pointer would make `kubectl apply -k overlay/` fail.
    text = (DEPLOYMENT / "kustomization.yaml").read_text()
    (pointer,) = [
        line.split("path:", 1)[1].strip() for line in text.splitlines() if "path:" in line
    ]
    node: Any = _find("ServiceAccount", "etl-workflow")
    for token in pointer.removeprefix("/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    assert node == "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(
    ("group", "resource", "verb"),
    [
        (group, resource, verb)
        for group, resource in [
            ("argoproj.io", "workflows"),
            ("argoproj.io", "cronworkflows"),
            ("argoproj.io", "workflowtemplates"),
        ]
        for verb in ("create", "get", "list", "watch", "update", "delete")
    ]
    + [
        ("argoproj.io", "workflows", "patch"),  # etl workflow stop
        ("", "pods", "get"),
        ("", "pods", "list"),
        ("", "pods", "watch"),
        ("", "pods", "delete"),  # etl workflow retry deletes the failed pods as the caller
        ("", "pods/log", "get"),  # etl workflow logs
    ],
)
def test_submitter_can_drive_workflows_through_the_argo_server(
    group: str, resource: str, verb: str
) -> None:
    assert _can("etl-submitter", group, resource, verb)


def test_submitter_cannot_read_secrets() -> None:
    assert not _can("etl-submitter", "", "secrets", "get")


def test_submitter_has_a_long_lived_token_secret() -> None:
    token = _find("Secret", "etl-submitter.service-account-token")
    assert token["type"] == "kubernetes.io/service-account-token"
    assert token["metadata"]["annotations"]["kubernetes.io/service-account.name"] == "etl-submitter"
    _find("ServiceAccount", "etl-submitter")


def test_pgstac_ingest_semaphore_allows_a_few_loaders_at_once() -> None:
    semaphores = _find("ConfigMap", "etl-semaphores")
    # Argo refuses to initialise a semaphore whose limit is not a positive integer.
    assert int(semaphores["data"]["pgstac-ingest"]) == 4


def test_secret_template_has_the_dsn_key_and_no_value() -> None:
    (secret,) = _documents(DEPLOYMENT / "secrets.example.yaml")
    kubernetes_validate.validate(secret, KUBERNETES_VERSION, strict=True)
    assert secret["metadata"]["name"] == "etl-secrets"
    assert secret["stringData"] == {"pgstac-dsn": ""}
