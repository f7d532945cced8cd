"""The local runner: the :class:`~etl.runner.workflow_runner.WorkflowRunner` of the built-in ``local`` profile.

It executes the very manifest that would go to Argo, here, in the foreground (``submit`` returns
when the run has ended), each pod a process or, with the profile's ``local.executor: container``,
a Docker container of the manifest's image (:mod:`etl.runner.executors`), and keeps a record of every run under the state directory so that
``etl workflow list/get/logs/stop/retry`` work as they do against an Argo Server.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from etl.core.errors import InputError, RunError, RunInterruptedError
from etl.core.pod_contract import ETL_TASK, PGSTAC_SEMAPHORE
from etl.core.profiles.model import LocalExecutor, Profile, RunnerKind
from etl.runner.engine import Engine, exit_node_id
from etl.runner.executors import PodExecutor, ProcessExecutor
from etl.runner.pod_env import passed_on, pod_base_env
from etl.runner.progress_events import ProgressEvents
from etl.runner.records import RunRecord, RunStore, UnreadableRunRecordError
from etl.runner.run_state import EngineEvent
from etl.runner.runner_liveness import (
    RunnerLock,
    RunnerLockHeldError,
    process_identity,
    signal_if_same,
)
from etl.runner.warm_start import TaskStarter, console_script_entries
from etl.runner.workflow_manifest import WorkflowManifest, parse_workflow
from etl.runner.workflow_runner import WorkflowRunner
from etl.runner.workflow_status import (
    LogLine,
    NodeFailure,
    SubmittedWorkflow,
    WorkflowPhase,
    WorkflowStatus,
)

if TYPE_CHECKING:
    from etl.core.templating.secret_refs import SecretLookup

__all__ = ["LocalRunner", "local_runner_for"]

POLL_SECONDS = 0.2
STOP_WAIT_SECONDS = 30
"""How long ``stop`` waits for a signalled runner to record the run's end."""
LOCAL_SEMAPHORES = {PGSTAC_SEMAPHORE: 4}
"""Semaphore sizes on this machine, as ``deployment/semaphores.yaml`` sets them on a cluster."""


