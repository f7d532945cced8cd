"""The workflows a stand-in Argo Server holds, and how they run (see ``argo_server.py``).

A created workflow is Pending for one step of the clock, Running for the next, then ends as its
:class:`RunPlan` says. Its ``status`` has the shape the real server sends: phase, timestamps,
progress, and one node per step (``Pod`` children under a ``DAG``/``Steps`` root) with messages on
the failed ones. Answers are plain JSON, built the way the Argo Server's API returns them.
"""

from __future__ import annotations

import random
import string
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["FakeWorkflows", "RunPlan", "StandInError"]

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
    """

    phase: str = "Succeeded"
    failures: dict[str, str] = field(default_factory=dict)
    message: str = ""
    hold: bool = False
    log_lines: tuple[str, ...] = ("{step}: starting", "{step}: wrote 3 items", "{step}: done")


@dataclass
class _Run:
    workflow: dict[str, Any]
    plan: RunPlan
    started: float
    steps: list[str]
    root_type: str
    stopped: bool = False
    resource_version: int = 1


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
            pod = f"{name}-{step}-{zlib.crc32(step.encode())}"
            lines.extend(((step, i), pod, content) for i, content in enumerate(text))
        return lines

    def _run(self, namespace: str, name: str) -> _Run:
        run = self._runs.get((namespace, name))
        if run is None:
            raise StandInError(404, 5, f'workflows.argoproj.io "{name}" not found')
        return run

    def _phase(self, run: _Run) -> str:
        if run.stopped:
            return "Failed"
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
        if phase != "Pending":
            status["nodes"] = self._nodes(run, phase)
        done = sum(1 for node in status.get("nodes", {}).values() if node["phase"] in _FINAL)
        status["progress"] = f"{min(done, len(run.steps))}/{len(run.steps)}"
        if phase in _FINAL:
            status["finishedAt"] = _now()
            message = _STOPPED if run.stopped else run.plan.message
            if message:
                status["message"] = message
        return {**run.workflow, "metadata": metadata, "status": status}

    def _nodes(self, run: _Run, phase: str) -> dict[str, Any]:
        name = run.workflow["metadata"]["name"]
        started = run.workflow["metadata"]["creationTimestamp"]
        nodes: dict[str, Any] = {}
        for step in run.steps:
            node_id = f"{name}-{zlib.crc32(step.encode())}"
            node: dict[str, Any] = {
                "id": node_id,
                "name": f"{name}.{step}",
                "displayName": step,
                "type": "Pod",
                "templateName": step,
                "phase": phase if phase in ("Running", "Succeeded") else "Succeeded",
                "startedAt": started,
            }
            if run.stopped:
                node.update(phase="Failed", message="workflow shutdown with strategy:  Stop")
            elif phase != "Running" and step in run.plan.failures:
                node.update(phase=phase, message=run.plan.failures[step])
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
        if run.root_type == "Pod":  # the entrypoint is itself the one pod
            (pod,) = nodes.values()
            return {name: {**pod, "id": name, "name": name, "displayName": name}}
        if failed:
            root["message"] = f"child '{failed[0]['id']}' failed"
        return {name: root, **nodes}


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
