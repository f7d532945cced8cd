"""Run ``etl serve``: check PgSTAC, bind the port, print the URLs, record them, serve until
stopped (Ctrl-C or SIGTERM end it cleanly and remove the record)."""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from types import FrameType

from etl.core.errors import InputError, RemoteError
from etl.core.serve_address import record_server
from etl.pgstac.session import connect_pgstac
from etl.serve.app import ServeContext, serve_app

__all__ = ["Announce", "serve"]

Announce = Callable[[str, str | None], None]
"""Told the page's URL and the STAC API's (``None`` without it) once the port is bound."""


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InputError(
            f"--host {host} --port {port}: cannot listen there: {exc.strerror}"
        ) from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _check_pgstac(dsn: str) -> None:
    with connect_pgstac(dsn) as conn:
        found = conn.execute("SELECT to_regclass('pgstac.collections')").fetchone()
    if not found or found[0] is None:
        raise RemoteError("the profile's database has no PgSTAC schema (pypgstac migrate)")


def serve(context: ServeContext, host: str, port: int, announce: Announce) -> None:
    """Serve ``context``'s pages (and STAC API) on ``host:port`` (``0``: any free port) until
    stopped; ``announce`` is told the URLs first.

    Raises:
        RemoteError: PgSTAC cannot be reached or is not migrated.
        InputError: the address cannot be listened on.
    """
    import uvicorn

    # stac-fastapi warns at import that its module-level defaults name no API title.
    logging.getLogger("stac_fastapi.types.config").setLevel(logging.ERROR)
    from etl.serve.stac_api import STAC_PATH

    _check_pgstac(context.dsn)
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    base = f"http://[{host}]:{bound}" if ":" in host else f"http://{host}:{bound}"
    url = f"{base}/"
    if context.api:
        context.stac_url = f"{base}{STAC_PATH}"
    announce(url, context.stac_url if context.api else None)
    print("read-only; Ctrl-C stops it", file=sys.stderr, flush=True)
    config = uvicorn.Config(serve_app(context), log_level="warning", access_log=False)
    with record_server(context.profile.name, url), _stopped_by_signals():
        uvicorn.Server(config).run(sockets=[sock])


class _StopSignalError(Exception):
    """SIGINT or SIGTERM asked the server to stop."""


@contextlib.contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """End the block when SIGINT or SIGTERM arrives, by raising :class:`_StopSignalError` (caught here).

    uvicorn shuts down on either signal, then raises it again with the handlers it found in
    place, which are these: the record of the server is removed and the command exits 0.
    """

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _StopSignalError

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except _StopSignalError:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
