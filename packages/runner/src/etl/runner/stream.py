"""``etl dataset stream --submit`` on the local runner: KEDA's ``ScaledJob`` played here.

:func:`run_stream` is the application call: it loads the dataset, plans and uploads its code
bundle as ``process-items`` does (one preflight first), compiles each collection's consumer
(:func:`etl.argo.compiling.consumer.compile_consumer`) and hands them to :class:`LocalScaler`, which
does what KEDA's operator does for a ``ScaledJob`` with the default scaling strategy: every
``polling`` seconds it reads each queue's depth (Azure's approximate count, hidden messages
included) and starts ``ceil(depth / batch_size)`` consumers less those running, at most
``max_consumers`` running per collection, and none while the queue is empty. Each consumer is one
run of the local runner (a thread submits its manifest: the pod sees only what the manifest gives
it, and is recorded, logged and listed like every run) and ends once its queue was idle its
``--idle-exit`` seconds. With ``until_idle`` the scaler ends once every queue was empty that long
and every consumer ended; otherwise it runs until interrupted (Ctrl-C stops the running
consumers: their unfinished messages reappear after the visibility timeout). Every consumer's pod
forks from one warm task server, started with the stream (:meth:`LocalRunner.sharing_warm_server`):
a consumer started as the queue deepens begins at once, without importing etl-task again. The
totals add up the ``etl-progress`` counts every consumer reported.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from etl.core.errors import EtlError, InputError
from etl.runner.workflow_status import WorkflowPhase
from etl.task.consume_events import EventTotals

if TYPE_CHECKING:
    from azure.storage.queue import QueueClient

    from etl.core.profiles.model import Profile
    from etl.dataset.loader import LoadedDataset
    from etl.dataset.model import CollectionConfig
    from etl.runner.local import LocalRunner
    from etl.runner.workflow_runner import WorkflowRunner

__all__ = ["StreamOptions", "StreamTotals", "run_local_stream"]

DEFAULT_POLLING = 5.0
DEFAULT_CONSUMER_IDLE = 60.0


@dataclass(frozen=True)
class StreamOptions:
    """How the local scaler runs.

    Attributes:
        collections: The collections to stream (``None``: every collection with ``events``).
        until_idle: End once every queue was empty this many seconds and no consumer runs
            (``None``: run until interrupted).
        polling: Seconds between two reads of the queues' depths (KEDA's ``pollingInterval``).
        max_consumers: Most consumers of one collection at once (``None``: the profile's
            ``workflow.max_pods``).
    """

    collections: tuple[str, ...] | None = None
    until_idle: float | None = None
    polling: float = DEFAULT_POLLING
    max_consumers: int | None = None

    @property
    def consumer_idle(self) -> float:
        """The consumers' ``--idle-exit``: ``until_idle``, else a minute."""
        return self.until_idle if self.until_idle is not None else DEFAULT_CONSUMER_IDLE


@dataclass
class StreamTotals:
    """What the consumers did: their counts summed over every consumer run (a consumer's own
    :class:`~etl.task.consume_events.EventTotals`), and the consumer runs."""

    counts: EventTotals = field(default_factory=EventTotals)
    consumers: int = 0
    failed_consumers: list[str] = field(default_factory=list)

    @property
    def dead_lettered(self) -> int:
        """Messages moved to a dead-letter queue."""
        return self.counts.dead_lettered

    def add_counts(self, counts: dict[str, int]) -> None:
        """Add a consumer run's counts (its ``etl-progress`` totals)."""
        known = self.counts.counts()
        self.counts.add(EventTotals(**{k: int(v) for k, v in counts.items() if k in known}))

    def summary(self) -> str:
        """One line: events, items loaded, removed, skipped, dead-lettered, consumer runs."""
        return (
            f"{self.counts.summary()} "
            f"({self.consumers} consumer runs, {len(self.failed_consumers)} failed)"
        )

    def to_json(self) -> dict[str, Any]:
        """The ``-o json`` shape."""
        return {
            **self.counts.counts(),
            "consumers": self.consumers,
            "failed_consumers": self.failed_consumers,
        }


def run_local_stream(
    load: Callable[[], LoadedDataset],
    options: StreamOptions,
    profile: Profile,
    *,
    runner: WorkflowRunner,
    report: Callable[[str], None] = lambda line: None,
) -> StreamTotals:
    """Stream the dataset's collections with events on the local runner until idle (or Ctrl-C).

    Raises:
        InputError: Not the local runner, no collection with events, a preflight problem.
        ConfigError: The dataset cannot compile (located).
        StorageError: The bundle's upload failed, or a queue refused for good.
    """
    from etl.argo.bundle import plan_bundle
    from etl.argo.compiling.consumer import compile_consumer
    from etl.runner.local import LocalRunner
    from etl.runner.preflight import preflight
    from etl.runner.work import PreparedWork, upload_work

    if not isinstance(runner, LocalRunner):
        raise InputError(
            "etl dataset stream --submit runs on the local runner; on a cluster the consumers "
            "are a KEDA ScaledJob (docs/streaming.md)"
        )
    runner.prepare()
    dataset = load()
    collections = _streamed(dataset, options.collections)
    bundle = plan_bundle(dataset, profile)
    ids = tuple(c.id for c in collections)
    manifests = {
        c.id: compile_consumer(
            dataset, c.id, profile, bundle=bundle, idle_exit=options.consumer_idle
        )
        for c in collections
    }
    preflight(profile, dataset=dataset, collections=ids).raise_for_problems()
    upload_work(
        PreparedWork(manifests[ids[0]], bundle=bundle, dataset=dataset, collections=ids),
        profile,
        report=report,
    )
    runner.show_progress = False  # several runs at once: their lines, not progress bars
    limit = options.max_consumers or profile.workflow.max_pods
    scaler = LocalScaler(runner, profile, options, limit, report)
    for collection in collections:
        scaler.add(collection, manifests[collection.id])
    with runner.sharing_warm_server():  # a consumer starts by a fork, not by importing etl-task
        return scaler.run()


