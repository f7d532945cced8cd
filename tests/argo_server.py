"""A stand-in Argo Server for tests, held to Argo's official OpenAPI spec.

No real Argo or Kubernetes runs in this repository's tests. Instead, :class:`ArgoServerStandIn` is
a small threaded HTTP server on 127.0.0.1 that answers the Argo Server REST endpoints etl uses, and
checks every request against ``swagger.json`` (``api/openapi-spec/swagger.json`` of Argo Workflows
v4.1.2, see ``shared/argo/SOURCE.md``):

- the path template and method exist in the spec; query parameters are declared for the operation
  and have the declared type; a JSON body validates against the operation's request schema
  (``$ref``-s resolved within the spec) — anything else is a *violation*;
- ``Authorization: Bearer <token>`` matches the configured token, else 401 as Argo answers it;
- its own answers validate against the spec's response schemas too (a violation otherwise).

The ``argo_server`` fixture fails the test when any violation was recorded. Workflows move
Pending → Running → Succeeded/Failed/Error on a short clock (see :class:`RunPlan`); logs and events
are chunked newline-delimited JSON streams, with lines split across chunks as real servers do.

``tests/conftest.py`` registers this module as a plugin, so every test can ask for ``argo_server``.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from argo_server_workflows import FakeWorkflows, RunPlan, StandInError
from jsonschema import Draft4Validator

__all__ = [
    "ArgoServerStandIn",
    "ArgoSpec",
    "RecordedRequest",
    "RunPlan",
    "argo_server",
    "argo_spec",
    "swagger_path",
]

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "stand-in-token"
UNAUTHENTICATED = {
    "code": 16,
    "message": "token not valid. see https://argo-workflows.readthedocs.io/en/latest/faq/",
}


def swagger_path() -> Path:
    """``$ETL_ARGO_SWAGGER``, else ``<repo>/../shared/argo/swagger.json``."""
    return Path(os.environ.get("ETL_ARGO_SWAGGER") or ROOT.parent / "shared/argo/swagger.json")


@dataclass(frozen=True)
class _Operation:
    template: str
    method: str
    operation_id: str
    pattern: re.Pattern[str]
    query: dict[str, dict[str, Any]]
    body: Draft4Validator | None
    response: Draft4Validator
    streams: bool


class ArgoSpec:
    """The Argo Server's operations and schemas, read from its OpenAPI 2.0 ``swagger.json``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        spec = json.loads(path.read_text())
        definitions = spec["definitions"]
        # Kubernetes' IntOrString and Quantity unmarshal from a JSON string *or* number (k8s
        # apimachinery's UnmarshalJSON), though the generated spec declares them as strings.
        definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = {
            "type": ["string", "integer"]
        }
        definitions["io.k8s.apimachinery.pkg.api.resource.Quantity"] = {
            "type": ["string", "number"]
        }
        self._definitions = definitions
        self.error = self.validator({"$ref": "#/definitions/grpc.gateway.runtime.Error"})
        self.operations: list[_Operation] = []
        for template, item in spec["paths"].items():
            for method, op in item.items():
                if method == "parameters":
                    continue
                self.operations.append(self._operation(template, method.upper(), op))
        # The most literal template wins: /workflows/{namespace}/lint before /{namespace}/{name}.
        self.operations.sort(key=lambda op: (op.template.count("{"), op.template))

    def validator(self, schema: dict[str, Any]) -> Draft4Validator:
        """A validator for ``schema``, its ``#/definitions/...`` references resolved in the spec."""
        return Draft4Validator({**schema, "definitions": self._definitions})

    def _operation(self, template: str, method: str, op: dict[str, Any]) -> _Operation:
        params = op.get("parameters", [])
        body = next((p["schema"] for p in params if p["in"] == "body"), None)
        regex = re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template))
        response = op["responses"]["200"]["schema"]
        return _Operation(
            template=template,
            method=method,
            operation_id=op["operationId"],
            pattern=re.compile(f"^{regex}$"),
            query={p["name"]: p for p in params if p["in"] == "query"},
            body=self.validator(body) if body else None,
            response=self.validator(response),
            streams=str(response.get("title", "")).startswith("Stream result of"),
        )

    def match(self, method: str, path: str) -> tuple[_Operation | None, list[str], bool]:
        """The operation for ``method path``, its path arguments, and whether the path exists."""
        path_exists = False
        for op in self.operations:
            found = op.pattern.match(path)
            if not found:
                continue
            path_exists = True
            if op.method == method:
                return op, [unquote(part) for part in found.groups()], True
        return None, [], path_exists


