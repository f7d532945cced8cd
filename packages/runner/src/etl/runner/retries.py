"""When a pod's try is killed, and whether a failed try runs again: Argo's rules.

Read from argo-workflows' ``workflow/controller/operator.go`` (``processNodeRetries``, the same in
v3.5.15, v3.6.19 and v4.1.2) and ``workflowpod.go``/``executor.go`` (deadlines):

- a try may run until the earliest of: the workflow's deadline and, from the second try on,
  ``backoff.maxDuration`` after the first try started (Argo's ``ARGO_DEADLINE``), both ending it
  with ``Step exceeded its deadline``; and the template's ``activeDeadlineSeconds`` or
  ``timeout`` after this try started (the pod's ``activeDeadlineSeconds``), which ends it with
  ``Pod was active on the node longer than the specified deadline``;
- after a failed try: none once the workflow's deadline has passed; with a ``backoff``, none when
  ``maxDuration`` is used up or the wait would go past it; none that ``retryPolicy`` excludes,
  none past ``limit`` and none that the expression excludes; otherwise the next try starts after
  ``duration * factor^(n-1)`` seconds, at most ``cap``.

One difference, on purpose: Argo checks the backoff before the expression, so a try that exits
with the code the expression excludes (2, permanent) waits out one backoff before its node fails;
here the node fails at once (``docs/argo.md``, "Argo semantics and the local runner").
"""

from __future__ import annotations

from dataclasses import dataclass

from etl.runner.manifest_retry import RetryOn, RetryStrategy

__all__ = [
    "POD_DEADLINE",
    "STEP_DEADLINE",
    "Deadline",
    "RetryDecision",
    "next_try",
    "try_deadlines",
]

STEP_DEADLINE = "Step exceeded its deadline"
"""Argo's message for a try killed at ``ARGO_DEADLINE`` (workflow deadline, ``maxDuration``)."""
POD_DEADLINE = "Pod was active on the node longer than the specified deadline"
"""Kubernetes' message for a pod killed at its ``activeDeadlineSeconds`` (template deadline or
``timeout``)."""


@dataclass(frozen=True)
class Deadline:
    """When (``time.monotonic()``) a try is killed, and the message its node gets then."""

    at: float
    message: str


@dataclass(frozen=True)
class RetryDecision:
    """Wait ``delay`` seconds and try again, or (``delay is None``) stop, for ``reason``
    (Argo's message for the node; empty when it keeps the last try's)."""

    delay: float | None
    reason: str = ""


def try_deadlines(
    retry: RetryStrategy,
    *,
    attempt: int,
    started: float,
    first_started: float,
    template_limits: tuple[float | None, ...],
    workflow_deadline: float | None,
) -> Deadline | None:
    """The earliest deadline of try number ``attempt`` that started at ``started``."""
    deadlines = [Deadline(started + s, POD_DEADLINE) for s in template_limits if s is not None]
    if workflow_deadline is not None:
        deadlines.append(Deadline(workflow_deadline, STEP_DEADLINE))
    if attempt > 1 and retry.backoff and retry.max_duration is not None:
        deadlines.append(Deadline(first_started + retry.max_duration, STEP_DEADLINE))
    return min(deadlines, key=lambda d: d.at, default=None)


def next_try(
    retry: RetryStrategy,
    *,
    attempts: int,
    code: int,
    first_started: float,
    ended: float,
    workflow_deadline: float | None,
) -> RetryDecision:
    """Whether try number ``attempts`` (failed with ``code``, ended at ``ended``) runs again."""
    if workflow_deadline is not None and ended >= workflow_deadline:
        return RetryDecision(None, "retry exceeded workflow deadline")
    delay = retry.delay(attempts) if retry.backoff else 0.0
    if retry.backoff and retry.max_duration is not None:
        budget_ends = first_started + retry.max_duration
        if ended > budget_ends:
            return RetryDecision(None, "Max duration limit exceeded")
        if ended + delay > budget_ends:
            return RetryDecision(None, "Backoff would exceed max duration limit")
    if retry.on not in (RetryOn.ALWAYS, RetryOn.ON_FAILURE):
        return RetryDecision(None)  # a local try only ever fails; Error is a cluster's
    if attempts > retry.limit or code == retry.final_exit_code:
        return RetryDecision(None)
    return RetryDecision(delay)
