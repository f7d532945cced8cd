"""Item events from the operator's side: what waits undelivered in the outbox (``etl dataset
status``), and sending it again (``etl dataset send-notifications``), with the profile's services
on this machine. The pods deliver with the same function (:mod:`etl.task.notify_delivery`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from etl.core.notifications.targets import NotificationTarget
    from etl.core.profiles.model import Profile
    from etl.dataset.loader import LoadedDataset
    from etl.dataset.model import CollectionConfig
    from etl.pgstac.item_sources import Connection
    from etl.task.notify_delivery import TargetDelivery

__all__ = [
    "RESEND_COMMAND",
    "notification_status",
    "notification_status_line",
    "send_notifications",
]

RESEND_COMMAND = "etl dataset send-notifications"


def notification_status(conn: Connection, collection_id: str) -> list[dict[str, Any]]:
    """The ``notifications`` entry of the collection's status: per target with events waiting,
    ``target``, ``undelivered``, ``oldest`` (RFC 3339), ``attempts`` and ``last_error``."""
    from etl.pgstac.outbox import pending_summary

    return [
        {
            "target": waiting.target,
            "undelivered": waiting.events,
            "oldest": waiting.oldest.isoformat(),
            "attempts": waiting.attempts,
            "last_error": waiting.last_error,
        }
        for waiting in pending_summary(conn, [collection_id])
    ]


def notification_status_line(entries: Sequence[dict[str, Any]], dataset_arg: str) -> str:
    """One line for the status table: what waits for whom, and the command that sends it."""
    parts = []
    for entry in entries:
        error = f", last error: {entry['last_error']}" if entry["last_error"] else ""
        parts.append(f"{entry['undelivered']} for {entry['target']}{error}")
    return f"{'; '.join(parts)} ({RESEND_COMMAND} {dataset_arg} sends them)"


def send_notifications(
    loaded: LoadedDataset, selected: Sequence[CollectionConfig], profile: Profile
) -> list[TargetDelivery]:
    """Send every event waiting for the selected collections' targets (each target once).

    Raises:
        RemoteError: PgSTAC cannot be reached.
    """
    from etl.core.profile_services import ProfileServices
    from etl.task.notify_delivery import collection_targets, deliver_pending

    targets: dict[str, NotificationTarget] = {}
    for chosen in selected:
        for target in collection_targets(loaded.config, chosen.id, profile):
            targets.setdefault(target.key, target)
    if not targets:
        return []
    services = ProfileServices.for_profile(profile)
    return deliver_pending(
        services.pgstac_dsn(), list(targets.values()), profile, services.secrets, log=_quiet
    )


def _quiet(_line: str) -> None:
    """The command prints the outcome itself."""
