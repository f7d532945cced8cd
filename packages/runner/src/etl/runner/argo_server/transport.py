"""HTTP to the Argo Server: one ``requests`` session, and its failures turned into etl's errors.

Hera's ``WorkflowsService`` and our own stream readers share one :class:`ArgoSession`. The session
raises :class:`ArgoHttpError` for every non-2xx answer *before* Hera sees it (Hera 7.1.0 raises a
``HeraException`` without a ``status_code`` for codes it does not know, such as 502/503), and
:func:`argo_errors` maps that, and connection failures, to one-line
:class:`~etl.core.errors.EtlError` messages in one place.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from etl.core.errors import EtlError, RemoteError
from etl.runner.workflow_status import WorkflowNotFoundError

__all__ = [
    "DEFAULT_TIMEOUT",
    "ArgoHttpError",
    "ArgoSession",
    "ArgoStreamError",
    "CronWorkflowNotFoundError",
    "argo_errors",
]

#: Seconds to connect, and to wait for the next bytes of an answer.
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)


class ArgoHttpError(Exception):
    """The Argo Server answered with a non-2xx status."""

    def __init__(self, status: int, message: str, url: str) -> None:
        self.status = status
        self.message = message
        self.url = url
        super().__init__(f"{status} {message} ({url})")


class ArgoStreamError(Exception):
    """A streaming answer was not the newline-delimited JSON the Argo Server sends."""


class CronWorkflowNotFoundError(RemoteError):
    """The Argo Server has no cron workflow of that name in the namespace."""

    def __init__(self, name: str, where: str) -> None:
        self.name = name
        super().__init__(f"cron workflow {name!r} not found in {where}", transient=False)


class ArgoSession(requests.Session):
    """A session with a default timeout that raises :class:`ArgoHttpError` on non-2xx answers."""

    def __init__(
        self, *, verify: bool | str = True, timeout: tuple[float, float] = DEFAULT_TIMEOUT
    ):
        super().__init__()
        self.verify = verify
        self.timeout = timeout

    def request(  # type: ignore[override]
        self, method: str | bytes, url: str | bytes, **kwargs: Any
    ) -> requests.Response:
        """Send the request; raise :class:`ArgoHttpError` unless the answer is 2xx."""
        kwargs.setdefault("timeout", self.timeout)
        response = super().request(method, url, **kwargs)
        if not response.ok:
            error = ArgoHttpError(response.status_code, _server_message(response), str(url))
            response.close()
            raise error
        return response


def _server_message(response: requests.Response) -> str:
    """The ``message`` of Argo's error body (``{"code", "message"}``), else the reason phrase."""
    try:
        body = response.json()
    except (json.JSONDecodeError, ValueError):
        body = None
    message = body.get("message") if isinstance(body, dict) else None
    text = str(message or response.reason or "no message")
    return " ".join(text.split())


@contextmanager
def argo_errors(
    server: str,
    *,
    namespace: str,
    name: str | None = None,
    kind: str = "workflow",
    service: str = "Argo Server",
) -> Iterator[None]:
    """Turn Argo Server and connection failures inside the block into one-line etl errors.

    Args:
        server: the server's base URL, named in messages about an unreachable or failing server.
        namespace: the namespace the request is about.
        name: the workflow the request is about, named when the server does not know it.
        kind: what ``name`` is: ``"workflow"`` or ``"cron workflow"``.
        service: what the server is, in messages (the Kubernetes API server shares this path).

    Raises:
        WorkflowNotFoundError: a 404 about workflow ``name``.
        CronWorkflowNotFoundError: a 404 about cron workflow ``name``.
        RemoteError: a refused token (401/403), a rejected request, a failing or unreachable server.
    """
    try:
        yield
    except ArgoHttpError as exc:
        raise _error_for_status(exc, server, namespace, name, kind, service=service) from None
    except ArgoStreamError as exc:
        raise RemoteError(f"the {service} at {server} sent an unreadable stream: {exc}") from None
    except requests.exceptions.SSLError as exc:
        raise RemoteError(
            f"TLS failed talking to the {service} at {server}: {_first_line(exc)}"
        ) from None
    except requests.ConnectionError as exc:
        raise RemoteError(
            f"cannot reach the {service} at {server}: {_reason(exc)}", transient=True
        ) from None
    except requests.Timeout:
        raise RemoteError(
            f"the {service} at {server} did not answer in time", transient=True
        ) from None
    except requests.RequestException as exc:
        message = f"request to the {service} at {server} failed: {_first_line(exc)}"
        raise RemoteError(message) from None


def _error_for_status(
    exc: ArgoHttpError, server: str, namespace: str, name: str | None, kind: str, *, service: str
) -> EtlError:
    if exc.status in (401, 403):
        return RemoteError(f"{service} refused the token ({exc.status}): {exc.message}")
    if exc.status == 404 and name is not None:
        where = f"namespace {namespace!r} on the {service} at {server}"
        if kind == "cron workflow":
            return CronWorkflowNotFoundError(name, where)
        return WorkflowNotFoundError(name, where)
    what = "failed" if exc.status >= 500 else "rejected the request"
    return RemoteError(
        f"the {service} at {server} {what} ({exc.status}): {exc.message}",
        transient=exc.status >= 500 or exc.status == 429,
    )


def _reason(exc: requests.ConnectionError) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "unknown host"
    return _first_line(exc)


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]
