"""A stand-in Argo Server for tests, held to the Argo Server's REST API.

No real Argo or Kubernetes runs in this repository's tests. Instead, :class:`ArgoServerStandIn` is
a small threaded HTTP server on 127.0.0.1 that answers the Argo Server REST endpoints etl uses, and
checks every request against the API as ``argo_api`` describes it (Hera's generated service and
models, derived from Argo's OpenAPI spec; also an official ``swagger.json`` where
``ETL_ARGO_SWAGGER`` names one):

- the path template and method exist; query parameters are declared for the operation and have the
  declared type; a JSON body validates against the operation's strict request schema — anything
  else is a *violation*;
- ``Authorization: Bearer <token>`` matches the configured token, else 401 as Argo answers it;
- its own answers validate against the response schemas too (a violation otherwise).

The ``argo_server`` fixture fails the test when any violation was recorded. Workflows move
Pending → Running → Succeeded/Failed/Error on a short clock (see :class:`RunPlan`); logs and events
are chunked newline-delimited JSON streams, with lines split across chunks as real servers do.
Cron workflows are created, listed, read, updated and deleted as Kubernetes objects (see
``FakeCronWorkflows``); ``GET /api/v1/version`` answers :attr:`ArgoServerStandIn.version`
(``v3.6.2`` unless a test sets another).

``tests/conftest.py`` registers this module as a plugin, so every test can ask for ``argo_server``.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from argo_api import ArgoApi, Operation
from argo_server_workflows import FakeCronWorkflows, FakeWorkflows, RunPlan, StandInError
from stand_in_http import StandInHandler

__all__ = ["ArgoServerStandIn", "RecordedRequest", "RunPlan", "argo_apis", "argo_server"]

TOKEN = "stand-in-token"
VERSION = "v3.6.2"
UNAUTHENTICATED = {
    "code": 16,
    "message": "token not valid. see https://argo-workflows.readthedocs.io/en/latest/faq/",
}


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
    """The stand-in server; start it with :meth:`start`, point clients at :attr:`url`.

    Requests are answered by the operations of ``apis[0]`` and checked against every one of
    ``apis``; operations are named as Hera names them (``create_workflow``).
    """

    apis: tuple[ArgoApi, ...]
    token: str = TOKEN
    step_seconds: float = 0.1
    base_path: str = ""
    version: str = VERSION
    requests: list[RecordedRequest] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    workflows: FakeWorkflows = field(init=False)
    crons: FakeCronWorkflows = field(default_factory=FakeCronWorkflows)
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


class _Handler(StandInHandler):
    protocol_version = "HTTP/1.1"
    stand_in: ArgoServerStandIn

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
        op, args, path_exists = stand_in.apis[0].match(self.command, path)
        body, problems = self._parse_body(raw)
        for api in stand_in.apis:
            problems.extend(
                _check_request(api, self.command, path, query=query, body=body, raw=raw)
            )
        request = RecordedRequest(
            self.command, parts.path, query, dict(self.headers), body, op.name if op else None
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
        failure = stand_in._take_failure(op.name)
        if failure is not None:
            self._reply(failure.status, {"code": 2, "message": failure.message})
            return
        self._dispatch(op, args, query, body)

    def _parse_body(self, raw: bytes) -> tuple[Any, list[str]]:
        if not raw:
            return None, []
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            return None, [
                f"Content-Type {self.headers.get('Content-Type')!r}, not application/json"
            ]
        try:
            return json.loads(raw), []
        except ValueError:
            return None, ["body is not JSON"]

    def _dispatch(
        self, op: Operation, args: list[str], query: dict[str, list[str]], body: Any
    ) -> None:
        workflows = self.stand_in.workflows
        crons = self.stand_in.crons
        handlers: dict[str, Callable[[], Any]] = {
            "get_version": lambda: _version_answer(self.stand_in.version),
            "create_cron_workflow": lambda: crons.create(args[0], body),
            "list_cron_workflows": lambda: crons.list(args[0]),
            "get_cron_workflow": lambda: crons.get(args[0], args[1]),
            "update_cron_workflow": lambda: crons.update(args[0], args[1], body),
            "delete_cron_workflow": lambda: crons.delete(args[0], args[1]),
            "create_workflow": lambda: workflows.create(args[0], body),
            "lint_workflow": lambda: workflows.lint(args[0], body),
            "get_workflow": lambda: workflows.get(args[0], args[1]),
            "list_workflows": lambda: workflows.list(
                args[0], int(_first(query, "listOptions.limit") or 0)
            ),
            "delete_workflow": lambda: workflows.delete(args[0], args[1]),
            "stop_workflow": lambda: workflows.stop(args[0], args[1]),
            "retry_workflow": lambda: workflows.retry(args[0], args[1]),
        }
        streams: dict[str, Callable[[], Iterator[dict[str, Any]]]] = {
            "watch_workflows": lambda: workflows.events(
                args[0], _first(query, "listOptions.fieldSelector")
            ),
            "workflow_logs": lambda: workflows.logs(
                args[0], args[1], follow=_first(query, "logOptions.follow") == "true"
            ),
        }
        try:
            if op.name in streams:
                self._stream(op, streams[op.name]())
            elif op.name in handlers:
                self._reply(200, handlers[op.name](), op)
            else:
                self._reply(501, {"code": 12, "message": f"stand-in has no {op.name}"})
        except StandInError as exc:
            self._reply(exc.status, {"code": exc.code, "message": exc.message})

    def _reply(self, status: int, payload: Any, op: Operation | None = None) -> None:
        self._check_answer(payload, op)
        self.send_json(status, payload)

    def _stream(self, op: Operation, results: Iterator[dict[str, Any]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for result in results:
                self._check_answer({"result": result}, op)
                line = json.dumps({"result": result}).encode() + b"\n"
                half = len(line) // 2  # split lines across chunks, as proxies and gateways do
                for chunk in (line[:half], line[half:]):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _check_answer(self, payload: Any, op: Operation | None) -> None:
        """Check an answer: ``op``'s response in every API, or the error schema if ``op`` is None."""
        problems = []
        for api in self.stand_in.apis:
            schema = api.error
            if op is not None:
                (same,) = [candidate for candidate in api.operations if candidate.name == op.name]
                schema = same.response
            problems.extend(
                f"stand-in answer ({api.source}): {_describe(e)}"
                for e in schema.iter_errors(payload)
            )
        if problems:
            with self.stand_in._lock:
                self.stand_in.violations.extend(problems)


