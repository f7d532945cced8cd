"""Item events: their spec for a load, and their delivery after the commit (the pods' side).

A pod that loads or removes items asks :func:`item_event_spec` for what to record (``None``: the
collection has no targets, and nothing is recorded); the load records the events in its own
transaction (:mod:`etl.pgstac.item_events`). Once work committed, the pod sends every event
waiting for the collection's targets: its own, and those a pod killed after its commit left
behind (:func:`deliver_pending`; ``etl dataset send-notifications`` calls it too). A pod that
loads while it makes items (``process-chunks``) delivers **while** it loads
(:meth:`PodNotifications.delivering`): a thread sends what committed every
:data:`POLL_SECONDS`, and what is left once the loads end, so that sending overlaps loading
instead of following it. Each claim of outbox rows is sent to every target owing it at once.

Delivery never fails the work: a target that refuses or does not answer is tried again with
backoff (:data:`ATTEMPTS` tries, transient errors only), then left for the rest of the pod; its
events stay in the outbox, with the error, for ``etl dataset status`` and the next delivery.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
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
    from etl.pgstac.outbox import PendingBatch

__all__ = [
    "ATTEMPTS",
    "CLAIM",
    "POLL_SECONDS",
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
POLL_SECONDS = 0.5
"""How often :meth:`PodNotifications.delivering` looks for events committed meanwhile."""
_FIRST_DELAY = 0.5


@dataclass(frozen=True)
class TargetDelivery:
    """What one delivery did for one target."""

    target: str
    delivered: int
    error: str | None = None
    """Why delivery stopped with events left (``None``: nothing left)."""
    seconds: float = 0.0
    """Seconds spent sending to the target (its retries' waits included)."""

    def then(self, later: TargetDelivery) -> TargetDelivery:
        """This delivery followed by ``later``, of the same target."""
        return replace(
            later, delivered=self.delivered + later.delivered, seconds=self.seconds + later.seconds
        )

    def log_lines(self) -> list[str]:
        """What a pod logs about it: the events sent and how long it took, what stays."""
        lines = []
        if self.delivered:
            lines.append(
                f"notifications: {self.delivered} event(s) sent to {self.target} "
                f"in {self.seconds:.2f} s"
            )
        if self.error is not None:
            lines.append(
                f"warning: notifications: events for {self.target} stay undelivered: "
                f"{self.error} (etl dataset send-notifications sends them again)"
            )
        return lines


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
        return self._finish({}, log)

    @contextmanager
    def delivering(self, log: Callable[[str], None] = print) -> Iterator[None]:
        """Deliver while the block runs: every :data:`POLL_SECONDS`, what committed meanwhile
        (over one connection of a thread's own); when it ends (however it ends), what is left,
        as :meth:`deliver`. A target that failed is left alone for the rest of the block. One
        log line per target, at the end."""
        if not self.targets:
            yield
            return
        import psycopg

        done: dict[str, TargetDelivery] = {}
        stop = threading.Event()
        kept: list[_Delivery] = []

        def deliver_meanwhile() -> None:
            delivery: _Delivery | None = None
            while not stop.wait(POLL_SECONDS):
                try:
                    delivery = delivery or self._open(done)
                    if not delivery.send():
                        break
                except (EtlError, psycopg.Error):  # PgSTAC unreachable now: tried again later
                    if delivery is not None:
                        delivery.close()
                    delivery = None
            if delivery is not None:
                kept.append(delivery)

        thread = threading.Thread(target=deliver_meanwhile, name="etl-notifications", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            self._finish(done, log, kept[0] if kept else None)

    def _finish(
        self,
        done: dict[str, TargetDelivery],
        log: Callable[[str], None],
        delivery: _Delivery | None = None,
    ) -> list[TargetDelivery]:
        """Send what waits for the targets that have not failed (on ``delivery``'s connection,
        if given), add it to ``done``, log."""
        import psycopg

        try:
            if _still_open(self.targets, done):
                delivery = delivery or self._open(done)
                delivery.send()
        except (EtlError, psycopg.Error) as exc:  # the events wait for the next delivery
            log(f"warning: notifications: not delivered now: {str(exc).strip()}")
        finally:
            if delivery is not None:
                delivery.close()
        results = [done[target.key] for target in self.targets if target.key in done]
        for result in results:
            for line in result.log_lines():
                log(line)
        return results

    def _open(self, done: dict[str, TargetDelivery]) -> _Delivery:
        return _Delivery(
            self.services.pgstac_dsn(),
            self.targets,
            self.services.profile,
            self.services.secrets,
            done,
        )


def _still_open(
    targets: Sequence[NotificationTarget], done: Mapping[str, TargetDelivery]
) -> list[NotificationTarget]:
    """The targets that have not failed yet."""
    return [t for t in targets if t.key not in done or done[t.key].error is None]


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
    target that fails (its events stay, the error is logged and returned).

    Raises:
        RemoteError: PgSTAC cannot be reached.
    """
    done: dict[str, TargetDelivery] = {}
    delivery = _Delivery(dsn, targets, profile, secrets, done, sleep=sleep)
    try:
        delivery.send()
    finally:
        delivery.close()
    results = [done[target.key] for target in targets if target.key in done]
    for result in results:
        for line in result.log_lines():
            log(line)
    return results


class _Delivery:
    """Deliveries to some targets over one PgSTAC connection, their senders made once; what
    each target got is added up in ``done`` (a target that failed there is not tried again)."""

    def __init__(
        self,
        dsn: str,
        targets: Sequence[NotificationTarget],
        profile: Profile,
        secrets: SecretLookup,
        done: dict[str, TargetDelivery],
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Connect, and make the senders of the targets that have not failed.

        Raises:
            RemoteError: PgSTAC cannot be reached.
        """
        from etl.pgstac.outbox import ensure_outbox, mark_failed
        from etl.pgstac.session import connect_pgstac

        self.targets = _still_open(targets, done)
        self.done = done
        self.sleep = sleep
        self.senders: dict[str, Sender] = {}
        self.conn = connect_pgstac(dsn)
        try:
            ensure_outbox(self.conn)
            for target in self.targets:
                try:
                    self.senders[target.key] = sender_for(target, profile, secrets)
                except EtlError as exc:  # e.g. its secret is missing: told like a refusal
                    mark_failed(self.conn, target.key, str(exc))
                    self._add(TargetDelivery(target.key, 0, str(exc)))
        except BaseException:
            self.conn.close()
            raise

    def send(self) -> bool:
        """Claim the oldest rows owed to any open target, send each target its share at once (a
        thread a target), mark what each took; until nothing is left or every target failed.
        ``False`` when no target is open any more."""
        from etl.pgstac.outbox import claim_pending, mark_delivered, mark_failed

        live = {t.key: t for t in _still_open(self.targets, self.done) if t.key in self.senders}
        with ThreadPoolExecutor(max(1, len(live))) as pool:
            while live:
                with self.conn.transaction():
                    rows = claim_pending(self.conn, list(live), CLAIM)
                    if not rows:
                        break
                    owed = {key: [row for row in rows if key in row.pending] for key in live}
                    events = {key: _events(live[key], owed[key]) for key in live if owed[key]}
                    sends = {
                        key: pool.submit(_send, self.senders[key], texts, self.sleep)
                        for key, texts in events.items()
                    }
                    for key, sent in sends.items():
                        error, seconds = sent.result()
                        count = 0 if error else len(events[key])
                        self._add(TargetDelivery(key, count, error, seconds))
                        if error is not None:
                            mark_failed(self.conn, key, error)
                            del live[key]
                        else:
                            mark_delivered(self.conn, key, [row.seq for row in owed[key]])
        return bool(_still_open(self.targets, self.done))

    def close(self) -> None:
        self.conn.close()

    def _add(self, result: TargetDelivery) -> None:
        earlier = self.done.get(result.target)
        self.done[result.target] = result if earlier is None else earlier.then(result)


def _events(target: NotificationTarget, rows: Sequence[PendingBatch]) -> list[str]:
    return [event for row in rows for event in row.events(target.include_item)]


def _send(
    sender: Sender, events: list[str], sleep: Callable[[float], None]
) -> tuple[str | None, float]:
    """Send with retries of transient failures: the last error's message (``None``: sent), and
    the seconds it took."""
    started = time.perf_counter()
    delay = _FIRST_DELAY
    for attempt in range(1, ATTEMPTS + 1):
        try:
            sender(events)
            break
        except EtlError as exc:
            if not exc.transient or attempt == ATTEMPTS:
                return str(exc), time.perf_counter() - started
            sleep(delay)
            delay *= 2
    return None, time.perf_counter() - started
