"""How ``etl workflow logs`` prints a run's lines: which pods, how many lines, in what form.

The pods' progress reports (``etl-progress {...}``, :data:`etl.core.progress.PROGRESS_LINE_PREFIX`)
are a protocol between ``etl-task`` and the runner, not something to read: they are left out.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator

import typer

from etl.cli.output import OutputFormat, machine_format
from etl.core.progress import PROGRESS_LINE_PREFIX
from etl.runner.workflow_status import LogLine

__all__ = ["print_log_lines"]


def print_log_lines(
    lines: Iterable[LogLine],
    *,
    pod: str | None,
    step: str | None,
    tail: int | None,
    follow: bool,
    output: OutputFormat | None,
) -> None:
    """Print the lines of pod ``pod`` (or of the pods whose name holds ``step``; all without
    either), the last ``tail`` of each pod, as ``POD: LINE`` or, with ``-o json``, one JSON
    object a line.

    Raises:
        typer.BadParameter: ``--tail`` with ``--follow``, or a pod or step no line came from.
    """
    if tail is not None and follow:
        raise typer.BadParameter("--tail reads each pod's end: give it without --follow")
    shown = _chosen(lines, pod=pod, step=step)
    if tail is not None:
        shown = _last(shown, tail)
    machine = machine_format(output)
    any_line = False
    for line in shown:
        any_line = True
        if machine is not None:
            print(json.dumps({"pod": line.pod, "content": line.content}), flush=follow)
        else:
            print(f"{line.pod}: {line.content}", flush=follow)
    if not any_line and (pod is not None or step is not None):
        what = f"pod {pod!r}" if pod is not None else f"step {step!r}"
        raise typer.BadParameter(f"no log lines from {what} in this workflow")


def _chosen(lines: Iterable[LogLine], *, pod: str | None, step: str | None) -> Iterator[LogLine]:
    for line in lines:
        if line.content.startswith(PROGRESS_LINE_PREFIX):
            continue
        if pod is not None and line.pod != pod:
            continue
        if step is not None and step not in line.pod:
            continue
        yield line


def _last(lines: Iterable[LogLine], count: int) -> Iterator[LogLine]:
    """The last ``count`` lines of each pod, pods in the order they first appeared."""
    kept: dict[str, deque[LogLine]] = defaultdict(lambda: deque(maxlen=count))
    for line in lines:
        kept[line.pod].append(line)
    for pod_lines in kept.values():
        yield from pod_lines
