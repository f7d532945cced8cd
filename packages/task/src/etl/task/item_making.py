"""Where a pod makes its items: on threads, or in worker processes when ``create_item`` is
CPU-bound, chosen by measurement.

Threads suit a ``create_item`` that waits (on storage, a web service): many calls wait at once.
A ``create_item`` that computes (parses a sidecar, builds geometry) holds Python's GIL, so its
threads take turns on one core, and the pod's loader thread waits for the GIL after every round
trip to PostgreSQL. :func:`choose_making` makes the first few assets of the pod's first chunk on
this thread and reads how much of that time ``create_item`` ran on the CPU (Linux's per-thread
``schedstat``: time waiting for a CPU held by other processes does not count as waiting on I/O).
When it computes at least :data:`CPU_BOUND_SHARE` of the time and the pod has a CPU quota of two
CPUs or more (its cgroup's ``cpu.max``: a container's ``resources.limits.cpu``), items are made in
that many forked worker processes; otherwise on ``workers`` threads. Without a quota (the local
runner's processes) the pod shares the machine's CPUs with the other pods and PostgreSQL, and
processes measured slower than threads there (pickling the items back costs more than the GIL
does; docs/performance.md). The probe's items are made again in the run (``create_item`` is
called twice for those few assets).

Worker processes are forked before the pipeline starts any thread, and inherit the prepared item
maker; each returns a slice's items with their ndjson lines (pickled back).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from etl.dataset.run_results import AssetFailure
from etl.task.item_maker import slices_of
from etl.task.item_provenance import MadeItem, PrepareItems

__all__ = ["CPU_BOUND_SHARE", "CPU_MAX", "PROBE_ASSETS", "ItemMaking", "choose_making", "cpu_quota"]

CPU_BOUND_SHARE = 0.5
"""A ``create_item`` on the CPU this share of its time or more is made in processes."""

CPU_MAX = "/sys/fs/cgroup/cpu.max"
"""The pod's CPU quota (cgroup v2): a container's ``resources.limits.cpu``."""

PROBE_ASSETS = 20
"""Assets made on this thread to measure ``create_item``."""

Outcome = list[tuple[MadeItem, bytes]] | AssetFailure

_INHERITED: dict[str, PrepareItems] = {}
"""The item maker (``"prepare"``) a forked worker process inherits."""


@dataclass(frozen=True)
class ItemMaking:
    """How items are made: ``processes`` worker processes, or (0) ``threads`` threads."""

    threads: int
    processes: int = 0
    cpu_share: float | None = None
    """The probe's measure (``None``: not probed)."""

    @property
    def concurrency(self) -> int:
        """Calls of ``create_item`` at once."""
        return self.processes or self.threads

    def describe(self) -> str:
        """One line for the pod's log."""
        measured = (
            "" if self.cpu_share is None else f" (create_item on the CPU {self.cpu_share:.0%})"
        )
        if self.processes:
            return f"making items in {self.processes} processes{measured}"
        return f"making items on {self.threads} threads{measured}"

    @contextmanager
    def executor(self, prepare: PrepareItems) -> Iterator[Executor]:
        """The pool; worker processes are forked at once (call before starting threads)."""
        if not self.processes:
            with ThreadPoolExecutor(self.threads, thread_name_prefix="create-item") as threads:
                yield threads
            return
        _INHERITED["prepare"] = prepare
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(self.processes, mp_context=context) as processes:
            processes.submit(int).result()  # every worker forked now
            yield processes

    def make_all(self, pool: Executor, prepare: PrepareItems, uris: list[str]) -> Iterator[Outcome]:
        """The outcome of every URI, in order, a few slices per worker at a time."""
        slices = slices_of(uris, self.concurrency)
        if self.processes:
            results = pool.map(_prepare_slice, slices)
        else:
            results = pool.map(lambda part: [prepare(uri) for uri in part], slices)
        for outcomes in results:
            yield from outcomes


def _prepare_slice(uris: list[str]) -> list[Outcome]:
    """In a worker process: the outcomes of a slice of URIs."""
    prepare = _INHERITED["prepare"]
    return [prepare(uri) for uri in uris]


def choose_making(
    prepare: PrepareItems, sample: Callable[[], list[str]], threads: int
) -> ItemMaking:
    """Threads or processes for a pod, from ``create_item`` on the first assets ``sample`` gives
    (read only when the pod's CPU quota allows processes)."""
    cpus = cpu_quota()
    if cpus is None or cpus < 2:
        return ItemMaking(threads)
    probe = sample()[:PROBE_ASSETS]
    if not probe:
        return ItemMaking(threads)
    cpu_before, wait_before, started = _thread_times()
    for uri in probe:
        prepare(uri)
    cpu_after, wait_after, ended = _thread_times()
    running = (ended - started) - (wait_after - wait_before)
    share = min(1.0, (cpu_after - cpu_before) / running) if running > 0 else 0.0
    if share >= CPU_BOUND_SHARE:
        return ItemMaking(threads, min(cpus, threads), share)
    return ItemMaking(threads, 0, share)


def cpu_quota() -> int | None:
    """Whole CPUs this process's cgroup may use (``cpu.max``), at most those it may run on;
    ``None`` without a quota (a shared machine: other pods and services use the same CPUs)."""
    try:
        quota, period = Path(CPU_MAX).read_text().split()
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    return max(1, min(len(os.sched_getaffinity(0)), int(quota) // int(period)))


def _thread_times() -> tuple[float, float, float]:
    """(CPU seconds of this thread, seconds it waited for a CPU, monotonic now)."""
    now = time.monotonic()
    try:
        running, waiting, _ = Path("/proc/thread-self/schedstat").read_text().split()
    except (OSError, ValueError):
        return time.thread_time(), 0.0, now
    return int(running) / 1e9, int(waiting) / 1e9, now
