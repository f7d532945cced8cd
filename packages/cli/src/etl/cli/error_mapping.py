"""The one place where exceptions become exit codes and one-line messages on stderr.

    EtlError               error: <message>                     its exit_code (2 input, 1 run)
                           (an OptionError names its --flag)
    usage errors (typer)   error: <message> (see 'etl X --help')  2
    Ctrl-C                 error: interrupted                    130
    anything else          error: internal error: <type>: <message>  1

A command line that asked for JSON (``-o json``) gets the error as one JSON object on stderr
instead, with the same exit code (:func:`error_json`)::

    {"error": {"message": ..., "exit_code": 2, "transient": false,
               "location": {"file": ..., "line": ..., "column": ..., "field": ...}}}

``location`` is there only for an error located in a file (a :class:`~etl.core.errors.ConfigError`).
A traceback is printed (before the line) only with ``--verbose``.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any

import typer

from etl.core.errors import ConfigError, EtlError, OptionError

__all__ = ["INTERRUPTED", "error_json", "exit_code_for"]

INTERRUPTED = 130
"""The exit code of a command stopped by Ctrl-C (SIGINT), as shells report 128 + 2."""


def exit_code_for(exc: BaseException, *, verbose: bool = False, as_json: bool = False) -> int:
    """Report ``exc`` on stderr (one line, or with ``as_json`` one JSON object) and return the
    exit code the process ends with."""
    if verbose:
        traceback.print_exception(exc, file=sys.stderr)
    message, code = _message_and_code(exc)
    if as_json:
        print(json.dumps(error_json(exc, message, code)), file=sys.stderr, flush=True)
    else:
        print(f"error: {' '.join(message.split())}", file=sys.stderr, flush=True)
    return code


def error_json(exc: BaseException, message: str, exit_code: int) -> dict[str, Any]:
    """The ``{"error": {...}}`` object an error is under ``-o json``."""
    error: dict[str, Any] = {
        "message": " ".join(message.split()),
        "exit_code": exit_code,
        "transient": isinstance(exc, EtlError) and exc.transient,
    }
    if isinstance(exc, ConfigError) and (exc.location is not None or exc.field):
        where = exc.location
        error["location"] = {
            "file": str(where.path) if where else None,
            "line": where.line if where else None,
            "column": where.column if where else None,
            "field": exc.field,
        }
    return {"error": error}


def _message_and_code(exc: BaseException) -> tuple[str, int]:
    if isinstance(exc, EtlError):
        return (exc.flag_message if isinstance(exc, OptionError) else str(exc)), exc.exit_code
    if isinstance(exc, typer.TyperException):
        command = getattr(getattr(exc, "ctx", None), "command_path", None)
        hint = f" (see '{command} --help')" if command else ""
        return f"{exc.format_message()}{hint}", 2
    if isinstance(exc, (KeyboardInterrupt, typer.Abort)):
        return "interrupted", INTERRUPTED
    return f"internal error: {type(exc).__name__}: {exc}", 1