class LocalRunner(WorkflowRunner):
    """Runs workflows on this machine and records them under ``state_root/runs``."""

    kind = RunnerKind.LOCAL.value
    runs_to_completion = True

    def __init__(
        self,
        state_root: Path,
        *,
        secrets: SecretLookup,
        semaphore_limits: Mapping[str, int] | None = None,
        parallelism: int | None = None,
        show_progress: bool = False,
        env: Mapping[str, str] | None = None,
        warm_commands: Sequence[str] = (ETL_TASK,),
        executor: LocalExecutor = LocalExecutor.PROCESS,
    ) -> None:
        """``env`` is what every pod's environment starts from (default: the allow-listed part of
        this process's, :mod:`etl.runner.pod_env`); ``warm_commands`` names the console scripts
        whose tasks start warm (see :mod:`etl.runner.warm_server`); every other command starts as
        a new process. ``executor`` says whether pods are processes or containers."""
        self.state_root = state_root
        self.store = RunStore(state_root)
        self.executor = executor
        self.warm_commands = list(warm_commands)
        self._starter: TaskStarter | None = None
        self._shared_starter: TaskStarter | None = None
        self.secrets = secrets
        self.semaphore_limits = dict(semaphore_limits or {})
        self.parallelism = parallelism or os.cpu_count() or 2
        self.show_progress = show_progress
        self.env = env
        self._engines: set[Engine] = set()
        self._engines_lock = threading.Lock()

    # -- running --------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Start the warm task server now, so that it imports while the workflow is compiled."""
        if self.executor == LocalExecutor.CONTAINER:
            return
        if self._starter is None:
            self._starter = TaskStarter(console_script_entries(self.warm_commands))
        self._starter.start_server()

    @contextlib.contextmanager
    def sharing_warm_server(self) -> Iterator[None]:
        """Within this block every run's pods fork from one warm task server, started now, instead
        of each run starting (and importing into) its own; it ends with the block, after its
        tasks. For a caller that submits many runs of the same commands: the stream's consumers,
        each one run, started as the queue deepens."""
        if self.executor == LocalExecutor.CONTAINER:
            yield
            return
        starter, self._starter = self._starter, None
        starter = starter or TaskStarter(console_script_entries(self.warm_commands))
        starter.start_server()
        self._shared_starter = starter
        try:
            yield
        finally:
            self._shared_starter = None
            starter.close()

    def submit(self, manifest: Mapping[str, Any]) -> SubmittedWorkflow:
        """Run the workflow to its end here; the result says how it ended.

        Raises:
            InputError: a run of that (fixed) name is running now.
        """
        workflow = parse_workflow(dict(manifest))
        name = self.store.new_name(workflow.generate_name, workflow.name)
        labels = dict((manifest.get("metadata") or {}).get("labels") or {})
        record = RunRecord(name=name, namespace=workflow.namespace, labels=labels)
        with self._runner_lock(name, WorkflowPhase.RUNNING):
            executor = self._pod_executor(name, workflow)
            _claim(record)
            self.store.create(record, dict(manifest))
            self._execute(record, dict(manifest), executor)
        return SubmittedWorkflow(
            name=name,
            namespace=self.kind,
            runner=self.kind,
            status=record.phase.value,
            url=self.store.run_dir(name).as_uri(),
        )

    def retry(self, name: str) -> WorkflowStatus:
        """Run a Failed or Error run again (one whose runner is gone included): nodes that
        succeeded are kept, the rest re-run, and the exit handler runs again (Argo drops its
        nodes on a retry)."""
        phase = self._load(name).phase
        with self._runner_lock(name, phase):
            record = self._ended(name)
            if record.phase not in {WorkflowPhase.FAILED, WorkflowPhase.ERROR}:
                raise InputError(
                    f"workflow {name!r} is {record.phase}; only Failed or Error runs retry"
                )
            exit_node = exit_node_id(name)
            record.nodes = {k: n for k, n in record.nodes.items() if not k.startswith(exit_node)}
            for node in record.nodes.values():
                if node.phase != WorkflowPhase.SUCCEEDED:
                    node.phase, node.message, node.attempts = WorkflowPhase.PENDING, "", 0
            manifest = self.store.manifest(name)
            _claim(record)
            self._execute(record, manifest, self._pod_executor(name, parse_workflow(manifest)))
        return self.get(name)

    def stop(self, name: str) -> WorkflowStatus:
        """Stop a running run: its runner is signalled and the run ends Failed (``Stopped``).

        A run whose runner is gone is recorded as such (``Error``) and nothing is signalled; nor
        is a recorded pid that is no longer provably the runner's process.

        Raises:
            RunError: the run's runner holds its lock, but its recorded pid is not that process.
        """
        record = self.store.load(name)
        if record.finished:
            return _status(record)
        try:
            with self._lock(name).hold():  # free: the runner is gone
                record = self._ended(name)
                self.store.save(record)
                return _status(record)
        except RunnerLockHeldError:
            pass  # the runner is alive
        if not record.pid or not signal_if_same(record.pid, record.pid_identity, signal.SIGTERM):
            raise RunError(
                f"workflow {name!r}: its runner holds {self._lock(name).path}, but the recorded "
                f"pid {record.pid} is not that process (not signalled): stop the runner yourself"
            )
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        while time.monotonic() < deadline and not self._load(name).finished:
            time.sleep(POLL_SECONDS)
        return self.get(name)

    @contextlib.contextmanager
    def _runner_lock(self, name: str, phase: WorkflowPhase) -> Iterator[None]:
        """Hold run ``name``'s runner lock; a run being run already is an error."""
        try:
            with self._lock(name).hold():
                yield
        except RunnerLockHeldError:
            raise InputError(
                f"workflow {name!r} is {phase}: its runner holds {self._lock(name).path}"
            ) from None

    def _lock(self, name: str) -> RunnerLock:
        return RunnerLock(self.store.run_dir(name))

    def _pod_executor(self, name: str, workflow: WorkflowManifest) -> PodExecutor:
        """How run ``name``'s pods start; a container executor checks its images now."""
        if self.executor == LocalExecutor.CONTAINER:
            from etl.runner.container_pods import ContainerExecutor

            images = [t.container.image for t in workflow.templates.values() if t.container]
            return ContainerExecutor(name, self.state_root, [i for i in images if i])
        if self._shared_starter is not None:
            return ProcessExecutor(self._shared_starter, owns_starter=False)
        starter, self._starter = self._starter, None
        return ProcessExecutor(starter or TaskStarter(console_script_entries(self.warm_commands)))

    def _execute(self, record: RunRecord, manifest: dict[str, Any], executor: PodExecutor) -> None:
        workflow = parse_workflow(manifest)
        with contextlib.ExitStack() as stack:
            stack.callback(executor.close)
            on_event: EngineEvent | None = None
            if self.show_progress:
                from etl.core.progress import report_progress

                on_event = ProgressEvents(
                    stack.enter_context(report_progress(f"{record.name} items"))
                )
            engine = Engine(
                workflow,
                record,
                self.store,
                secrets=self.secrets,
                semaphore_limits=self.semaphore_limits,
                default_parallelism=self.parallelism,
                on_event=on_event,
                env=self.env if self.env is not None else passed_on(os.environ),
                executor=executor,
            )
            with self._engines_lock:
                self._engines.add(engine)
            stack.callback(self._forget_engine, engine)
            with _stop_on_signals(engine) as received:
                engine.run()
        if signal.SIGINT in received:
            raise RunInterruptedError(record.name)

    def stop_running(self) -> None:
        """Stop every run this runner is running now, from any thread (each ends ``Stopped``, its
        pods terminated): how a caller running several submits on threads ends them."""
        with self._engines_lock:
            engines = list(self._engines)
        for engine in engines:
            engine.stop()

    def _forget_engine(self, engine: Engine) -> None:
        with self._engines_lock:
            self._engines.discard(engine)

    # -- reading --------------------------------------------------------------------------------

    def get(self, name: str) -> WorkflowStatus:
        """The run's phase, timing, counts and failed nodes."""
        return _status(self._load(name))

    def manifest(self, name: str) -> Mapping[str, Any]:
        """The manifest the run was submitted with."""
        self._load(name)
        return self.store.manifest(name)

    def list(self, limit: int | None = None) -> Sequence[WorkflowStatus]:
        """Recorded runs, newest first; a run whose record is unreadable is listed ``Error``, its
        message naming the file (:data:`etl.runner.records.UNREADABLE_RECORD`)."""
        names = self.store.names()[:limit] if limit else self.store.names()
        statuses = []
        for name in names:
            try:
                statuses.append(_status(self._load(name)))
            except UnreadableRunRecordError as exc:
                statuses.append(WorkflowStatus(name, "", WorkflowPhase.ERROR, message=str(exc)))
        return statuses

    def watch(self, name: str) -> Iterator[WorkflowStatus]:
        """The current status, then every change, until the run ends."""
        last: tuple[str, str | None] | None = None
        while True:
            status = self.get(name)
            key = (status.phase.value, status.progress)
            if key != last:
                last = key
                yield status
            if status.finished:
                return
            time.sleep(POLL_SECONDS)

    def logs(self, name: str, *, follow: bool = False) -> Iterator[LogLine]:
        """Every node's output, node by node; ``follow`` tails until the run ends."""
        offsets: dict[str, int] = {}
        while True:
            record = self._load(name)
            for node in sorted(record.nodes.values(), key=lambda n: (n.started_at or "", n.id)):
                if not node.log or not Path(node.log).exists():
                    continue
                with Path(node.log).open("rb") as handle:
                    handle.seek(offsets.get(node.id, 0))
                    data = handle.read()
                    complete = data[: data.rfind(b"\n") + 1]
                    offsets[node.id] = offsets.get(node.id, 0) + len(complete)
                for line in complete.decode(errors="replace").splitlines():
                    yield LogLine(pod=node.id, content=line)
            if not follow or record.finished:
                return
            time.sleep(POLL_SECONDS)

    def _load(self, name: str) -> RunRecord:
        """Run ``name``'s record; a run whose runner is gone, as ended ``Error``."""
        record = self.store.load(name)
        if record.finished or self._lock(name).held():
            return record
        return self._ended(name)  # it may have ended since it was read

    def _ended(self, name: str) -> RunRecord:
        """Run ``name``'s record read when its runner cannot be running (its lock is free, or
        this process holds it): a run its runner left unfinished has ended ``Error``."""
        record = self.store.load(name)
        if not record.finished:
            record.runner_gone(self.store.saved_at(name))
        return record


