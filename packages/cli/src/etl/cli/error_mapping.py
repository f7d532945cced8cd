"""The one place where exceptions become exit codes and one-line messages on stderr.

    EtlError               error: <message>                     its exit_code (2 input, 1 run)
                           (an OptionError names its --flag)
    usage errors (typer)   error: <message> (see 'etl X --help')  2
    anything else          error: internal error: <type>: <message>  1

A traceback is printed (before the line) only with ``--verbose``.
"""

from __future__ import annotations

import sys
import traceback

import typer

from etl.core.errors import EtlError, OptionError

__all__ = ["exit_code_for"]


def exit_code_for(exc: BaseException, *, verbose: bool = False) -> int:
    """Report ``exc`` on stderr as one line and return the exit code the process ends with."""
    if verbose:
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, EtlError):
        _say(exc.flag_message if isinstance(exc, OptionError) else str(exc))
        return exc.exit_code
    if isinstance(exc, typer.TyperException):
        command = getattr(getattr(exc, "ctx", None), "command_path", None)
        hint = f" (see '{command} --help')" if command else ""
        _say(f"{exc.format_message()}{hint}")
        return 2
    if isinstance(exc, (KeyboardInterrupt, typer.Abort)):
        _say("interrupted")
        return 1
    _say(f"internal error: {type(exc).__name__}: {exc}")
    return 1


def _say(message: str) -> None:
    one_line = " ".join(message.split())
    print(f"error: {one_line}", file=sys.stderr, flush=True)
