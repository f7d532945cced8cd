"""Readers for the Argo Server's streaming endpoints (workflow logs and workflow events).

These fill two gaps of Hera 7.1.0's ``WorkflowsService``:

- ``workflow_logs()`` parses the whole answer as *one* JSON object, so it fails on the real
  ``/log`` answer, a newline-delimited stream of ``{"result": {"content", "podName"}}`` objects
  (one per line), and it cannot follow a running workflow;
- it has no watch at all; the server streams ``{"result": {"type", "object"}}`` workflow events
  from ``/api/v1/workflow-events/{namespace}``.

Both are grpc-gateway streams: each line is ``{"result": ...}`` or ``{"error": {"http_code",
"message", ...}}``. Lines are read as they arrive, however the server chunks them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, urljoin

from etl.runner.argo_server.transport import ArgoHttpError, ArgoSession, ArgoStreamError
from etl.runner.workflow_status import LogLine

__all__ = ["iter_workflow_events", "iter_workflow_logs", "stream_results"]


def stream_results(
    session: ArgoSession,
    url: str,
    *,
    params: Mapping[str, str],
    headers: Mapping[str, str],
    read_timeout: float | None,
) -> Iterator[dict[str, Any]]:
    """Yield the ``result`` of each line of a grpc-gateway stream, as the lines arrive.

    Raises:
        ArgoHttpError: the server refused the request, or sent an ``error`` line.
        ArgoStreamError: a line is not a JSON object.
    """
    timeout = (session.timeout[0], read_timeout)
    with session.get(
        url, params=dict(params), headers=dict(headers), stream=True, timeout=timeout
    ) as response:
        for line in response.iter_lines():
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except ValueError:
                raise ArgoStreamError(f"not a JSON line from {url}: {line[:80]!r}") from None
            if not isinstance(message, dict):
                raise ArgoStreamError(f"not a JSON object from {url}: {line[:80]!r}")
            error = message.get("error")
            if error:
                raise ArgoHttpError(
                    int(error.get("http_code") or 500), str(error.get("message", "")), url
                )
            result = message.get("result")
            if isinstance(result, dict):
                yield result


def iter_workflow_logs(
    session: ArgoSession,
    base_url: str,
    headers: Mapping[str, str],
    *,
    namespace: str,
    name: str,
    follow: bool,
) -> Iterator[LogLine]:
    """The ``main`` containers' log lines of workflow ``name``; ``follow`` waits for more."""
    url = urljoin(base_url, f"api/v1/workflows/{quote(namespace)}/{quote(name)}/log")
    params = {"logOptions.container": "main", "logOptions.follow": "true" if follow else "false"}
    # A followed pod may stay silent for long; only an unfollowed read gets a read timeout.
    read_timeout = None if follow else session.timeout[1]
    for entry in stream_results(
        session, url, params=params, headers=headers, read_timeout=read_timeout
    ):
        yield LogLine(pod=str(entry.get("podName", "")), content=str(entry.get("content", "")))


def iter_workflow_events(
    session: ArgoSession,
    base_url: str,
    headers: Mapping[str, str],
    *,
    namespace: str,
    name: str,
) -> Iterator[dict[str, Any]]:
    """The workflow object of each event about workflow ``name``, as the server sends them."""
    url = urljoin(base_url, f"api/v1/workflow-events/{quote(namespace)}")
    params = {"listOptions.fieldSelector": f"metadata.name={name}"}
    for event in stream_results(
        session, url, params=params, headers=headers, read_timeout=session.timeout[1]
    ):
        workflow = event.get("object")
        if isinstance(workflow, dict):
            yield workflow
