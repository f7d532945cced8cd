"""Execute a parsed Argo ``Workflow`` on this machine.

The engine runs the entrypoint template and records every node it starts: a DAG template's tasks
run in dependency order (:mod:`etl.runner.dag`), a container template's pod runs as a local
process or container with its retries and deadlines (:mod:`etl.runner.pods`), as many at once as
``spec.parallelism`` and the semaphores (shared with every local run of the namespace) allow
(:mod:`etl.runner.pod_slots`). Nodes already
Succeeded in the record are not run again, which is how a retried run re-processes only what
failed; a node run again keeps the counts its units of work reported before.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from etl.core.pod_contract import WORKFLOW_FAILURES, WORKFLOW_STATUS
from etl.core.workflow_failures import FailedNode, format_failures
from etl.runner.dag import DagRunner
from etl.runner.executors import PodExecutor, ProcessExecutor
from etl.runner.pod_slots import PodSlots
from etl.runner.pods import PodRunner
from etl.runner.records import NodeRecord, RunRecord, RunStore, now_iso
from etl.runner.run_state import EngineEvent, RunState
from etl.runner.warm_start import TaskStarter
from etl.runner.workflow_manifest import Template, UnsupportedManifestError, WorkflowManifest
from etl.runner.workflow_status import WorkflowPhase

if TYPE_CHECKING:
    from etl.core.templating.secret_refs import SecretLookup

__all__ = ["EXIT_NODE_SUFFIX", "Engine", "exit_node_id"]

EXIT_NODE_SUFFIX = ".onExit"
"""Argo names the exit handler's node after the workflow: ``NAME.onExit``."""