def _check_request(
    api: ArgoApi,
    method: str,
    path: str,
    *,
    query: dict[str, list[str]],
    body: Any,
    raw: bytes,
) -> list[str]:
    """What in one request breaks ``api``: path, method, query parameters and body."""
    op, _, path_exists = api.match(method, path)
    where = f"({api.source}) "
    if op is None:
        return [
            where
            + ("method not in the API for this path" if path_exists else "path not in the API")
        ]
    problems = [where + problem for problem in _check_query(op, query)]
    if op.body is None and raw:
        problems.append(where + "a body for an operation that takes none")
    if op.body is not None:
        problems.extend(f"{where}body: {_describe(e)}" for e in op.body.iter_errors(body))
    return problems


def _check_query(op: Operation, query: dict[str, list[str]]) -> list[str]:
    problems = []
    for name, values in query.items():
        kind = op.query.get(name)
        if kind is None:
            problems.append(f"query parameter {name!r} not declared for {op.name}")
            continue
        for value in values:
            if kind == "boolean" and value not in ("true", "false"):
                problems.append(f"query parameter {name}={value!r} is not a boolean")
            if kind == "integer" and not re.fullmatch(r"-?\d+", value):
                problems.append(f"query parameter {name}={value!r} is not an integer")
    return problems


def _version_answer(version: str) -> dict[str, str]:
    """``GET /api/v1/version``, as an Argo Server of ``version`` answers it."""
    return {
        "version": version,
        "buildDate": "2024-12-01T00:00:00Z",
        "gitCommit": "0" * 40,
        "gitTag": version,
        "gitTreeState": "clean",
        "goVersion": "go1.23.4",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error.absolute_path) or "(root)"
    return f"{where}: {error.message[:200]}"


@pytest.fixture(scope="session")
def argo_apis() -> tuple[ArgoApi, ...]:
    """The API from Hera, then the official ``swagger.json`` that ``$ETL_ARGO_SWAGGER`` names."""
    swagger = os.environ.get("ETL_ARGO_SWAGGER")
    extra = (ArgoApi.from_swagger(Path(swagger)),) if swagger else ()
    return (ArgoApi.from_hera(), *extra)


@pytest.fixture
def argo_server(argo_apis: tuple[ArgoApi, ...]) -> Iterator[ArgoServerStandIn]:
    """A fresh stand-in Argo Server on 127.0.0.1, every request and answer checked against the API.

    The token is :data:`TOKEN`; the test fails if any request (or answer) broke the API.
    """
    server = ArgoServerStandIn(argo_apis)
    server.start()
    yield server
    server.stop()
    assert not server.violations, "requests or answers off the Argo Server API:\n" + "\n".join(
        server.violations
    )


STAND_IN_PROFILE = (
    "--runner", "argo", "--namespace", "ci", "--set", "pgstac.dsn_secret=pgstac-dsn",
)  # fmt: skip
"""``etl profile create`` options of any profile on the stand-in (``--argo-server`` added)."""
IMAGE_SETTING = ("--set", "workflow.image=ghcr.io/example/etl-task:1")
ARGO_PROFILE = (*STAND_IN_PROFILE, *IMAGE_SETTING)
"""``etl profile create`` options of a profile on the stand-in with an image."""


@pytest.fixture
def argo_env(
    config_dir: Path,
    argo_server: ArgoServerStandIn,
    azurite_connection_string: str,
    azurite_container: str,
) -> dict[str, str]:
    """Profile ``prod`` on the stand-in Argo Server (namespace ``ci``), its code storage in an
    Azurite container; the environment ``etl`` runs with (``ETL_ARGO_TOKEN`` set)."""
    return stand_in_profile(
        argo_server,
        f"blob://devstoreaccount1/{azurite_container}/code",
        *IMAGE_SETTING,
        "--set", f"storage.devstoreaccount1.connection_string={azurite_connection_string}",
    )  # fmt: skip


def stand_in_profile(
    argo_server: ArgoServerStandIn, code_storage: str, *settings: str
) -> dict[str, str]:
    """``etl profile create prod`` on the stand-in (namespace ``ci``, the PgSTAC DSN in the
    secret ``pgstac-dsn``), its bundles in ``code_storage``, ``settings`` added; the environment
    ``etl`` runs with (``ETL_ARGO_TOKEN`` set)."""
    from etl_cli import run_etl

    env = dict(os.environ, ETL_ARGO_TOKEN=TOKEN)
    created = run_etl(
        "profile", "create", "prod", "--argo-server", argo_server.url, *STAND_IN_PROFILE,
        "--set", f"workflow.code_storage={code_storage}", *settings, env=env,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    return env
