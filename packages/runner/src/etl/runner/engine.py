"""Execute a parsed Argo ``Workflow`` on this machine.

DAG templates run their tasks in dependency order, fanning out over ``withSequence``/``withItems``/
``withParam``; container templates run their command as a local process with the container's
environment (``secretKeyRef`` values come from the local secrets backend, and go to the process
only). ``retryStrategy`` (limit, backoff), ``spec.parallelism``, template ``parallelism``,
semaphores and deadlines are honoured. Nodes already Succeeded in the record are not run again,
which is how a retried run re-processes only what failed.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl.core.progress import parse_progress_line
from etl.runner.manifest import DagTask, Template, UnsupportedManifestError, WorkflowManifest
from etl.runner.records import NodeRecord, RunRecord, RunStore, now_iso
from etl.runner.variables import substitute
from etl.runner.warm_start import TaskProcess, TaskStarter

if TYPE_CHECKING:
    from etl.core.templating import SecretLookup

__all__ = ["Engine", "EngineEvent"]

EngineEvent = Callable[[str, dict[str, Any]], None]


class Engine:
    """Runs one workflow to its end; :meth:`stop` ends it early from another thread."""

    def __init__(
        self,
        workflow: WorkflowManifest,
        record: RunRecord,
        store: RunStore,
        *,
        secrets: SecretLookup,
        semaphore_limits: Mapping[str, int],
        default_parallelism: int,
        on_event: EngineEvent | None = None,
        env: Mapping[str, str] = os.environ,
        starter: TaskStarter | None = None,
    ) -> None:
        self.workflow = workflow
        self.starter = starter or TaskStarter()
        self.record = record
        self.store = store
        self.secrets = secrets
        self.env = dict(env)
        self.on_event = on_event or (lambda kind, data: None)
        self._slots = threading.BoundedSemaphore(workflow.parallelism or default_parallelism)
        self._semaphores = {
            name: threading.BoundedSemaphore(limit) for name, limit in semaphore_limits.items()
        }
        self._default_semaphore = max(1, default_parallelism)
        self._lock = threading.RLock()
        self._stopped = threading.Event()
        self._processes: set[TaskProcess] = set()
        self._deadline = time.monotonic() + workflow.deadline if workflow.deadline else None

    # -- public -------------------------------------------------------------------------------

    def run(self) -> RunRecord:
        """Execute the entrypoint; the record ends Succeeded, Failed or Error."""
        self.record.phase = "Running"
        self.record.started_at = self.record.started_at or now_iso()
        self.record.finished_at = None
        self._save()
        scope = self._workflow_scope()
        try:
            node = self._run_template(
                self.workflow.templates[self.workflow.entrypoint],
                dict(self.workflow.arguments),
                self.record.name,
                self.record.name,
                scope,
            )
            self.record.phase = node.phase
            self.record.message = node.message
        except UnsupportedManifestError as exc:
            self.record.phase, self.record.message = "Error", str(exc)
            raise
        finally:
            if self._stopped.is_set() and self.record.phase not in {"Succeeded"}:
                self.record.phase, self.record.message = "Failed", "Stopped"
            self.record.finished_at = now_iso()
            self._save()
        return self.record

    def stop(self) -> None:
        """Stop: no new nodes start and running processes are terminated."""
        self._stopped.set()
        with self._lock:
            for process in list(self._processes):
                process.terminate()

    # -- templates ----------------------------------------------------------------------------

    def _run_template(
        self,
        template: Template,
        arguments: dict[str, str],
        node_id: str,
        display: str,
        scope: dict[str, str],
    ) -> NodeRecord:
        done = self.record.nodes.get(node_id)
        if done is not None and done.phase == "Succeeded":
            return done
        inputs = self._bind_inputs(template, arguments, node_id)
        local_scope = dict(scope) | {f"inputs.parameters.{k}": v for k, v in inputs.items()}
        node = NodeRecord(
            id=node_id,
            display_name=display,
            template=template.name,
            type="Pod" if template.container else "DAG",
            phase="Running",
            started_at=now_iso(),
        )
        with self._lock:
            self.record.nodes[node_id] = node
        self._save()
        if template.container is not None:
            self._run_container(template, node, local_scope)
        else:
            self._run_dag(template, node, local_scope)
        node.finished_at = now_iso()
        self._save()
        self.on_event("node-finished", {"node": node})
        return node

    def _bind_inputs(
        self, template: Template, arguments: dict[str, str], node_id: str
    ) -> dict[str, str]:
        bound: dict[str, str] = {}
        for name, default in template.inputs.items():
            value = arguments.get(name, default)
            if value is None:
                raise UnsupportedManifestError(f"{node_id}: input parameter {name!r} has no value")
            bound[name] = value
        return bound

    def _run_dag(self, template: Template, node: NodeRecord, scope: dict[str, str]) -> None:
        results: dict[str, list[NodeRecord]] = {}
        started: set[str] = set()
        futures: dict[Future[NodeRecord], str] = {}
        workers = template.parallelism or 64
        with ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix=f"dag-{template.name}"
        ) as pool:
            while True:
                failed = [n for ns in results.values() for n in ns if n.phase != "Succeeded"]
                for task in template.tasks:
                    if task.name in started or failed or self._stopped.is_set():
                        continue
                    if any(
                        dep not in results or futures_pending(futures, dep)
                        for dep in task.dependencies
                    ):
                        continue
                    started.add(task.name)
                    results[task.name] = []
                    for index, item in enumerate(self._expand(task, scope, results)):
                        child_scope = dict(scope)
                        if item is not None:
                            child_scope["item"] = item
                        child_id = f"{node.id}.{task.name}" + (
                            f"({index})" if item is not None else ""
                        )
                        display = task.name + (f"({index}:{item})" if item is not None else "")
                        args = {
                            k: substitute(v, child_scope, where=f"{child_id}.arguments.{k}")
                            for k, v in task.arguments.items()
                        }
                        child_template = self._template(task.template, child_id)
                        future = pool.submit(
                            self._run_template, child_template, args, child_id, display, child_scope
                        )
                        futures[future] = task.name
                if not futures:
                    break
                finished, _ = wait(list(futures), return_when=FIRST_COMPLETED)
                for future in finished:
                    task_name = futures.pop(future)
                    child = future.result()
                    results[task_name].append(child)
                    if not futures_pending(futures, task_name):
                        self._publish_outputs(scope, task_name, results[task_name])
        bad = [n for ns in results.values() for n in ns if n.phase != "Succeeded"]
        never_ran = [t.name for t in template.tasks if t.name not in started]
        if bad or never_ran or self._stopped.is_set():
            node.phase = "Failed"
            node.message = bad[0].message if bad else ("Stopped" if self._stopped.is_set() else "")
        else:
            node.phase = "Succeeded"

    def _publish_outputs(
        self, scope: dict[str, str], task_name: str, nodes: list[NodeRecord]
    ) -> None:
        if len(nodes) == 1:
            for key, value in nodes[0].outputs.items():
                scope[f"tasks.{task_name}.outputs.parameters.{key}"] = value

    def _expand(
        self, task: DagTask, scope: dict[str, str], results: dict[str, list[NodeRecord]]
    ) -> list[str | None]:
        where = f"dag task {task.name}"
        if task.with_sequence is not None:
            seq = {k: substitute(str(v), scope, where=where) for k, v in task.with_sequence.items()}
            if "count" in seq:
                start = int(seq.get("start", 0))
                return [str(i) for i in range(start, start + int(seq["count"]))]
            return [str(i) for i in range(int(seq.get("start", 0)), int(seq["end"]) + 1)]
        if task.with_items is not None:
            return [
                json.dumps(i) if isinstance(i, (dict, list)) else str(i) for i in task.with_items
            ]
        if task.with_param is not None:
            values = json.loads(substitute(task.with_param, scope, where=where))
            return [json.dumps(i) if isinstance(i, (dict, list)) else str(i) for i in values]
        return [None]

    def _template(self, name: str, where: str) -> Template:
        try:
            return self.workflow.templates[name]
        except KeyError:
            raise UnsupportedManifestError(f"{where}: no template named {name!r}") from None

    # -- containers ---------------------------------------------------------------------------

    def _run_container(self, template: Template, node: NodeRecord, scope: dict[str, str]) -> None:
        assert template.container is not None
        work = self.store.run_dir(self.record.name) / "pods" / node.id
        work.mkdir(parents=True, exist_ok=True)
        pod_scope = dict(scope) | {"pod.name": node.id}
        for out in template.outputs:
            local = work / "outputs" / out.path.lstrip("/")
            local.parent.mkdir(parents=True, exist_ok=True)
            pod_scope[f"outputs.parameters.{out.name}.path"] = str(local)
        argv = [
            substitute(
                self._localise(part, template, work), pod_scope, where=f"{node.id}.container"
            )
            for part in [*template.container.command, *template.container.args]
        ]
        if not argv:
            raise UnsupportedManifestError(f"{node.id}: container has no command")
        argv[0] = _executable(argv[0])
        env = self._container_env(template, pod_scope, node.id)
        log_path = self.store.log_path(self.record.name, node.id)
        node.log = str(log_path)
        retry = template.retry
        first_try = time.monotonic()
        semaphore = self._semaphore(template.semaphore)
        while True:
            node.attempts += 1
            with semaphore or nullcontext(), self._slots:
                if self._stopped.is_set():
                    node.phase, node.message = "Failed", "Stopped"
                    return
                self._save()
                code = self._spawn(argv, env, work, log_path, template.deadline)
            if code == 0:
                node.outputs = {
                    out.name: (work / "outputs" / out.path.lstrip("/")).read_text().strip()
                    for out in template.outputs
                }
                node.phase, node.message = "Succeeded", ""
                return
            node.phase, node.message = "Failed", _failure_message(code, log_path)
            retries_done = node.attempts - 1
            delay = retry.delay(retries_done + 1)
            over_budget = retry.max_duration is not None and (
                time.monotonic() - first_try + delay > retry.max_duration
            )
            final = code == retry.final_exit_code
            if retries_done >= retry.limit or over_budget or final or self._stopped.is_set():
                return
            self.on_event("node-retry", {"node": node, "delay": delay})
            self._save()
            if self._stopped.wait(delay):
                return

    def _localise(self, arg: str, template: Template, work: Path) -> str:
        """Move the template's output paths (and their folders) into this pod's own folder."""
        moves: dict[str, str] = {}
        for out in template.outputs:
            for path in (out.path, str(Path(out.path).parent)):
                if path != "/":
                    moves[path] = str(work / "outputs" / path.lstrip("/"))
        for path in sorted(moves, key=len, reverse=True):
            if arg == path or arg.startswith(path + "/"):
                return moves[path] + arg[len(path) :]
        return arg

    def _container_env(
        self, template: Template, scope: dict[str, str], node_id: str
    ) -> dict[str, str]:
        assert template.container is not None
        env = dict(self.env)
        for entry in template.container.env:
            name = entry["name"]
            if "value" in entry:
                env[name] = substitute(str(entry["value"]), scope, where=f"{node_id}.env.{name}")
                continue
            source = entry.get("valueFrom") or {}
            if "secretKeyRef" in source:
                env[name] = self.secrets.get(source["secretKeyRef"]["key"])
            elif source.get("fieldRef", {}).get("fieldPath") == "metadata.name":
                env[name] = scope["pod.name"]
            else:
                raise UnsupportedManifestError(f"{node_id}.env.{name}: only value and secretKeyRef")
        return env

    def _spawn(
        self,
        argv: list[str],
        env: dict[str, str],
        cwd: Path,
        log_path: Path,
        deadline: float | None,
    ) -> int:
        limits = [d for d in (deadline and time.monotonic() + deadline, self._deadline) if d]
        with log_path.open("ab") as log:
            process = self.starter.start(argv, env, cwd)
            with self._lock:
                self._processes.add(process)
                if self._stopped.is_set():
                    process.terminate()
            timer = None
            if limits:
                timer = threading.Timer(max(0.0, min(limits) - time.monotonic()), process.kill)
                timer.start()
            try:
                assert process.stdout is not None
                for line in process.stdout:
                    log.write(line)
                    log.flush()
                    self._take_progress(line)
                return process.wait()
            finally:
                if process.stdout is not None:
                    process.stdout.close()
                if timer:
                    timer.cancel()
                with self._lock:
                    self._processes.discard(process)

    def _take_progress(self, line: bytes) -> None:
        counts = parse_progress_line(line.decode(errors="replace"))
        if counts is None:
            return
        with self._lock:
            for key, value in counts.items():
                if isinstance(value, int):
                    self.record.progress[key] = self.record.progress.get(key, 0) + value
        self.on_event("progress", dict(self.record.progress))

    def _semaphore(self, name: str | None) -> threading.BoundedSemaphore | None:
        if name is None:
            return None
        with self._lock:
            if name not in self._semaphores:
                self._semaphores[name] = threading.BoundedSemaphore(self._default_semaphore)
            return self._semaphores[name]

    # -- helpers ------------------------------------------------------------------------------

    def _workflow_scope(self) -> dict[str, str]:
        scope = {
            "workflow.name": self.record.name,
            "workflow.namespace": self.record.namespace,
            "workflow.creationTimestamp": self.record.started_at or now_iso(),
            "workflow.uid": self.record.name,
        }
        scope |= {f"workflow.parameters.{k}": v for k, v in self.workflow.arguments.items()}
        return scope

    def _save(self) -> None:
        with self._lock:
            self.store.save(self.record)


def futures_pending(futures: dict[Future[NodeRecord], str], task_name: str) -> bool:
    """Whether any child of ``task_name`` is still running."""
    return task_name in futures.values()


def _executable(command: str) -> str:
    if os.sep in command:
        return command
    beside = Path(sys.executable).parent / command
    if beside.exists():
        return str(beside)
    found = shutil.which(command)
    if found is None:
        raise UnsupportedManifestError(f"command {command!r} is not installed on this machine")
    return found


def _failure_message(code: int, log_path: Path) -> str:
    last = ""
    try:
        lines = [ln for ln in log_path.read_text(errors="replace").splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith("error:")]
        last = (errors or lines or [""])[-1]
    except OSError:
        pass
    reason = f"exit code {code}" if code >= 0 else f"killed by signal {-code}"
    return f"{reason}: {last}" if last else reason
