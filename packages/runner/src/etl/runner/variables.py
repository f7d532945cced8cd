"""Argo's simple template tags (``{{inputs.parameters.x}}``, ``{{item}}``, ...) for the local runner.

Only simple tags are supported; an expression tag (``{{= ...}}``) or a tag naming something the run
does not have is an :class:`~etl.runner.workflow_manifest.UnsupportedManifestError`, never left in place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from etl.runner.workflow_manifest import UnsupportedManifestError

__all__ = ["substitute"]

_TAG = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def substitute(text: str, scope: Mapping[str, str], *, where: str) -> str:
    """Replace every ``{{name}}`` in ``text`` with ``scope[name]``."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("="):
            raise UnsupportedManifestError(
                f"{where}: expression tags are not supported: {{{{{name}}}}}"
            )
        if name not in scope:
            raise UnsupportedManifestError(f"{where}: unknown variable {{{{{name}}}}}")
        return scope[name]

    return _TAG.sub(replace, text)
