"""Progress of long work (listing assets, processing chunks, loading items), reported on stderr.

A rich progress bar when stderr is a terminal; otherwise (and whenever ``CI`` is set) plain lines
every few seconds, which read well in CI logs and ``kubectl logs``::

    [items] 1200/5000 (240/s)

Usage::

    with report_progress("items", total=len(uris)) as bar:
        for uri in uris:
            ...
            bar.advance()
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

__all__ = [
    "PROGRESS_LINE_PREFIX",
    "PlainProgress",
    "ProgressReport",
    "ProgressReporter",
    "parse_progress_line",
    "progress_line",
    "report_progress",
]


class ProgressReporter(Protocol):
    """What long work calls as it goes."""

    def advance(self, count: int = 1) -> None:
        """Record ``count`` more units done."""
        ...

    def note(self, text: str) -> None:
        """Show ``text`` (e.g. ``12 chunks written``) beside the count from now on."""
        ...


class PlainProgress:
    """Progress as plain lines, at most one every ``interval`` seconds, and a last one at the end.

    Args:
        label: What is counted (``items``, ``chunks``).
        total: How many units there are, if known.
        stream: Where lines go (default: stderr).
        interval: Seconds between lines.
        clock: A monotonic clock in seconds.
    """

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        stream: TextIO | None = None,
        interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._stream = stream if stream is not None else sys.stderr
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._last_line = self._started
        self._note = ""

    def advance(self, count: int = 1) -> None:
        """Record ``count`` more units; print a line when ``interval`` has passed."""
        self.done += count
        now = self._clock()
        if now - self._last_line >= self._interval:
            self._print(now)

    def note(self, text: str) -> None:
        """Append ``text`` to the following lines."""
        self._note = text

    def finish(self) -> None:
        """Print the final line."""
        self._print(self._clock())

    def _print(self, now: float) -> None:
        self._last_line = now
        elapsed = now - self._started
        rate = f" ({self.done / elapsed:.0f}/s)" if elapsed > 0 else ""
        of_total = f"/{self.total}" if self.total is not None else ""
        note = f", {self._note}" if self._note else ""
        print(f"[{self.label}] {self.done}{of_total}{rate}{note}", file=self._stream, flush=True)


class _RichProgress:
    def __init__(self, bar: Any, task: Any, label: str) -> None:
        self._bar = bar
        self._task = task
        self._label = label

    def advance(self, count: int = 1) -> None:
        self._bar.advance(self._task, count)

    def note(self, text: str) -> None:
        self._bar.update(self._task, description=f"{self._label} ({text})")


@contextmanager
def report_progress(
    label: str,
    total: int | None = None,
    *,
    stream: TextIO | None = None,
    env: Mapping[str, str] = os.environ,
) -> Iterator[ProgressReporter]:
    """Report progress of ``total`` units of work labelled ``label`` while the block runs.

    Args:
        label: What is counted.
        total: How many units there are, if known.
        stream: Where to report (default: stderr); a bar only if it is a terminal and ``CI`` is unset.
        env: The environment ``CI`` is read from.
    """
    out = stream if stream is not None else sys.stderr
    if env.get("CI") or not out.isatty():
        plain = PlainProgress(label, total, stream=out)
        yield plain
        plain.finish()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(show_speed=True),  # the rate when the total is unknown
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(file=out), transient=False) as bar:
        yield _RichProgress(bar, bar.add_task(label, total=total), label)


PROGRESS_LINE_PREFIX = "etl-progress "
"""Tasks print ``etl-progress {"items": 10, "chunks": 1}`` lines; runners add them to a run's counts.

A line may name the ``unit`` of work it reports (``"unit": "chunk 00003"``): a later line of the
same unit *replaces* its counts, so a chunk processed again is not counted twice. Counts without
a unit add up within one try of a pod; a runner keeps only the last try's."""


@dataclass(frozen=True)
class ProgressReport:
    """The counts one :func:`progress_line` reports, and the unit of work they belong to."""

    counts: dict[str, int]
    unit: str | None = None


def progress_line(unit: str | None = None, **counts: int) -> str:
    """The line a task prints to report ``counts``: those of ``unit`` as they stand now, or,
    without a unit, those done since its last such line."""
    fields: dict[str, object] = dict(counts)
    if unit is not None:
        fields["unit"] = unit
    return PROGRESS_LINE_PREFIX + json.dumps(fields, sort_keys=True)


def parse_progress_line(line: str) -> ProgressReport | None:
    """What a :func:`progress_line` reports, or ``None`` for any other line."""
    if not line.startswith(PROGRESS_LINE_PREFIX):
        return None
    try:
        fields = json.loads(line[len(PROGRESS_LINE_PREFIX) :])
    except ValueError:
        return None
    if not isinstance(fields, dict):
        return None
    unit = fields.get("unit")
    counts = {k: v for k, v in fields.items() if isinstance(v, int) and not isinstance(v, bool)}
    return ProgressReport(counts, unit if isinstance(unit, str) else None)
