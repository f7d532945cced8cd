"""The Argo Server REST API the stand-in answers: its operations, parameters and schemas.

:meth:`ArgoApi.from_hera` reads it from packages the project depends on: the operations of Hera's
``WorkflowsService`` (``hera/workflows/service.py``, generated from Argo's OpenAPI spec: method, path
template, query parameters with their types, request and response models) and the strict schemas of
those models (``argo_schema``). Hera has no client for the workflow watch
(``GET /api/v1/workflow-events/{namespace}``, a stream of ``WorkflowWatchEvent``); it is declared
here with the list operation's query parameters, as Argo's spec declares it.

:meth:`ArgoApi.from_swagger` reads the same from an official ``swagger.json`` (``ETL_ARGO_SWAGGER``),
an extra check when one is at hand. Operations are named as Hera names its methods
(``create_workflow``), which is the swagger's ``operationId`` in snake case.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import typing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import unquote

from argo_schema import strict_schema
from hera.workflows import models, service
from jsonschema import Draft4Validator, Draft202012Validator
from jsonschema.protocols import Validator
from pydantic import BaseModel

__all__ = ["ArgoApi", "Operation"]

_QUERY_TYPES = {bool: "boolean", int: "integer", list: "array"}

S = TypeVar("S")


@dataclass(frozen=True)
class Operation(Generic[S]):
    """One REST operation: ``method template``, what its query and body may hold, what it answers;
    body and answer as ``S``: the validators the stand-in checks with, or the models Hera declares
    them with (:func:`_hera_operations`)."""

    name: str
    method: str
    template: str
    query: dict[str, str]
    body: S | None
    response: S
    streams: bool

    @property
    def pattern(self) -> re.Pattern[str]:
        """The regular expression of :attr:`template`, one group per path argument."""
        return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(self.template)) + "$")


class ArgoApi:
    """The operations of one description of the Argo Server API, and its error schema."""

    def __init__(self, source: str, operations: list[Operation], error: Validator) -> None:
        self.source = source
        self.error = error
        # The most literal template wins: /workflows/{namespace}/lint before /{namespace}/{name}.
        self.operations = sorted(operations, key=lambda op: (op.template.count("{"), op.template))
        self._patterns = [(op, op.pattern) for op in self.operations]

    def match(self, method: str, path: str) -> tuple[Operation | None, list[str], bool]:
        """The operation for ``method path``, its path arguments, and whether the path exists."""
        path_exists = False
        for op, pattern in self._patterns:
            found = pattern.match(path)
            if not found:
                continue
            path_exists = True
            if op.method == method:
                return op, [unquote(part) for part in found.groups()], True
        return None, [], path_exists

    @classmethod
    def from_hera(cls) -> ArgoApi:
        """The API as Hera's generated ``WorkflowsService`` and models describe it."""
        hera = _hera_operations()
        declared = [*hera, _watch_workflows(hera)]
        model_set = {m for d in declared for m in (d.body, d.response) if m is not None}
        all_models = (*sorted(model_set, key=lambda m: m.__name__), _ERROR)
        refs, schema = strict_schema(all_models)
        validators = {
            model: Draft202012Validator({**ref, **schema})
            for model, ref in zip(all_models, refs, strict=True)
        }
        operations = [
            replace(
                d,
                body=validators[d.body] if d.body else None,
                response=_streamed(validators[d.response], schema)
                if d.streams
                else validators[d.response],
            )
            for d in declared
        ]
        return cls("Hera's WorkflowsService", operations, validators[_ERROR])

    @classmethod
    def from_swagger(cls, path: Path) -> ArgoApi:
        """The API as an official Argo Server ``swagger.json`` (OpenAPI 2.0) describes it."""
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

        def validator(schema: dict[str, Any]) -> Validator:
            return Draft4Validator({**schema, "definitions": definitions})

        operations = []
        for template, item in spec["paths"].items():
            for method, op in item.items():
                if method == "parameters":
                    continue
                params = op.get("parameters", [])
                body = next((p["schema"] for p in params if p["in"] == "body"), None)
                response = op["responses"]["200"]["schema"]
                operations.append(
                    Operation(
                        name=_snake(op["operationId"].split("_", 1)[-1]),
                        method=method.upper(),
                        template=template,
                        query={p["name"]: p.get("type", "") for p in params if p["in"] == "query"},
                        body=validator(body) if body else None,
                        response=validator(response),
                        streams=str(response.get("title", "")).startswith("Stream result of"),
                    )
                )
        error = validator({"$ref": "#/definitions/grpc.gateway.runtime.Error"})
        return cls(str(path), operations, error)


_Declared = Operation[type[BaseModel]]
"""An operation as Hera declares it: its body and answer as model classes."""
_ERROR = models.Error


def _hera_operations() -> list[_Declared]:
    tree = ast.parse(inspect.getsource(service))
    (service_class,) = [
        node
        for node in tree.body
        if isinstance(node, ast.ClassDef) and node.name == service.WorkflowsService.__name__
    ]
    declared = []
    for node in service_class.body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        request = _request_call(node)
        if request is None:
            continue
        hints = typing.get_type_hints(getattr(service.WorkflowsService, node.name))
        response = hints.get("return")
        if not (inspect.isclass(response) and issubclass(response, BaseModel)):
            continue  # artifact downloads answer bytes, not JSON
        keywords = {kw.arg: kw.value for kw in request.keywords}
        template = "/" + _url_path(keywords["url"])
        query: dict[str, str] = {}
        if isinstance(keywords["params"], ast.Dict):
            for key, value in zip(keywords["params"].keys, keywords["params"].values, strict=True):
                assert isinstance(key, ast.Constant) and isinstance(value, ast.Name)
                query[key.value] = _query_type(hints[value.id])
        declared.append(
            Operation(
                name=node.name,
                method=ast.literal_eval(keywords["method"]).upper(),
                template=template,
                query=query,
                body=hints.get("req"),
                response=response,
                streams=template.endswith("/log"),
            )
        )
    return declared


def _watch_workflows(hera: list[_Declared]) -> _Declared:
    """The watch, which takes the list operation's ``listOptions`` and ``fields``."""
    (list_workflows,) = [d for d in hera if d.name == "list_workflows"]
    query = {
        name: kind
        for name, kind in list_workflows.query.items()
        if name.startswith("listOptions.") or name == "fields"
    }
    return Operation(
        name="watch_workflows",
        method="GET",
        template="/api/v1/workflow-events/{namespace}",
        query=query,
        body=None,
        response=models.WorkflowWatchEvent,
        streams=True,
    )


def _request_call(function: ast.FunctionDef) -> ast.Call | None:
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "_request"
        ):
            return node
    return None


def _url_path(url: ast.expr) -> str:
    """``api/v1/...`` of ``urljoin(self.host, "api/v1/...").format(...)``."""
    for node in ast.walk(url):
        if isinstance(node, ast.Constant) and str(node.value).startswith("api/"):
            return str(node.value)
    raise AssertionError(f"no api/ path in {ast.unparse(url)}")


def _query_type(hint: Any) -> str:
    (kind,) = [arg for arg in typing.get_args(hint) if arg is not type(None)] or [hint]
    return _QUERY_TYPES.get(typing.get_origin(kind) or kind, "string")


def _streamed(result: Validator, schema: dict[str, Any]) -> Validator:
    """A validator of one line of a stream: ``{"result": <what result validates>}``."""
    return Draft202012Validator(
        {
            "type": "object",
            "properties": {"result": result.schema},
            "required": ["result"],
            "additionalProperties": False,
            **schema,
        }
    )


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
