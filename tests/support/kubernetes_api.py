"""A stand-in Kubernetes API server for tests, held to what etl's KEDA calls must be.

No Kubernetes or KEDA runs in this repository's tests. :class:`KubernetesStandIn` is a small
threaded HTTP server on 127.0.0.1 that holds KEDA objects (``ScaledJob``,
``TriggerAuthentication`` of ``keda.sh/v1alpha1``) and checks every request; anything off is a
*violation*, and the ``kubernetes_api`` fixture fails the test when one was recorded:

- the path is ``/apis/keda.sh/v1alpha1/namespaces/NS/{scaledjobs|triggerauthentications}/NAME``
  and the method ``PATCH`` (server-side apply) or ``DELETE``;
- ``Authorization: Bearer`` carries :data:`TOKEN` (else 401, as the API server answers);
- a ``PATCH`` has ``Content-Type: application/apply-patch+yaml``, ``fieldManager=etl`` and
  ``fieldValidation=Strict``, and its body (YAML) names the same kind, name and namespace as its
  path and validates against KEDA's CRD schema kept in the repository
  (``etl.argo.compiling.keda_schema``); it answers 201 when it creates, 200 when it updates;
- a ``DELETE`` answers 200, or 404 with a ``Status`` when there is no such object.

:meth:`KubernetesStandIn.fail_next` scripts failures (403, 503, ...) with Kubernetes' ``Status``
body.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from stand_in_http import StandInHandler

from etl.argo.compiling.keda_schema import manifest_errors

__all__ = ["TOKEN", "KubernetesStandIn", "kubernetes_api"]

TOKEN = "stand-in-kubernetes-token"
_PATH = re.compile(
    r"^/apis/keda\.sh/v1alpha1/namespaces/(?P<ns>[a-z0-9-]+)/"
    r"(?P<plural>scaledjobs|triggerauthentications)/(?P<name>[a-z0-9.-]+)$"
)
_KINDS = {"scaledjobs": "ScaledJob", "triggerauthentications": "TriggerAuthentication"}


@dataclass
class KubernetesStandIn:
    """The stand-in; :attr:`objects` maps ``(plural, namespace, name)`` to the object held."""

    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    _failures: list[list[Any]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        stand_in = self

        class Handler(_Handler):
            owner = stand_in

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, status: int, message: str, times: int = 1) -> None:
        """Answer the next ``times`` requests with ``status`` and a ``Status`` saying ``message``."""
        self._failures.append([status, message, times])

    def take_failure(self) -> tuple[int, str] | None:
        with self._lock:
            if not self._failures:
                return None
            failure = self._failures[0]
            failure[2] -= 1
            if failure[2] == 0:
                self._failures.pop(0)
            return failure[0], failure[1]


class _Handler(StandInHandler):
    owner: KubernetesStandIn

    def _serve(self) -> None:
        owner = self.owner
        split = urlsplit(self.path)
        query = parse_qs(split.query)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        owner.requests.append((self.command, split.path))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._status(401, "Unauthorized")
        found = _PATH.match(split.path)
        if found is None or self.command not in ("PATCH", "DELETE"):
            owner.violations.append(f"{self.command} {split.path}: not a call etl makes")
            return self._status(404, "the server could not find the requested resource")
        failure = owner.take_failure()
        if failure is not None:
            return self._status(*failure)
        key = (found["plural"], found["ns"], found["name"])
        if self.command == "DELETE":
            if owner.objects.pop(key, None) is None:
                return self._status(404, f'{found["plural"]}.keda.sh "{found["name"]}" not found')
            return self._status(200, "Success")
        problems = _patch_problems(self.headers, query, raw, found)
        if problems:
            owner.violations += [f"PATCH {split.path}: {problem}" for problem in problems]
            return self._status(422, "; ".join(problems))
        created = key not in owner.objects
        owner.objects[key] = yaml.safe_load(raw)
        self.send_json(201 if created else 200, owner.objects[key])

    def _status(self, code: int, message: str) -> None:
        status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code}
        self.send_json(code, {**status, "message": message})


def _patch_problems(
    headers: Any, query: dict[str, list[str]], raw: bytes, found: re.Match[str]
) -> list[str]:
    problems = []
    if headers.get("Content-Type") != "application/apply-patch+yaml":
        problems.append(f"Content-Type {headers.get('Content-Type')!r} is no server-side apply")
    if query.get("fieldManager") != ["etl"]:
        problems.append(f"fieldManager {query.get('fieldManager')} is not ['etl']")
    if query.get("fieldValidation") != ["Strict"]:
        problems.append(f"fieldValidation {query.get('fieldValidation')} is not ['Strict']")
    try:
        body = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        return [*problems, f"body is no YAML: {exc}"]
    problems += manifest_errors(body)
    if isinstance(body, dict):
        meta = body.get("metadata") or {}
        said = (body.get("kind"), meta.get("namespace"), meta.get("name"))
        path = (_KINDS[found["plural"]], found["ns"], found["name"])
        if said != path:
            problems.append(f"body names {said}, the path {path}")
    return problems


@pytest.fixture
def kubernetes_api() -> Iterator[KubernetesStandIn]:
    """A fresh stand-in Kubernetes API server; the test fails if any request broke the rules."""
    server = KubernetesStandIn()
    server.start()
    yield server
    server.stop()
    assert not server.violations, "requests off the Kubernetes API:\n" + "\n".join(
        server.violations
    )
