"""Run a DAG template: its tasks in dependency order, each fanned out over its items.

A task starts once every task it depends on has ended; after a node has failed, or once the run is
stopped, no further task starts. A task runs one node per item of its ``withSequence``,
``withItems`` or ``withParam`` (or one node without), on a thread pool as wide as the template's
``parallelism``. The outputs of a task that ran one node are there for the tasks after it
(``tasks.NAME.outputs.parameters.KEY``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Protocol

from etl.runner.records import NodeRecord
from etl.runner.variables import substitute
from etl.runner.workflow_manifest import DagTask, Template, UnsupportedManifestError
from etl.runner.workflow_status import WorkflowPhase

__all__ = ["DagRunner", "RunNode"]

DEFAULT_WORKERS = 64
"""Nodes of one DAG that run at once when its template sets no ``parallelism``."""


class RunNode(Protocol):
    """Runs one node (a pod or a DAG) of ``template`` and returns its record once it has ended."""

    def __call__(
        self,
        template: Template,
        arguments: dict[str, str],
        node_id: str,
        display: str,
        scope: dict[str, str],
    ) -> NodeRecord: ...


class DagRunner:
    """Runs DAG templates, each task's nodes through ``run_node``."""

    def __init__(
        self, templates: Mapping[str, Template], stopped: threading.Event, run_node: RunNode
    ) -> None:
        self.templates = templates
        self.stopped = stopped
        self.run_node = run_node

    def run(self, template: Template, node: NodeRecord, scope: dict[str, str]) -> None:
        """Run ``template``'s tasks; ``node`` ends Succeeded when every one ran and succeeded."""
        results: dict[str, list[NodeRecord]] = {}
        futures: dict[Future[NodeRecord], str] = {}
        with ThreadPoolExecutor(
            max_workers=template.parallelism or DEFAULT_WORKERS,
            thread_name_prefix=f"dag-{template.name}",
        ) as pool:
            while True:
                failed = _failed(results)
                for task in template.tasks:
                    if failed or self.stopped.is_set() or not _ready(task, results, futures):
                        continue
                    results[task.name] = []
                    for future in self._start(pool, task, node.id, scope):
                        futures[future] = task.name
                if not futures:
                    break
                finished, _ = wait(list(futures), return_when=FIRST_COMPLETED)
                for future in finished:
                    task_name = futures.pop(future)
                    results[task_name].append(future.result())
                    if not _pending(futures, task_name):
                        _publish_outputs(scope, task_name, results[task_name])
        bad = _failed(results)
        never_ran = [t.name for t in template.tasks if t.name not in results]
        if bad or never_ran or self.stopped.is_set():
            node.phase = WorkflowPhase.FAILED
            node.message = bad[0].message if bad else ("Stopped" if self.stopped.is_set() else "")
        else:
            node.phase = WorkflowPhase.SUCCEEDED

    def _start(
        self, pool: ThreadPoolExecutor, task: DagTask, parent_id: str, scope: dict[str, str]
    ) -> list[Future[NodeRecord]]:
        """Submit one node of ``task`` per item it fans out over."""
        futures = []
        for index, item in enumerate(_items(task, scope)):
            child_scope = dict(scope)
            if item is not None:
                child_scope["item"] = item
            child_id = f"{parent_id}.{task.name}" + (f"({index})" if item is not None else "")
            display = task.name + (f"({index}:{item})" if item is not None else "")
            args = {
                k: substitute(v, child_scope, where=f"{child_id}.arguments.{k}")
                for k, v in task.arguments.items()
            }
            template = self._template(task.template, child_id)
            futures.append(
                pool.submit(self.run_node, template, args, child_id, display, child_scope)
            )
        return futures

    def _template(self, name: str, where: str) -> Template:
        try:
            return self.templates[name]
        except KeyError:
            raise UnsupportedManifestError(f"{where}: no template named {name!r}") from None


def _items(task: DagTask, scope: dict[str, str]) -> list[str | None]:
    """The items ``task`` fans out over, as strings; ``[None]`` when it does not fan out."""
    where = f"dag task {task.name}"
    if task.with_sequence is not None:
        seq = {k: substitute(str(v), scope, where=where) for k, v in task.with_sequence.items()}
        if "count" in seq:
            start = int(seq.get("start", 0))
            return [str(i) for i in range(start, start + int(seq["count"]))]
        return [str(i) for i in range(int(seq.get("start", 0)), int(seq["end"]) + 1)]
    if task.with_items is not None:
        return [_item_text(i) for i in task.with_items]
    if task.with_param is not None:
        return [_item_text(i) for i in json.loads(substitute(task.with_param, scope, where=where))]
    return [None]


def _item_text(item: Any) -> str:
    """An item as ``{{item}}`` reads: objects and lists as JSON, anything else as text."""
    return json.dumps(item) if isinstance(item, (dict, list)) else str(item)


def _ready(
    task: DagTask, results: dict[str, list[NodeRecord]], futures: dict[Future[NodeRecord], str]
) -> bool:
    """Whether ``task`` has not started yet and every task it depends on has ended."""
    return task.name not in results and all(
        dep in results and not _pending(futures, dep) for dep in task.dependencies
    )


def _pending(futures: dict[Future[NodeRecord], str], task_name: str) -> bool:
    """Whether any node of ``task_name`` is still running."""
    return task_name in futures.values()


def _failed(results: dict[str, list[NodeRecord]]) -> list[NodeRecord]:
    """The nodes that have ended other than Succeeded, their tasks in the order they started."""
    return [n for ns in results.values() for n in ns if n.phase != WorkflowPhase.SUCCEEDED]


def _publish_outputs(scope: dict[str, str], task_name: str, nodes: list[NodeRecord]) -> None:
    """Make the outputs of a task that ran one node visible to the tasks after it."""
    if len(nodes) == 1:
        for key, value in nodes[0].outputs.items():
            scope[f"tasks.{task_name}.outputs.parameters.{key}"] = value
