"""The workflows a stand-in Argo Server holds, and how they run (see ``argo_server.py``).

A created workflow is Pending for one step of the clock, Running for the next, then ends as its
:class:`RunPlan` says. Its ``status`` has the shape the real server sends: phase, timestamps,
progress, and one node per step (``Pod`` children under a ``DAG``/``Steps`` root) with messages on
the failed ones. A stopped workflow stays Running for one more step (the stop call answers before
the controller acts, as Argo's does), then ends Failed. Answers are plain JSON, built the way the
Argo Server's API returns them.

:class:`FakeCronWorkflows` holds cron workflows as the server's CronWorkflow API does (Kubernetes
objects: create refuses an existing name with 409 AlreadyExists, update needs the current
``metadata.resourceVersion`` and answers 409 Conflict to a stale one); they never fire.
"""

from __future__ import annotations

import json
import random
import string
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["FakeCronWorkflows", "FakeWorkflows", "RunPlan", "StandInError"]

_FINAL = ("Succeeded", "Failed", "Error")
_STOPPED = "Stopped with strategy 'Stop'"


class StandInError(Exception):
    """An error answer: HTTP status, gRPC code and message, as the Argo Server sends them."""

    def __init__(self, status: int, code: int, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(message)


@dataclass
class RunPlan:
    """How one workflow runs in the stand-in.

    Attributes:
        phase: the phase it ends in: Succeeded, Failed or Error.
        failures: step name → the message of that failed step (for Failed/Error).
        message: the workflow's own status message when it ends.
        hold: stay Running until stopped.
        log_lines: what each step's pod prints (``{step}`` is replaced by the step name).
        deleted_pods: steps whose pods are gone (``podGC``): the log stream has no line of them.
    """

    phase: str = "Succeeded"
    failures: dict[str, str] = field(default_factory=dict)
    message: str = ""
    hold: bool = False
    log_lines: tuple[str, ...] = ("{step}: starting", "{step}: wrote 3 items", "{step}: done")
    deleted_pods: tuple[str, ...] = ()


@dataclass
class _Run:
    workflow: dict[str, Any]
    plan: RunPlan
    started: float
    steps: list[str]
    root_type: str
    stopped: bool = False
    stopped_at: float = 0.0
    resource_version: int = 1
    finished_at: str | None = None
    """When it was first seen ended (Argo's ``finishedAt``, of the workflow and its pods)."""


def _fnv(text: str) -> int:
    """FNV-1a, 32 bits: how Argo hashes a node's name into its node id and pod name."""
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeWorkflows:
    """Workflow objects by namespace and name, moving through their phases on a clock."""

    def __init__(self, step_seconds: float) -> None:
        self.step_seconds = step_seconds
        self.plans: list[RunPlan] = []
        self._runs: dict[tuple[str, str], _Run] = {}
        self._lock = threading.Lock()

    def create(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/v1/workflows/{namespace}``: store the workflow, Pending."""
        workflow = _checked_workflow(namespace, body)
        metadata = workflow["metadata"]
        if not metadata.get("name"):
            suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
            metadata["name"] = metadata["generateName"] + suffix
        metadata.update(namespace=namespace, uid=str(uuid.uuid4()), creationTimestamp=_now())
        root, steps = _steps_of(workflow)
        with self._lock:
            key = (namespace, metadata["name"])
            if key in self._runs:
                raise StandInError(409, 6, f'workflows.argoproj.io "{key[1]}" already exists')
            plan = self.plans.pop(0) if self.plans else RunPlan()
            self._runs[key] = _Run(workflow, plan, time.monotonic(), steps, root)
            return self._snapshot(self._runs[key])

    def lint(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST .../lint``: the workflow back, nothing stored."""
        return _checked_workflow(namespace, body)

    def get(self, namespace: str, name: str) -> dict[str, Any]:
        """``GET .../{name}``."""
        with self._lock:
            return self._snapshot(self._run(namespace, name))

    def list(self, namespace: str, limit: int) -> dict[str, Any]:
        """``GET /api/v1/workflows/{namespace}``: newest first, ``limit`` with a continue token."""
        with self._lock:
            runs = [run for (ns, _), run in self._runs.items() if ns == namespace]
            items = [self._snapshot(run) for run in sorted(runs, key=lambda r: -r.started)]
        metadata: dict[str, Any] = {"resourceVersion": str(len(items))}
        if limit and len(items) > limit:
            items, metadata["continue"] = items[:limit], str(limit)
        return {"metadata": metadata, "items": items}

    def delete(self, namespace: str, name: str) -> dict[str, Any]:
        """``DELETE .../{name}``."""
        with self._lock:
            self._run(namespace, name)
            del self._runs[(namespace, name)]
        return {}

    def stop(self, namespace: str, name: str) -> dict[str, Any]:
        """``PUT .../stop``: a running workflow ends Failed, its running steps with it."""
        with self._lock:
            run = self._run(namespace, name)
            if self._phase(run) in _FINAL:
                raise StandInError(400, 9, "cannot shutdown a completed workflow")
            run.stopped = True
            run.stopped_at = time.monotonic()
            run.resource_version += 1
            return self._snapshot(run)

    def retry(self, namespace: str, name: str) -> dict[str, Any]:
        """``PUT .../retry``: a Failed/Error workflow runs again (by the next plan), Running."""
        with self._lock:
            run = self._run(namespace, name)
            if self._phase(run) not in ("Failed", "Error"):
                raise StandInError(400, 9, "workflow must be Failed/Error to retry")
            run.plan = self.plans.pop(0) if self.plans else RunPlan()
            run.started = time.monotonic() - self.step_seconds
            run.stopped = False
            run.finished_at = None
            run.resource_version += 1
            return self._snapshot(run)

    def events(self, namespace: str, field_selector: str | None) -> Iterator[dict[str, Any]]:
        """``GET /api/v1/workflow-events/{namespace}``: ADDED, then MODIFIED on each change."""
        name = (field_selector or "").removeprefix("metadata.name=")
        with self._lock:
            self._run(namespace, name)
        return self._event_stream(namespace, name)

    def logs(self, namespace: str, name: str, *, follow: bool) -> Iterator[dict[str, Any]]:
        """``GET .../{name}/log``: each step's lines; ``follow`` waits for the workflow's end."""
        with self._lock:
            self._run(namespace, name)
        return self._log_stream(namespace, name, follow)

    def _event_stream(self, namespace: str, name: str) -> Iterator[dict[str, Any]]:
        kind, last, deadline = "ADDED", None, time.monotonic() + 30
        while time.monotonic() < deadline:
            with self._lock:
                run = self._runs.get((namespace, name))
                snapshot = self._snapshot(run) if run else None
            if snapshot is None:
                return
            phase = snapshot["status"].get("phase")
            if phase != last:
                yield {"type": kind, "object": snapshot}
                kind, last = "MODIFIED", phase
            if phase in _FINAL:
                return
            time.sleep(self.step_seconds / 10)

    def _log_stream(self, namespace: str, name: str, follow: bool) -> Iterator[dict[str, Any]]:
        sent: set[tuple[str, int]] = set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with self._lock:
                run = self._runs.get((namespace, name))
                if run is None:
                    return
                phase = self._phase(run)
                lines = self._log_lines(run, phase)
            for key, pod, content in lines:
                if key not in sent:
                    sent.add(key)
                    yield {"podName": pod, "content": content}
            if not follow or phase in _FINAL:
                return
            time.sleep(self.step_seconds / 10)

    def _log_lines(self, run: _Run, phase: str) -> list[tuple[tuple[str, int], str, str]]:
        if phase == "Pending":
            return []
        name = run.workflow["metadata"]["name"]
        lines = []
        for step in run.steps:
            text = [line.format(step=step) for line in run.plan.log_lines]
            if phase not in _FINAL:
                text = text[:1]
            elif step in run.plan.failures:
                text = [*text[:1], run.plan.failures[step]]
            if step in run.plan.deleted_pods:
                continue
            pod = f"{name}-{step}-{_fnv(f'{name}.{step}')}"  # Argo's v2 pod name
            lines.extend(((step, i), pod, content) for i, content in enumerate(text))
        return lines

    def _run(self, namespace: str, name: str) -> _Run:
        run = self._runs.get((namespace, name))
        if run is None:
            raise StandInError(404, 5, f'workflows.argoproj.io "{name}" not found')
        return run

    def _phase(self, run: _Run) -> str:
        if run.stopped:  # the controller acts on the stop one step after the call
            stopping = time.monotonic() - run.stopped_at < self.step_seconds
            return "Running" if stopping else "Failed"
        elapsed = (time.monotonic() - run.started) / self.step_seconds
        if elapsed < 1:
            return "Pending"
        if elapsed < 2 or run.plan.hold:
            return "Running"
        return run.plan.phase

    def _snapshot(self, run: _Run) -> dict[str, Any]:
        phase = self._phase(run)
        metadata = dict(run.workflow["metadata"])
        metadata["resourceVersion"] = str(run.resource_version)
        metadata["labels"] = {
            **metadata.get("labels", {}),
            "workflows.argoproj.io/phase": phase,
            "workflows.argoproj.io/completed": str(phase in _FINAL).lower(),
        }
        status: dict[str, Any] = {"phase": phase, "startedAt": metadata["creationTimestamp"]}
        if phase in _FINAL and run.finished_at is None:
            run.finished_at = _now()
        if phase != "Pending":
            status["nodes"] = self._nodes(run, phase)
        done = sum(1 for node in status.get("nodes", {}).values() if node["phase"] in _FINAL)
        status["progress"] = f"{min(done, len(run.steps))}/{len(run.steps)}"
        if phase in _FINAL:
            status["finishedAt"] = run.finished_at
            message = _STOPPED if run.stopped else run.plan.message
            if message:
                status["message"] = message
        return {**run.workflow, "metadata": metadata, "status": status}

    def _nodes(self, run: _Run, phase: str) -> dict[str, Any]:
        name = run.workflow["metadata"]["name"]
        started = run.workflow["metadata"]["creationTimestamp"]
        nodes: dict[str, Any] = {}
        for step in run.steps:
            node_id = f"{name}-{_fnv(f'{name}.{step}')}"  # Argo's node id of node NAME.STEP
            node: dict[str, Any] = {
                "id": node_id,
                "name": f"{name}.{step}",
                "displayName": step,
                "type": "Pod",
                "templateName": step,
                "phase": phase if phase in ("Running", "Succeeded") else "Succeeded",
                "startedAt": started,
            }
            if run.stopped and phase == "Failed":
                node.update(phase="Failed", message="workflow shutdown with strategy:  Stop")
            elif phase != "Running" and step in run.plan.failures:
                node.update(phase=phase, message=run.plan.failures[step])
            if phase in _FINAL:
                node["finishedAt"] = run.finished_at
            nodes[node_id] = node
        failed = [node for node in nodes.values() if node["phase"] in ("Failed", "Error")]
        root: dict[str, Any] = {
            "id": name,
            "name": name,
            "displayName": name,
            "type": run.root_type,
            "phase": phase,
            "startedAt": started,
            "children": list(nodes),
        }
        if phase in _FINAL:
            root["finishedAt"] = run.finished_at
        if run.root_type == "Pod":  # the entrypoint is itself the one pod
            (pod,) = nodes.values()
            return {name: {**pod, "id": name, "name": name, "displayName": name}}
        if failed:
            root["message"] = f"child '{failed[0]['id']}' failed"
        return {name: root, **nodes}


class FakeCronWorkflows:
    """Cron workflows by namespace and name, as the CronWorkflow API keeps them."""

    def __init__(self) -> None:
        self._crons: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._versions = 0

    def create(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/v1/cron-workflows/{namespace}``: store it; 409 if the name is taken."""
        cron = _checked_cron(namespace, body)
        metadata = cron["metadata"]
        if metadata.get("resourceVersion"):
            raise StandInError(400, 3, "resourceVersion should not be set on objects to be created")
        with self._lock:
            key = (namespace, metadata["name"])
            if key in self._crons:
                raise StandInError(409, 6, f'cronworkflows.argoproj.io "{key[1]}" already exists')
            metadata.update(
                namespace=namespace,
                uid=str(uuid.uuid4()),
                creationTimestamp=_now(),
                generation=1,
                resourceVersion=self._next_version(),
            )
            self._crons[key] = cron
            return _copy(cron)

    def get(self, namespace: str, name: str) -> dict[str, Any]:
        """``GET .../{name}``."""
        with self._lock:
            return _copy(self._cron(namespace, name))

    def update(self, namespace: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """``PUT .../{name}``: replace its spec; the current ``resourceVersion`` is required."""
        cron = _checked_cron(namespace, body)
        metadata = cron["metadata"]
        if metadata["name"] != name or body.get("name", name) != name:
            raise StandInError(400, 3, "the name in the body does not match the path")
        with self._lock:
            current = self._cron(namespace, name)
            version = metadata.get("resourceVersion")
            if not version:
                raise StandInError(
                    422,
                    3,
                    "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update",
                )
            if version != current["metadata"]["resourceVersion"]:
                raise StandInError(
                    409,
                    10,
                    f'Operation cannot be fulfilled on cronworkflows.argoproj.io "{name}":'
                    " the object has been modified; please apply your changes to the latest"
                    " version and try again",
                )
            kept = {k: current["metadata"][k] for k in ("uid", "creationTimestamp")}
            metadata.update(
                namespace=namespace,
                generation=current["metadata"]["generation"] + 1,
                resourceVersion=self._next_version(),
                **kept,
            )
            if "status" in current:
                cron["status"] = current["status"]
            self._crons[(namespace, name)] = cron
            return _copy(cron)

    def list(self, namespace: str) -> dict[str, Any]:
        """``GET /api/v1/cron-workflows/{namespace}``: in name order."""
        with self._lock:
            items = [_copy(c) for (ns, _), c in sorted(self._crons.items()) if ns == namespace]
        return {"metadata": {"resourceVersion": str(self._versions)}, "items": items}

    def delete(self, namespace: str, name: str) -> dict[str, Any]:
        """``DELETE .../{name}``."""
        with self._lock:
            self._cron(namespace, name)
            del self._crons[(namespace, name)]
        return {}

    def scheduled(self, namespace: str, name: str, workflow: str) -> None:
        """Record that the cron workflow started ``workflow`` (as the controller would)."""
        with self._lock:
            cron = self._cron(namespace, name)
            cron["status"] = {
                "active": [{"kind": "Workflow", "namespace": namespace, "name": workflow}],
                "lastScheduledTime": _now(),
                "succeeded": 0,
                "failed": 0,
                "conditions": [],
                "phase": "Active",
            }

    def _cron(self, namespace: str, name: str) -> dict[str, Any]:
        cron = self._crons.get((namespace, name))
        if cron is None:
            raise StandInError(404, 5, f'cronworkflows.argoproj.io "{name}" not found')
        return cron

    def _next_version(self) -> str:
        self._versions += 1
        return str(1000 + self._versions)


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data))


def _checked_cron(namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    cron = _copy(body.get("cronWorkflow") or {})
    metadata = cron.setdefault("metadata", {})
    if not metadata.get("name"):
        raise StandInError(400, 3, "cron workflow must have a name")
    if (
        metadata.get("namespace", namespace) != namespace
        or body.get("namespace", namespace) != namespace
    ):
        raise StandInError(400, 3, "cron workflow namespace does not match the request namespace")
    spec = cron.get("spec") or {}
    if not spec.get("schedules"):
        raise StandInError(400, 3, "cron workflow must have at least one schedule")
    if not (spec.get("workflowSpec") or {}).get("templates"):
        raise StandInError(400, 3, "spec.workflowSpec.templates: at least one template is required")
    return cron


def _checked_workflow(namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    workflow = dict(body.get("workflow") or {})
    metadata = dict(workflow.get("metadata") or {})
    if not metadata.get("name") and not metadata.get("generateName"):
        raise StandInError(400, 3, "workflow must have a name or a generateName")
    if metadata.get("namespace", namespace) != namespace:
        raise StandInError(400, 3, "workflow namespace does not match the request namespace")
    if not (workflow.get("spec") or {}).get("templates"):
        raise StandInError(400, 3, "spec.templates: at least one template is required")
    workflow["metadata"] = metadata
    return workflow


def _steps_of(workflow: dict[str, Any]) -> tuple[str, list[str]]:
    """The root node's type and the names of the entrypoint's steps (tasks)."""
    spec = workflow["spec"]
    entry = spec.get("entrypoint") or spec["templates"][0]["name"]
    template = next((t for t in spec["templates"] if t.get("name") == entry), {})
    if "dag" in template:
        return "DAG", [task["name"] for task in template["dag"].get("tasks", [])]
    if "steps" in template:
        return "Steps", [step["name"] for group in template["steps"] for step in group]
    return "Pod", [entry]
