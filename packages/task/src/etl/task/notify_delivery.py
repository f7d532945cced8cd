"""Item events: their spec for a load, and their delivery after the commit (the pods' side).

A pod that loads or removes items asks :func:`item_event_spec` for what to record (``None``: the
collection has no targets, and nothing is recorded); the load records the events in its own
transaction (:mod:`etl.pgstac.item_events`). After its work committed, the pod calls
:func:`deliver_pending`, which sends every event waiting for the collection's targets: its own,
and those a pod killed after its commit left behind. ``etl dataset send-notifications`` calls it
too.

Delivery never fails the work: a target that refuses or does not answer is tried again with
backoff (:data:`ATTEMPTS` tries, transient errors only), then left; its events stay in the outbox,
with the error, for ``etl dataset status`` and the next delivery.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from etl.core.errors import EtlError
from etl.core.notifications.senders import Sender, sender_for
from etl.core.notifications.targets import NotificationTarget, effective_targets
from etl.core.profile_services import ProfileServices
from etl.core.profiles.model import Profile
from etl.core.templating.secret_refs import SecretLookup
from etl.dataset.model import DatasetConfig
from etl.pgstac.item_events import EventTarget, ItemEventSpec

if TYPE_CHECKING:
    from etl.pgstac.outbox import Connection

__all__ = [
    "ATTEMPTS",
    "CLAIM",
    "PodNotifications",
    "TargetDelivery",
    "collection_targets",
    "deliver_pending",
    "item_event_spec",
]

ATTEMPTS = 4
"""Tries of one batch on a transient failure (waiting 0.5, 1, 2 s between them)."""
CLAIM = 4
"""Outbox rows (each a load batch's events) claimed, and sent, at a time."""
_FIRST_DELAY = 0.5


@dataclass(frozen=True)
class TargetDelivery:
    """What one delivery did for one target."""

    target: str
    delivered: int
    error: str | None = None
    """Why delivery stopped with events left (``None``: nothing left)."""


def collection_targets(
    dataset: DatasetConfig, collection_id: str, profile: Profile
) -> tuple[NotificationTarget, ...]:
    """The targets of the collection's item events (the profile's replace the dataset's)."""
    collection = next((c for c in dataset.collections if c.id == collection_id), None)
    return effective_targets(
        dataset.notifications,
        collection.notifications if collection is not None else None,
        profile.notifications,
    )


def item_event_spec(
    dataset: DatasetConfig, collection_id: str, run_id: str, profile: Profile
) -> ItemEventSpec | None:
    """What a load of the collection records, or ``None`` when it has no targets."""
    targets = collection_targets(dataset, collection_id, profile)
    if not targets:
        return None
    return ItemEventSpec(
        dataset.id,
        run_id,
        tuple(EventTarget(target.key, target.include_item) for target in targets),
    )


@dataclass(frozen=True)
class PodNotifications:
    """A pod's item events of one collection: what its loads record, and their delivery."""

    services: ProfileServices
    targets: tuple[NotificationTarget, ...]
    spec: ItemEventSpec | None
    """``None``: the collection has no targets; loads record nothing."""

    @classmethod
    def of(
        cls, services: ProfileServices, dataset: DatasetConfig, collection_id: str, run_id: str
    ) -> PodNotifications:
        """The collection's targets under the pod's profile, for changes made by ``run_id``;
        the outbox table is created when loads will record events.

        Raises:
            RemoteError: PgSTAC cannot be reached (only when there are targets).
        """
        from etl.pgstac.outbox import ensure_outbox
        from etl.pgstac.session import connect_pgstac

        targets = collection_targets(dataset, collection_id, services.profile)
        spec = item_event_spec(dataset, collection_id, run_id, services.profile)
        if spec is not None:
            with connect_pgstac(services.pgstac_dsn()) as conn:
                ensure_outbox(conn)
        return cls(services, targets, spec)

    def deliver(self, log: Callable[[str], None] = print) -> list[TargetDelivery]:
        """Send what waits for the collection's targets (after the pod's work committed)."""
        if not self.targets:
            return []
        try:
            return deliver_pending(
                self.services.pgstac_dsn(),
                self.targets,
                self.services.profile,
                self.services.secrets,
                log=log,
            )
        except EtlError as exc:  # PgSTAC unreachable: the events wait for the next delivery
            log(f"warning: notifications: not delivered now: {exc}")
            return []


def deliver_pending(
    dsn: str,
    targets: Sequence[NotificationTarget],
    profile: Profile,
    secrets: SecretLookup,
    *,
    log: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> list[TargetDelivery]:
    """Send every event waiting in the outbox for ``targets``, oldest first; never raises for a
    target that fails (its events stay, the error is logged and returned)."""
    from etl.pgstac.outbox import ensure_outbox, mark_failed
    from etl.pgstac.session import connect_pgstac

    results = []
    with connect_pgstac(dsn) as conn:
        ensure_outbox(conn)
        for target in targets:
            try:
                sender = sender_for(target, profile, secrets)
            except EtlError as exc:  # e.g. its secret is missing: told like a refusal
                mark_failed(conn, target.key, str(exc))
                results.append(TargetDelivery(target.key, 0, str(exc)))
            else:
                results.append(_deliver(conn, target, sender, sleep))
    for result in results:
        if result.delivered:
            log(f"notifications: {result.delivered} event(s) sent to {result.target}")
        if result.error is not None:
            log(
                f"warning: notifications: events for {result.target} stay undelivered: "
                f"{result.error} (etl dataset send-notifications sends them again)"
            )
    return results


def _deliver(
    conn: Connection, target: NotificationTarget, sender: Sender, sleep: Callable[[float], None]
) -> TargetDelivery:
    from etl.pgstac.outbox import claim_pending, mark_delivered, mark_failed

    delivered = 0
    while True:
        with conn.transaction():
            pending = claim_pending(conn, target.key, CLAIM)
            if not pending:
                return TargetDelivery(target.key, delivered)
            events = [event for row in pending for event in row.events(target.include_item)]
            error = _send(sender, events, sleep)
            if error is not None:
                mark_failed(conn, target.key, error)
                return TargetDelivery(target.key, delivered, error)
            mark_delivered(conn, target.key, [row.seq for row in pending])
        delivered += len(events)


def _send(sender: Sender, events: list[str], sleep: Callable[[float], None]) -> str | None:
    """Send with retries of transient failures; the last error's message, or ``None``."""
    delay = _FIRST_DELAY
    for attempt in range(1, ATTEMPTS + 1):
        try:
            sender(events)
            return None
        except EtlError as exc:
            if not exc.transient or attempt == ATTEMPTS:
                return str(exc)
            sleep(delay)
            delay *= 2
    return None