@dataclass
class RecordedRequest:
    """One request the stand-in received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    operation: str | None


@dataclass
class _ScriptedFailure:
    status: int
    message: str
    operation: str | None
    times: int


@dataclass
class ArgoServerStandIn:
    """The stand-in server; start it with :meth:`start`, point clients at :attr:`url`."""

    spec: ArgoSpec
    token: str = TOKEN
    step_seconds: float = 0.1
    base_path: str = ""
    requests: list[RecordedRequest] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    workflows: FakeWorkflows = field(init=False)
    _failures: list[_ScriptedFailure] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _httpd: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self.workflows = FakeWorkflows(step_seconds=self.step_seconds)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, then :attr:`base_path` (the server's ``--basehref``)."""
        assert self._httpd is not None, "start() the stand-in first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}{self.base_path}"

    def start(self) -> None:
        """Listen on a free port of 127.0.0.1 and serve from a daemon thread."""
        handler = type("Handler", (_Handler,), {"stand_in": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True).start()

    def stop(self) -> None:
        """Stop serving and close the port."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def plan_next(self, plan: RunPlan) -> None:
        """How the next created (or retried) workflow runs; by default it Succeeds."""
        self.workflows.plans.append(plan)

    def fail_next(
        self,
        status: int,
        message: str = "scripted failure",
        *,
        operation: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests (for ``operation`` only, if given) with ``status``."""
        with self._lock:
            self._failures.append(_ScriptedFailure(status, message, operation, times))

    def operations(self) -> list[str]:
        """The operation ids of the requests received so far, in order."""
        with self._lock:
            return [r.operation or f"{r.method} {r.path}" for r in self.requests]

    def _take_failure(self, operation: str) -> _ScriptedFailure | None:
        with self._lock:
            for failure in self._failures:
                if failure.operation in (None, operation):
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                    return failure
        return None

    def _record(self, request: RecordedRequest, problems: list[str]) -> None:
        with self._lock:
            self.requests.append(request)
            self.violations.extend(f"{request.method} {request.path}: {p}" for p in problems)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    stand_in: ArgoServerStandIn

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        stand_in = self.stand_in
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = parts.path
        if path.startswith(stand_in.base_path):  # served under --basehref, as behind a proxy
            path = path[len(stand_in.base_path) :]
        elif stand_in.base_path:
            path = ""
        op, args, path_exists = stand_in.spec.match(self.command, path)
        problems: list[str] = []
        body = self._check_body(op, raw, problems) if op else None
        if op is None:
            what = "method not in the spec for this path" if path_exists else "path not in the spec"
            problems.append(what)
        else:
            problems.extend(_check_query(op, query))
        request = RecordedRequest(
            self.command,
            parts.path,
            query,
            dict(self.headers),
            body,
            op.operation_id if op else None,
        )
        stand_in._record(request, problems)
        if op is None:
            self._reply(404 if not path_exists else 405, {"code": 5, "message": "Not Found"})
            return
        if problems:
            self._reply(400, {"code": 3, "message": "; ".join(problems)})
            return
        if self.headers.get("Authorization") != f"Bearer {stand_in.token}":
            self._reply(401, UNAUTHENTICATED)
            return
        failure = stand_in._take_failure(op.operation_id)
        if failure is not None:
            self._reply(failure.status, {"code": 2, "message": failure.message})
            return
        self._dispatch(op, args, query, body)

    def _check_body(self, op: _Operation, raw: bytes, problems: list[str]) -> Any:
        if op.body is None:
            if raw:
                problems.append("a body for an operation that takes none")
            return None
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            problems.append(
                f"Content-Type {self.headers.get('Content-Type')!r}, not application/json"
            )
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            problems.append("body is not JSON")
            return None
        problems.extend(f"body: {_describe(e)}" for e in op.body.iter_errors(body))
        return body

    def _dispatch(
        self, op: _Operation, args: list[str], query: dict[str, list[str]], body: Any
    ) -> None:
        workflows = self.stand_in.workflows
        handlers: dict[str, Callable[[], Any]] = {
            "WorkflowService_CreateWorkflow": lambda: workflows.create(args[0], body),
            "WorkflowService_LintWorkflow": lambda: workflows.lint(args[0], body),
            "WorkflowService_GetWorkflow": lambda: workflows.get(args[0], args[1]),
            "WorkflowService_ListWorkflows": lambda: workflows.list(
                args[0], int(_first(query, "listOptions.limit") or 0)
            ),
            "WorkflowService_DeleteWorkflow": lambda: workflows.delete(args[0], args[1]),
            "WorkflowService_StopWorkflow": lambda: workflows.stop(args[0], args[1]),
            "WorkflowService_RetryWorkflow": lambda: workflows.retry(args[0], args[1]),
        }
        streams: dict[str, Callable[[], Iterator[dict[str, Any]]]] = {
            "WorkflowService_WatchWorkflows": lambda: workflows.events(
                args[0], _first(query, "listOptions.fieldSelector")
            ),
            "WorkflowService_WorkflowLogs": lambda: workflows.logs(
                args[0], args[1], follow=_first(query, "logOptions.follow") == "true"
            ),
        }
        try:
            if op.operation_id in streams:
                self._stream(op, streams[op.operation_id]())
            elif op.operation_id in handlers:
                self._reply(200, handlers[op.operation_id](), op.response)
            else:
                self._reply(501, {"code": 12, "message": f"stand-in has no {op.operation_id}"})
        except StandInError as exc:
            self._reply(exc.status, {"code": exc.code, "message": exc.message})

    def _reply(self, status: int, payload: Any, schema: Draft4Validator | None = None) -> None:
        self._check_answer(payload, schema or self.stand_in.spec.error)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, op: _Operation, results: Iterator[dict[str, Any]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for result in results:
                self._check_answer({"result": result}, op.response)
                line = json.dumps({"result": result}).encode() + b"\n"
                half = len(line) // 2  # split lines across chunks, as proxies and gateways do
                for chunk in (line[:half], line[half:]):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _check_answer(self, payload: Any, schema: Draft4Validator) -> None:
        problems = [f"stand-in answer: {_describe(e)}" for e in schema.iter_errors(payload)]
        if problems:
            with self.stand_in._lock:
                self.stand_in.violations.extend(problems)


def _check_query(op: _Operation, query: dict[str, list[str]]) -> list[str]:
    problems = []
    for name, values in query.items():
        declared = op.query.get(name)
        if declared is None:
            problems.append(f"query parameter {name!r} not in the spec")
            continue
        kind = declared.get("type")
        for value in values:
            if kind == "boolean" and value not in ("true", "false"):
                problems.append(f"query parameter {name}={value!r} is not a boolean")
            if kind == "integer" and not re.fullmatch(r"-?\d+", value):
                problems.append(f"query parameter {name}={value!r} is not an integer")
    return problems


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error.absolute_path) or "(root)"
    return f"{where}: {error.message[:200]}"


@pytest.fixture(scope="session")
def argo_spec() -> ArgoSpec:
    """The Argo Server OpenAPI spec, from ``$ETL_ARGO_SWAGGER`` or ``<repo>/../shared/argo/swagger.json``."""
    path = swagger_path()
    if not path.is_file():
        pytest.fail(f"Argo Server OpenAPI spec not found at {path}; set ETL_ARGO_SWAGGER")
    return ArgoSpec(path)


@pytest.fixture
def argo_server(argo_spec: ArgoSpec) -> Iterator[ArgoServerStandIn]:
    """A fresh stand-in Argo Server on 127.0.0.1, its requests checked against the spec.

    The spec is ``$ETL_ARGO_SWAGGER`` or ``<repo>/../shared/argo/swagger.json`` (Argo Workflows
    v4.1.2's ``api/openapi-spec/swagger.json``). The token is :data:`TOKEN`; the test fails if any
    request (or answer) broke the spec.
    """
    server = ArgoServerStandIn(argo_spec)
    server.start()
    yield server
    server.stop()
    assert not server.violations, "requests or answers off the Argo Server spec:\n" + "\n".join(
        server.violations
    )
