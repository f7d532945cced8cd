"""A template's ``retryStrategy`` as the local runner executes it, with Argo's meaning.

``limit`` retries at most; ``retryPolicy`` says which failed tries are retried; ``backoff`` waits
``duration * factor^(n-1)`` (at most ``cap``) before retry ``n``, and ``maxDuration`` is a budget
for every try from the start of the first one (see :mod:`etl.runner.retries`). Of ``expression``
only Argo's ``asInt(lastRetry.exitCode) != N`` is understood; anything else is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from etl.runner.durations import parse_duration
from etl.runner.manifest_keys import UnsupportedManifestError

__all__ = ["RetryOn", "RetryStrategy", "parse_retry"]

_NOT_EXIT_CODE = re.compile(r"asInt\(lastRetry\.exitCode\)\s*!=\s*(-?\d+)")


class RetryOn(StrEnum):
    """Argo's ``retryPolicy``: which ended tries are retried."""

    ALWAYS = "Always"
    ON_FAILURE = "OnFailure"
    ON_ERROR = "OnError"
    ON_TRANSIENT_ERROR = "OnTransientError"


@dataclass(frozen=True)
class RetryStrategy:
    """``retryStrategy``: how many retries, which ones, and the backoff between them."""

    limit: int = 0
    on: RetryOn = RetryOn.ON_FAILURE
    backoff: bool = False
    duration: float = 0.0
    factor: float = 1.0
    cap: float | None = None
    max_duration: float | None = None
    final_exit_code: int | None = None
    """From ``expression: asInt(lastRetry.exitCode) != N``: a try that exits N is not retried."""

    def delay(self, attempt: int) -> float:
        """Seconds to wait after try number ``attempt`` (1-based) before the next, ``cap`` applied."""
        wait = self.duration * (self.factor ** (attempt - 1))
        return min(wait, self.cap) if self.cap is not None else wait


def parse_retry(raw: dict[str, Any] | None, where: str) -> RetryStrategy:
    """``raw`` (a template's ``retryStrategy``) checked and parsed; one located error if not."""
    if not raw:
        return RetryStrategy()
    where = f"{where}.retryStrategy"
    unknown = set(raw) - {"limit", "retryPolicy", "backoff", "expression"}
    if unknown:
        raise UnsupportedManifestError(f"{where}.{sorted(unknown)[0]}: not supported")
    final_exit_code = None
    if "expression" in raw:
        match = _NOT_EXIT_CODE.fullmatch(str(raw["expression"]).strip())
        if not match:
            raise UnsupportedManifestError(
                f"{where}.expression: only 'asInt(lastRetry.exitCode) != N' is supported"
            )
        final_exit_code = int(match.group(1))
    default_on = RetryOn.ALWAYS if "expression" in raw else RetryOn.ON_FAILURE
    try:
        on = RetryOn(raw.get("retryPolicy", default_on))
    except ValueError:
        known = ", ".join(p.value for p in RetryOn)
        raise UnsupportedManifestError(
            f"{where}.retryPolicy: {raw['retryPolicy']!r} is not one of {known}"
        ) from None
    backoff = raw.get("backoff")
    if backoff is not None and not isinstance(backoff, dict):
        raise UnsupportedManifestError(f"{where}.backoff: expected a mapping")
    backoff = backoff or {}
    unknown = set(backoff) - {"duration", "factor", "cap", "maxDuration"}
    if unknown:
        raise UnsupportedManifestError(f"{where}.backoff.{sorted(unknown)[0]}: not supported")

    def seconds(key: str) -> float | None:
        return parse_duration(backoff[key], f"{where}.backoff.{key}") if key in backoff else None

    return RetryStrategy(
        limit=int(raw.get("limit", 0)),
        on=on,
        backoff=bool(backoff),
        duration=seconds("duration") or 0.0,
        factor=float(backoff.get("factor", 1)),
        cap=seconds("cap"),
        max_duration=seconds("maxDuration"),
        final_exit_code=final_exit_code,
    )