def exit_node_id(name: str) -> str:
    """The id (and displayed name) of run ``name``'s exit handler node, as Argo names it."""
    return name + EXIT_NODE_SUFFIX


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
        executor: PodExecutor | None = None,
    ) -> None:
        """``default_parallelism`` is how many pods run at once when the workflow does not say,
        and the size of a semaphore that ``semaphore_limits`` does not name; ``executor`` starts
        the pods (default: processes, cold)."""
        self.workflow = workflow
        self.state = RunState(record, store, on_event)
        slots = PodSlots(
            workflow.parallelism or default_parallelism,
            semaphore_limits,
            default_limit=max(1, default_parallelism),
            state_root=store.root.parent,
            namespace=workflow.namespace,
        )
        self.pods = PodRunner(
            self.state,
            slots,
            secrets=secrets,
            env=env,
            executor=executor or ProcessExecutor(TaskStarter()),
            workflow_deadline=workflow.deadline,
        )
        self.dag = DagRunner(workflow.templates, self.state.stopped, self._run_node)

    def run(self) -> RunRecord:
        """Execute the entrypoint, then the exit handler (``spec.onExit``) however it ended;
        the record ends Succeeded, Failed or Error."""
        record = self.state.record
        record.phase = WorkflowPhase.RUNNING
        record.started_at = record.started_at or now_iso()
        record.finished_at = None
        self.state.save()
        try:
            node = self._run_node(
                self.workflow.templates[self.workflow.entrypoint],
                dict(self.workflow.arguments),
                record.name,
                record.name,
                self._workflow_scope(),
            )
            phase, message = node.phase, node.message
            if self.state.stopped.is_set() and phase != WorkflowPhase.SUCCEEDED:
                phase, message = WorkflowPhase.FAILED, "Stopped"
            if self.workflow.on_exit is not None:
                phase, message = self._run_exit_handler(self.workflow.on_exit, phase, message)
            record.phase, record.message = phase, message
        except UnsupportedManifestError as exc:
            record.phase, record.message = WorkflowPhase.ERROR, str(exc)
            raise
        finally:
            if self.state.stopped.is_set() and record.phase != WorkflowPhase.SUCCEEDED:
                record.phase, record.message = WorkflowPhase.FAILED, "Stopped"
            record.finished_at = now_iso()
            self.state.save()
        return record

    def _run_exit_handler(
        self, template_name: str, phase: WorkflowPhase, message: str
    ) -> tuple[WorkflowPhase, str]:
        """Run the exit handler as Argo does, the run still Running: after a stop too (a second
        stop ends it), past the workflow's deadline, with ``workflow.status`` (``phase``, how the
        entrypoint ended) and ``workflow.failures`` set. The run's phase and message: the
        entrypoint's, or the handler's when the entrypoint succeeded and the handler did not."""
        record = self.state.record
        scope = self._workflow_scope() | {
            WORKFLOW_STATUS: phase.value,
            WORKFLOW_FAILURES: format_failures(_failed_nodes(record)),
        }
        self.state.stopped.clear()
        self.pods.lift_workflow_deadline()
        node_id = exit_node_id(record.name)
        node = self._run_node(
            self.workflow.templates[template_name],
            dict(self.workflow.arguments),
            node_id,
            node_id,
            scope,
        )
        if phase == WorkflowPhase.SUCCEEDED and node.phase != WorkflowPhase.SUCCEEDED:
            return node.phase, node.message
        return phase, message

    def stop(self) -> None:
        """Stop: no new nodes start and running processes are terminated."""
        self.state.stopped.set()
        self.pods.terminate_running()

    def _run_node(
        self,
        template: Template,
        arguments: dict[str, str],
        node_id: str,
        display: str,
        scope: dict[str, str],
    ) -> NodeRecord:
        """Run one node of ``template`` (unless it already succeeded) and record how it ended."""
        earlier = self.state.record.nodes.get(node_id)
        if earlier is not None and earlier.phase == WorkflowPhase.SUCCEEDED:
            return earlier
        inputs = _bind_inputs(template, arguments, node_id)
        local_scope = dict(scope) | {f"inputs.parameters.{k}": v for k, v in inputs.items()}
        node = NodeRecord(
            id=node_id,
            display_name=display,
            template=template.name,
            type="Pod" if template.container else "DAG",
            phase=WorkflowPhase.RUNNING,
            started_at=now_iso(),
            progress=earlier.progress if earlier is not None else {},
        )
        self.state.add_node(node)
        self.state.save()
        if template.container is not None:
            self.pods.run(template, node, local_scope)
        else:
            self.dag.run(template, node, local_scope)
        node.finished_at = now_iso()
        self.state.save()
        self.state.on_event("node-finished", {"node": node})
        return node

    def _workflow_scope(self) -> dict[str, str]:
        """The ``workflow.*`` variables every template sees."""
        record = self.state.record
        scope = {
            "workflow.name": record.name,
            "workflow.namespace": record.namespace,
            "workflow.creationTimestamp": record.started_at or now_iso(),
            "workflow.uid": record.name,
        }
        scope |= {f"workflow.parameters.{k}": v for k, v in self.workflow.arguments.items()}
        return scope


def _failed_nodes(record: RunRecord) -> list[FailedNode]:
    """The run's nodes that ended Failed or Error (DAGs too), as ``{{workflow.failures}}``
    lists them."""
    return [
        FailedNode(
            display_name=node.display_name,
            message=node.message,
            template_name=node.template,
            phase=node.phase.value,
            pod_name=node.id,
            finished_at=node.finished_at,
        )
        for node in record.nodes.values()
        if node.phase in {WorkflowPhase.FAILED, WorkflowPhase.ERROR}
    ]


def _bind_inputs(template: Template, arguments: dict[str, str], node_id: str) -> dict[str, str]:
    """``template``'s input parameters: the arguments given, else the defaults."""
    bound: dict[str, str] = {}
    for name, default in template.inputs.items():
        value = arguments.get(name, default)
        if value is None:
            raise UnsupportedManifestError(f"{node_id}: input parameter {name!r} has no value")
        bound[name] = value
    return bound
