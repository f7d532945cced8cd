"""Run a container template's pod on this machine, trying again as it says.

Each try runs the container's command with the container's environment over the runner's few
variables (:mod:`etl.runner.pod_env`; ``secretKeyRef`` values come from the local secrets backend,
and go to the pod only) through the run's :class:`~etl.runner.executors.PodExecutor` (a process
in the pod's own folder, where the template's output paths are moved, or a container of the
manifest's image, :mod:`etl.runner.container_pods`), its output appended to the node's log; progress
lines in that output add to the run's counts. ``retryStrategy`` decides whether a failed try runs
again and the deadlines kill a try that runs too long, both by Argo's rules
(:mod:`etl.runner.retries`); the template's semaphore is held across a node's tries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl.core.errors import MissingSecretError
from etl.core.pod_contract import NODE_ID_ENV
from etl.core.progress import parse_progress_line
from etl.runner.executors import PodLaunch
from etl.runner.pod_env import pod_hostname
from etl.runner.retries import Deadline, next_try, try_deadlines
from etl.runner.semaphores import SemaphoreStoppedError
from etl.runner.variables import substitute
from etl.runner.workflow_manifest import Template, UnsupportedManifestError
from etl.runner.workflow_status import WorkflowPhase

if TYPE_CHECKING:
    from etl.core.templating.secret_refs import SecretLookup
    from etl.runner.executors import PodExecutor
    from etl.runner.pod_slots import PodSlots
    from etl.runner.records import NodeRecord
    from etl.runner.run_state import RunState
    from etl.runner.warm_start import TaskProcess

__all__ = ["PodRunner"]


class PodRunner:
    """Runs the pods of one run; :meth:`terminate_running` ends the processes running now."""

    def __init__(
        self,
        state: RunState,
        slots: PodSlots,
        *,
        secrets: SecretLookup,
        env: Mapping[str, str],
        executor: PodExecutor,
        workflow_deadline: float | None,
    ) -> None:
        """``env`` is what every container's environment starts from; ``workflow_deadline`` is
        in seconds from now."""
        self.state = state
        self.slots = slots
        self.secrets = secrets
        self.env = dict(env)
        self.executor = executor
        self._deadline = time.monotonic() + workflow_deadline if workflow_deadline else None
        self._processes: set[TaskProcess] = set()

    def run(self, template: Template, node: NodeRecord, scope: dict[str, str]) -> None:
        """Try ``template``'s pod until a try succeeds, retries run out or the run is stopped;
        ``node`` says how it ended, and holds the pod's outputs once it has succeeded.

        The template's semaphore is held from before the first try to the node's end, backoffs
        included, as Argo holds it for a retry node."""
        work = self.state.store.run_dir(self.state.record.name) / "pods" / node.id
        work.mkdir(parents=True, exist_ok=True)
        launch = self._launch(template, node.id, scope, work)
        node.log = str(self.state.store.log_path(self.state.record.name, node.id))
        try:
            with self.slots.semaphore(template.semaphore, self.state.stopped):
                self._tries(template, node, launch)
        except SemaphoreStoppedError:
            node.phase, node.message = WorkflowPhase.FAILED, "Stopped"

    def _tries(self, template: Template, node: NodeRecord, launch: PodLaunch) -> None:
        first_started: float | None = None
        while True:
            node.attempts += 1
            self.state.start_try(node)
            with self.slots.running():
                if self.state.stopped.is_set():
                    node.phase, node.message = WorkflowPhase.FAILED, "Stopped"
                    return
                self.state.save()
                started = time.monotonic()
                first_started = first_started or started
                deadline = try_deadlines(
                    template.retry,
                    attempt=node.attempts,
                    started=started,
                    first_started=first_started,
                    template_limits=(template.deadline, template.timeout),
                    workflow_deadline=self._deadline,
                )
                code, killed = self._spawn(node, launch, deadline)
            if code == 0 and killed is None:
                node.outputs = {
                    out.name: _output_file(launch.work, out.path).read_text().strip()
                    for out in template.outputs
                }
                node.phase, node.message = WorkflowPhase.SUCCEEDED, ""
                return
            node.phase = WorkflowPhase.FAILED
            node.message = killed or _failure_message(code, Path(str(node.log)))
            decision = next_try(
                template.retry,
                attempts=node.attempts,
                code=code,
                first_started=first_started,
                ended=time.monotonic(),
                workflow_deadline=self._deadline,
            )
            if decision.delay is None or self.state.stopped.is_set():
                if decision.reason:
                    node.message = f"{decision.reason}: {node.message}"
                return
            self.state.on_event("node-retry", {"node": node, "delay": decision.delay})
            self.state.save()
            if self.state.stopped.wait(decision.delay):
                return

    def lift_workflow_deadline(self) -> None:
        """Let the pods started from now on run past the workflow's ``activeDeadlineSeconds``,
        as Argo lets its exit handler's."""
        self._deadline = None

    def terminate_running(self) -> None:
        """Terminate every process running now (a process that starts later sees the stop)."""
        with self.state.lock:
            for process in list(self._processes):
                process.terminate()

    def _launch(
        self, template: Template, node_id: str, scope: dict[str, str], work: Path
    ) -> PodLaunch:
        """The pod's command line and environment, its output folders made under ``work``."""
        assert template.container is not None
        pod_scope = dict(scope) | {"pod.name": node_id}
        for out in template.outputs:
            local = _output_file(work, out.path)
            local.parent.mkdir(parents=True, exist_ok=True)
            if self.executor.moves_outputs:
                pod_scope[f"outputs.parameters.{out.name}.path"] = str(local)
        moved = template if self.executor.moves_outputs else None
        argv = [
            substitute(_localise(part, moved, work), pod_scope, where=f"{node_id}.container")
            for part in [*template.container.command, *template.container.args]
        ]
        if not argv:
            raise UnsupportedManifestError(f"{node_id}: container has no command")
        argv[0] = self.executor.executable(argv[0])
        return PodLaunch(
            name=node_id,
            argv=argv,
            env=self._container_env(template, pod_scope, node_id),
            work=work,
            container=template.container,
            output_paths=tuple(out.path for out in template.outputs),
        )

    def _container_env(
        self, template: Template, scope: dict[str, str], node_id: str
    ) -> dict[str, str]:
        """This runner's environment and the pod's ``HOSTNAME`` (its name cut as the kubelet cuts
        it), with the container's ``env`` entries set on top, then its node id as Argo's
        controller sets it after them (:data:`~etl.core.pod_contract.NODE_ID_ENV`)."""
        assert template.container is not None
        env = dict(self.env) | {"HOSTNAME": pod_hostname(scope["pod.name"])}
        for entry in template.container.env:
            name = entry["name"]
            if "value" in entry:
                env[name] = substitute(str(entry["value"]), scope, where=f"{node_id}.env.{name}")
                continue
            source = entry.get("valueFrom") or {}
            if "secretKeyRef" in source:
                value = self._secret(source["secretKeyRef"])
                if value is not None:
                    env[name] = value
            elif source.get("fieldRef", {}).get("fieldPath") == "metadata.name":
                env[name] = scope["pod.name"]
            else:
                raise UnsupportedManifestError(f"{node_id}.env.{name}: only value and secretKeyRef")
        env[NODE_ID_ENV] = node_id
        return env

    def _secret(self, ref: dict[str, Any]) -> str | None:
        """A ``secretKeyRef``'s value from the local secrets; an ``optional`` one that is missing
        leaves its variable unset, as Kubernetes does (``etl-task`` then names the key). A secrets
        file that cannot be read is its own error, never a missing key."""
        try:
            return self.secrets.get(ref["key"])
        except MissingSecretError:
            if ref.get("optional"):
                return None
            raise

    def _spawn(
        self, node: NodeRecord, launch: PodLaunch, deadline: Deadline | None
    ) -> tuple[int, str | None]:
        """Run one try of ``node`` to its end (or its deadline), its output appended to the
        node's log; its exit code, and the deadline's message if the deadline killed it (or the
        executor's, e.g. a container's memory limit)."""
        assert node.log is not None
        killed: list[str] = []
        with Path(node.log).open("ab") as log:
            process = self.executor.start(launch)
            with self.state.lock:
                self._processes.add(process)
                if self.state.stopped.is_set():
                    process.terminate()
            timer = None
            if deadline is not None:

                def kill() -> None:
                    killed.append(deadline.message)
                    process.kill()

                timer = threading.Timer(max(0.0, deadline.at - time.monotonic()), kill)
                timer.start()
            try:
                assert process.stdout is not None
                line = b"\n"
                for line in process.stdout:
                    log.write(line)
                    log.flush()
                    report = parse_progress_line(line.decode(errors="replace"))
                    if report is not None:
                        self.state.add_progress(node, report)
                if not line.endswith(b"\n"):  # its last line unended: the next try's starts anew
                    log.write(b"\n")
                code = process.wait()
            finally:
                if process.stdout is not None:
                    process.stdout.close()
                if timer:
                    timer.cancel()
                with self.state.lock:
                    self._processes.discard(process)
        return code, (killed[0] if killed else self.executor.failure(process))


def _output_file(work: Path, path: str) -> Path:
    """Where an output file the template names at ``path`` is written in this pod's folder."""
    return work / "outputs" / path.lstrip("/")


def _localise(arg: str, template: Template | None, work: Path) -> str:
    """Move the template's output paths (and their folders) into this pod's own folder."""
    moves: dict[str, str] = {}
    for out in template.outputs if template else []:
        for path in (out.path, str(Path(out.path).parent)):
            if path != "/":
                moves[path] = str(_output_file(work, path))
    for path in sorted(moves, key=len, reverse=True):
        if arg == path or arg.startswith(path + "/"):
            return moves[path] + arg[len(path) :]
    return arg


def _failure_message(code: int, log_path: Path) -> str:
    """How a try ended, with the log's last ``error:`` line (or last line) after it."""
    last = ""
    try:
        lines = [ln for ln in log_path.read_text(errors="replace").splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith("error:")]
        last = (errors or lines or [""])[-1]
    except OSError:
        pass
    reason = f"exit code {code}" if code >= 0 else f"killed by signal {-code}"
    return f"{reason}: {last}" if last else reason