def _streamed(dataset: LoadedDataset, requested: Sequence[str] | None) -> list[CollectionConfig]:
    """The collections to stream: those asked for (each must declare events), or every one
    that declares events."""
    selected = dataset.select_collections(list(requested or ()))
    if requested:
        for collection in selected:
            if collection.events is None:
                raise InputError(
                    f"collection {collection.id!r} declares no events "
                    "(collections[].events.queue, docs/streaming.md)"
                )
        return selected
    with_events = [c for c in selected if c.events is not None]
    if not with_events:
        raise InputError(
            f"dataset {dataset.config.id!r}: no collection declares events; add "
            "collections[].events.queue: queue://ACCOUNT/NAME (docs/streaming.md)"
        )
    return with_events


@dataclass
class _Stream:
    """One collection's queue and its running consumers."""

    collection: CollectionConfig
    manifest: dict[str, Any]
    queue: QueueClient
    running: list[threading.Thread] = field(default_factory=list)


class LocalScaler:
    """Starts consumers by queue depth, as KEDA's ``ScaledJob`` does."""

    def __init__(
        self,
        runner: LocalRunner,
        profile: Profile,
        options: StreamOptions,
        limit: int,
        report: Callable[[str], None],
    ) -> None:
        self.runner = runner
        self.profile = profile
        self.options = options
        self.limit = limit
        self.report = report
        self.totals = StreamTotals()
        self._streams: list[_Stream] = []
        self._lock = threading.Lock()

    def add(self, collection: CollectionConfig, manifest: dict[str, Any]) -> None:
        """Stream ``collection`` with consumers of ``manifest``."""
        from etl.core.queues.clients import queue_client
        from etl.core.queues.uris import parse_queue_uri

        assert collection.events is not None
        client = queue_client(parse_queue_uri(collection.events.queue), self.profile)
        self._streams.append(_Stream(collection, manifest, client))

    def run(self) -> StreamTotals:
        """Poll and start consumers until idle (``until_idle``) or interrupted."""
        idle_since: float | None = None
        try:
            while True:
                busy = False
                for stream in self._streams:
                    busy = self._scale(stream) or busy
                now = time.monotonic()
                if busy:
                    idle_since = None
                else:
                    idle_since = idle_since or now
                    until = self.options.until_idle
                    if until is not None and now - idle_since >= until:
                        return self.totals
                time.sleep(self.options.polling)
        except KeyboardInterrupt:
            self.report("interrupted: stopping the running consumers")
            self.runner.stop_running()
            self._join()
            raise

    def _scale(self, stream: _Stream) -> bool:
        """Start the consumers ``stream``'s depth asks for; whether it has messages or consumers."""
        from azure.core.exceptions import AzureError

        from etl.core.queues.handling import queue_depth

        stream.running = [t for t in stream.running if t.is_alive()]
        assert stream.collection.events is not None
        try:
            depth = queue_depth(stream.queue)
        except AzureError as exc:  # the queue service paused: try again at the next poll
            queue = stream.collection.events.queue
            self.report(f"warning: cannot read the depth of {queue}: {exc}")
            return True
        wanted = min(math.ceil(depth / stream.collection.events.batch_size), self.limit)
        for _ in range(wanted - len(stream.running)):
            thread = threading.Thread(target=self._consume, args=(stream,), daemon=True)
            thread.start()
            stream.running.append(thread)
        return bool(depth or stream.running)

    def _consume(self, stream: _Stream) -> None:
        """Run one consumer to its end; add what it did to the totals."""
        collection_id = stream.collection.id
        with self._lock:
            self.totals.consumers += 1
        try:
            submitted = self.runner.submit(stream.manifest)
        except EtlError as exc:
            self.report(f"consumer of {collection_id} failed to start: {exc}")
            with self._lock:
                self.totals.failed_consumers.append(f"{collection_id}: {exc}")
            return
        record = self.runner.store.load(submitted.name)
        with self._lock:
            self.totals.add_counts(dict(record.progress))
            if record.phase is not WorkflowPhase.SUCCEEDED:
                self.totals.failed_consumers.append(submitted.name)
        self.report(f"consumer {submitted.name} ({collection_id}): {record.phase.value}")

    def _join(self) -> None:
        for stream in self._streams:
            for thread in stream.running:
                thread.join()
