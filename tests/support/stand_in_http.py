"""The request handler the stand-in servers (``argo_server``, ``kubernetes_api``) share: every
HTTP method goes to the stand-in's ``_serve``, and no access log clutters the test output."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any


class StandInHandler(BaseHTTPRequestHandler):
    """Routes GET, POST, PUT, PATCH and DELETE to :meth:`_serve`, which a stand-in defines."""

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        raise NotImplementedError
