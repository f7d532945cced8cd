"""Logging for etl's entry points (``etl`` and ``etl-task``): one call, at start-up.

Without it Python prints every library warning through its last-resort handler, and the Azure SDK
warns in blocks of a dozen lines (``DefaultAzureCredential`` lists each credential it tried, once
per attempt) that say what etl's own error already says in one line. So the ``azure`` loggers
are quiet below ``ERROR`` unless verbose; everything else logs warnings (``-v``: debug) to stderr.
"""

from __future__ import annotations

import logging
import sys

__all__ = ["configure_logging"]

_HANDLER = "etl-stderr"
_QUIET_UNLESS_VERBOSE = ("azure",)
"""Loggers whose warnings repeat what etl's one-line errors say."""


def configure_logging(*, verbose: bool = False) -> None:
    """Send log records to stderr, one line each; ``verbose`` adds debug records and the SDKs'."""
    root = logging.getLogger()
    if not any(handler.get_name() == _HANDLER for handler in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(_HANDLER)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    for name in _QUIET_UNLESS_VERBOSE:
        logging.getLogger(name).setLevel(logging.WARNING if verbose else logging.ERROR)
