"""Cron workflows on the Argo Server: what ``etl cron list|get`` show, and the server version check.

A :class:`CronSummary` is read out of Argo's ``CronWorkflow`` JSON as the server returns it (the
columns of ``argo cron list``, less the next run, which the server does not report). The client
(:class:`etl.runner.argo_server.client.ArgoClient`) creates, updates, lists, gets and deletes them.

:func:`check_server_version` holds the one supported range: Argo Workflows v3.6 or newer. The
manifests use ``spec.schedules[]`` (CronWorkflow) and ``synchronization.semaphores[]``, which exist
from v3.6 (v4 removed the singular forms); an older server drops the unknown fields silently, so a
schedule would never fire and the PgSTAC semaphore would not hold.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from etl.core.errors import RemoteError

__all__ = [
    "MINIMUM_ARGO_VERSION",
    "CronApplied",
    "CronSummary",
    "check_server_version",
    "cron_summary",
    "parse_version",
]

#: The oldest Argo Workflows etl's manifests work on (major, minor).
MINIMUM_ARGO_VERSION: tuple[int, int] = (3, 6)

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text: str) -> tuple[int, int, int] | None:
    """``(major, minor, patch)`` of ``v3.6.2`` (or ``3.6``, ``v4.0.0-rc1``); ``None`` if not one."""
    found = _VERSION.match(text.strip())
    if found is None:
        return None
    major, minor, patch = found.groups()
    return int(major), int(minor), int(patch or 0)


def check_server_version(server: str, version: str) -> None:
    """Refuse a server older than :data:`MINIMUM_ARGO_VERSION`.

    A version that is not ``vX.Y...`` (a development build says ``untagged`` or ``latest``) is
    let through: it cannot be told too old.

    Raises:
        RemoteError: the server runs an older Argo Workflows (one line: server, version, minimum).
    """
    parsed = parse_version(version)
    if parsed is None or parsed[:2] >= MINIMUM_ARGO_VERSION:
        return
    minimum = "v{}.{}".format(*MINIMUM_ARGO_VERSION)
    raise RemoteError(
        f"the Argo Server at {server} runs Argo Workflows {version}; etl needs {minimum} or newer"
        " (its manifests use spec.schedules and synchronization.semaphores, which older servers"
        " drop)",
        transient=False,
    )


@dataclass(frozen=True)
class CronSummary:
    """One cron workflow as ``etl cron list|get`` show it.

    Attributes:
        name, namespace: the CronWorkflow's.
        schedules: its cron expressions (``spec.schedules``).
        timezone: the IANA zone they are read in; empty for the controller's (UTC by default).
        suspended: whether it is suspended (``spec.suspend``).
        concurrency_policy: ``Allow``, ``Forbid`` or ``Replace``.
        last_scheduled: when it last started a workflow (``status.lastScheduledTime``).
        active: the workflows it started that are still running.
        succeeded, failed: how many of its workflows succeeded / failed (Argo v3.6 counts them).
        created: ``metadata.creationTimestamp``.
        labels: its labels (``etl.dev/dataset`` ...).
    """

    name: str
    namespace: str
    schedules: tuple[str, ...]
    timezone: str = ""
    suspended: bool = False
    concurrency_policy: str = ""
    last_scheduled: str | None = None
    active: tuple[str, ...] = ()
    succeeded: int | None = None
    failed: int | None = None
    created: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The stable ``-o json`` shape of ``etl cron get|list``."""
        data = asdict(self)
        data["schedules"] = list(self.schedules)
        data["active"] = list(self.active)
        data["labels"] = dict(self.labels)
        return data

    def row(self) -> dict[str, Any]:
        """The columns of ``etl cron list``."""
        return {
            "name": self.name,
            "schedule": ", ".join(self.schedules),
            "timezone": self.timezone or None,
            "suspended": self.suspended,
            "last run": self.last_scheduled,
            "active": len(self.active),
            "created": self.created,
        }


@dataclass(frozen=True)
class CronApplied:
    """A cron workflow just created or updated on the server.

    Attributes:
        name, namespace: where it is.
        created: ``True`` if it is new, ``False`` if an existing one was updated.
        url: its page in the Argo UI.
    """

    name: str
    namespace: str
    created: bool
    url: str

    def to_json(self) -> dict[str, Any]:
        """The stable ``-o json`` shape: ``{"name", "namespace", "runner", "action", "url"}``."""
        return {
            "name": self.name,
            "namespace": self.namespace,
            "runner": "argo",
            "action": "created" if self.created else "updated",
            "url": self.url,
        }


def cron_summary(cron: Mapping[str, Any], *, namespace: str = "") -> CronSummary:
    """The summary of an Argo ``CronWorkflow`` in the server's JSON form."""
    metadata: Mapping[str, Any] = cron.get("metadata") or {}
    spec: Mapping[str, Any] = cron.get("spec") or {}
    status: Mapping[str, Any] = cron.get("status") or {}
    schedules = list(spec.get("schedules") or [])
    if not schedules and spec.get("schedule"):  # written for Argo < 3.6 (or by hand)
        schedules = [spec["schedule"]]
    return CronSummary(
        name=str(metadata.get("name", "")),
        namespace=str(metadata.get("namespace") or namespace),
        schedules=tuple(str(s) for s in schedules),
        timezone=str(spec.get("timezone") or ""),
        suspended=bool(spec.get("suspend")),
        concurrency_policy=str(spec.get("concurrencyPolicy") or ""),
        last_scheduled=status.get("lastScheduledTime"),
        active=tuple(str(ref.get("name", "")) for ref in status.get("active") or []),
        succeeded=_count(status.get("succeeded")),
        failed=_count(status.get("failed")),
        created=metadata.get("creationTimestamp"),
        labels={str(k): str(v) for k, v in (metadata.get("labels") or {}).items()},
    )


def _count(value: object) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError:
        return None
