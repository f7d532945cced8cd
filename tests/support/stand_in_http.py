"""The request handler the stand-in servers (``argo_server``, ``kubernetes_api``, the Event Grid
topic, the webhook receiver) share: every HTTP method goes to the stand-in's ``_serve``, and no
access log clutters the test output; :func:`serving` runs a handler on a free local port."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
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

    def send_json(self, status: int, payload: Any) -> None:
        """Answer ``status`` with ``payload`` as a JSON body."""
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _serve(self) -> None:
        raise NotImplementedError


@contextmanager
def serving(
    handler: type[BaseHTTPRequestHandler], *, tls: tuple[Path, Path] | None = None
) -> Iterator[str]:
    """Serve ``handler`` on a free port of 127.0.0.1, in a thread, for the block's length; the
    server's base URL (``http://127.0.0.1:PORT``, or ``https://`` with ``tls``: the certificate
    and key files it presents)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    scheme = "http"
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
