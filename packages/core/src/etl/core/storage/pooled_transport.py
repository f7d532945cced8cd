"""An HTTP transport for the storage SDK's pipeline straight on ``urllib3``'s connection pools.

The SDK's default transport sends each request through a ``requests`` session: per request it
merges the session's settings, prepares the request again, picks a proxy and an adapter, and wraps
the answer twice, before and after ``urllib3`` (which does the HTTP). For a queue message delete
that was about a third of the request's CPU, and the stream's consumer deletes every message on
its own request (the queue service has no batch delete). :class:`PooledTransport` hands each
request to one ``urllib3`` pool manager made once per client, with what ``requests`` would have
used: the environment's proxy for the client's host (its credentials as ``Proxy-Authorization``),
the CA bundle (the environment's, else ``requests``' own), the profile's connect and read
timeouts, no redirects and no retries of its own (the pipeline's retry policy retries). Its errors
are the SDK's: no connection (or the proxy refused it) is a ``ServiceRequestError``, a timeout
``Service{Request,Response}TimeoutError``, a connection lost mid-answer a ``ServiceResponseError``;
the retry policy retries all of them.

Each answer is read whole before it is returned (a queue's answers are small), so asked to
stream it gives the same bytes, already read.
"""

from __future__ import annotations

import os
from typing import Any

import urllib3
from azure.core.exceptions import (
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest import HttpRequest, HttpResponse
from azure.core.rest._http_response_impl import HttpResponseImpl
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)

__all__ = ["PooledTransport"]

CONNECTIONS = 16
"""Connections kept open per host: more than a consumer's threads that send at once."""


class PooledTransport(HttpTransport[HttpRequest, HttpResponse]):
    """Sends a client's requests on pooled ``urllib3`` connections (thread-safe)."""

    def __init__(
        self,
        *,
        connect: float,
        read: float,
        proxy: str | None = None,
        ca_bundle: str | None = None,
    ) -> None:
        from requests.utils import DEFAULT_CA_BUNDLE_PATH

        bundle = ca_bundle or DEFAULT_CA_BUNDLE_PATH
        where = {"ca_cert_dir": bundle} if os.path.isdir(bundle) else {"ca_certs": bundle}
        options: dict[str, Any] = {
            "maxsize": CONNECTIONS,
            "cert_reqs": "CERT_REQUIRED",
            "retries": False,
            **where,
        }
        self._timeout = (connect, read)
        self._pool: urllib3.PoolManager
        if proxy is None:
            self._pool = urllib3.PoolManager(**options)
        else:
            auth = urllib3.util.parse_url(proxy).auth
            headers = urllib3.util.make_headers(proxy_basic_auth=auth) if auth else None
            self._pool = urllib3.ProxyManager(proxy, proxy_headers=headers, **options)

    def __enter__(self) -> PooledTransport:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    def open(self) -> None:
        """Nothing to open: connections are made as requests need them."""

    def close(self) -> None:
        """Close the pooled connections."""
        self._pool.clear()

    def send(
        self,
        request: HttpRequest,
        *,
        stream: bool = False,
        connection_timeout: float | None = None,
        read_timeout: float | None = None,
        **unknown: Any,
    ) -> HttpResponseImpl:
        """Send ``request``; its answer, read whole (``stream`` or not).

        Raises:
            ServiceRequestError: No connection (a refused proxy, a TLS failure included).
            ServiceRequestTimeoutError: The connection was not made in time.
            ServiceResponseTimeoutError: The answer did not come in time.
            ServiceResponseError: The connection was lost before the whole answer came.
        """
        if unknown:
            raise TypeError(f"PooledTransport.send: unexpected options {sorted(unknown)}")
        timeout = urllib3.Timeout(
            connect=connection_timeout or self._timeout[0], read=read_timeout or self._timeout[1]
        )
        try:
            answer = self._pool.urlopen(
                request.method,
                request.url,
                body=request.content,
                headers=request.headers,
                redirect=False,
                retries=False,
                timeout=timeout,
                preload_content=True,
            )
        except (NewConnectionError, ProxyError, SSLError) as exc:
            raise ServiceRequestError(exc, error=exc) from exc
        except ConnectTimeoutError as exc:
            raise ServiceRequestTimeoutError(exc, error=exc) from exc
        except ReadTimeoutError as exc:
            raise ServiceResponseTimeoutError(exc, error=exc) from exc
        except HTTPError as exc:  # the connection lost mid-answer (ProtocolError), ...
            raise ServiceResponseError(exc, error=exc) from exc
        response = HttpResponseImpl(
            request=request,
            internal_response=answer,
            status_code=answer.status,
            reason=answer.reason or "",
            headers=answer.headers,
            content_type=answer.headers.get("Content-Type"),
            stream_download_generator=lambda pipeline, response, **kwargs: iter((answer.data,)),
        )
        response.read()  # already in memory (the connection is back in its pool): no I/O
        return response