def _claim(record: RunRecord) -> None:
    """Record this process as the run's runner."""
    record.pid = os.getpid()
    record.pid_identity = process_identity(record.pid)


def _status(record: RunRecord) -> WorkflowStatus:
    progress = None
    if record.progress:
        progress = " ".join(f"{k}={v}" for k, v in sorted(record.progress.items()))
    return WorkflowStatus(
        name=record.name,
        namespace=RunnerKind.LOCAL.value,
        phase=record.phase,
        message=record.message,
        started_at=record.started_at,
        finished_at=record.finished_at,
        progress=progress,
        failed_nodes=tuple(
            NodeFailure(node=n.display_name, phase=n.phase.value, message=n.message)
            for n in record.failed_nodes()
        ),
        labels=dict(record.labels),
    )


@contextlib.contextmanager
def _stop_on_signals(engine: Engine) -> Iterator[set[int]]:
    """In the main thread, SIGTERM and SIGINT stop the run cleanly (recorded as Stopped); the
    set given holds the signals received."""
    received: set[int] = set()
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        received.add(signum)
        engine.stop()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def local_runner_for(profile: Profile, env: Mapping[str, str] = os.environ) -> LocalRunner:
    """The local runner of ``profile``: runs recorded under the state folder, local secrets,
    progress on stderr, the ``etl-semaphores`` limits that ``deployment/`` sets on a cluster,
    pods that see only what a cluster pod would (:mod:`etl.runner.pod_env`), started as the
    profile's ``local.executor`` says."""
    from etl.core.paths import state_dir
    from etl.core.secrets.local import LocalSecrets

    root = state_dir(env)
    return LocalRunner(
        root,
        secrets=LocalSecrets(profile.name, env=env),
        semaphore_limits=LOCAL_SEMAPHORES,
        parallelism=profile.workflow.parallelism,
        show_progress=True,
        env=pod_base_env(profile, env, root),
        executor=profile.local.executor,
    )
