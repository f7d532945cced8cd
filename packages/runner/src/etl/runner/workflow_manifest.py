"""The subset of an Argo ``Workflow`` manifest that the local runner executes.

:func:`parse_workflow` turns a manifest dict into typed templates. Every key is either executed,
explicitly known to be about cluster placement (no meaning on one machine: images, resources,
service accounts, pod GC...), or refused with :class:`UnsupportedManifestError`: a manifest feature
the runner cannot honour is an error, never a silent skip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from etl.core.pod_contract import semaphore_name
from etl.runner.durations import parse_duration
from etl.runner.manifest_keys import UnsupportedManifestError, check_keys
from etl.runner.manifest_retry import RetryStrategy, parse_retry

__all__ = [
    "ContainerSpec",
    "DagTask",
    "OutputParameter",
    "RetryStrategy",
    "Template",
    "UnsupportedManifestError",
    "WorkflowManifest",
    "parse_duration",
    "parse_workflow",
]


_DEPENDS_TERM = re.compile(r"^\s*([A-Za-z0-9_-]+)(?:\.(Succeeded))?\s*$")


@dataclass(frozen=True)
class OutputParameter:
    """An output parameter read from a file the container writes."""

    name: str
    path: str


@dataclass(frozen=True)
class ContainerSpec:
    """What runs: a command line and its environment (``value`` or ``secretKeyRef`` entries),
    and, for the container executor, the image and ``resources.limits``."""

    command: list[str]
    args: list[str]
    env: list[dict[str, Any]]
    working_dir: str | None = None
    image: str | None = None
    limits: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DagTask:
    """One task of a DAG template, with its fan-out (``withSequence``/``withItems``/``withParam``)."""

    name: str
    template: str
    arguments: dict[str, str]
    dependencies: list[str]
    with_sequence: dict[str, Any] | None = None
    with_items: list[Any] | None = None
    with_param: str | None = None


@dataclass(frozen=True)
class Template:
    """A container or DAG template."""

    name: str
    inputs: dict[str, str | None]
    outputs: list[OutputParameter]
    container: ContainerSpec | None = None
    tasks: list[DagTask] = field(default_factory=list)
    retry: RetryStrategy = field(default_factory=RetryStrategy)
    parallelism: int | None = None
    semaphore: str | None = None
    deadline: float | None = None
    """``activeDeadlineSeconds``: how long one try may run (the pod's own deadline)."""
    timeout: float | None = None
    """``timeout``: how long one try may take; Argo sets it as the pod's deadline too."""


@dataclass(frozen=True)
class WorkflowManifest:
    """A parsed ``Workflow``: its templates, entrypoint, exit handler, arguments and
    workflow-wide limits."""

    generate_name: str
    name: str | None
    namespace: str
    entrypoint: str
    on_exit: str | None
    """``spec.onExit``: the template run once the entrypoint has ended, however it ended."""
    arguments: dict[str, str]
    templates: dict[str, Template]
    parallelism: int | None
    deadline: float | None
    not_applicable: list[str]
    raw: dict[str, Any]


def parse_workflow(manifest: dict[str, Any]) -> WorkflowManifest:
    """Check and parse a ``Workflow`` manifest into the runner's model."""
    if manifest.get("kind") != "Workflow":
        raise UnsupportedManifestError(
            f"the local runner runs kind Workflow, not {manifest.get('kind')!r}"
        )
    spec = manifest.get("spec") or {}
    notes: list[str] = []
    check_keys(spec, "spec", "spec", notes)
    metadata = manifest.get("metadata") or {}
    templates = {t["name"]: _parse_template(t, notes) for t in spec.get("templates", [])}
    entrypoint = spec.get("entrypoint")
    if entrypoint not in templates:
        raise UnsupportedManifestError(f"spec.entrypoint {entrypoint!r} names no template")
    on_exit = spec.get("onExit")
    if on_exit is not None and on_exit not in templates:
        raise UnsupportedManifestError(f"spec.onExit {on_exit!r} names no template")
    return WorkflowManifest(
        generate_name=metadata.get("generateName", ""),
        name=metadata.get("name"),
        namespace=metadata.get("namespace", "local"),
        entrypoint=str(entrypoint),
        on_exit=None if on_exit is None else str(on_exit),
        arguments=_parameters(
            (spec.get("arguments") or {}).get("parameters", []), "spec.arguments"
        ),
        templates=templates,
        parallelism=spec.get("parallelism"),
        deadline=_seconds(spec, "activeDeadlineSeconds", "spec"),
        not_applicable=sorted(set(notes)),
        raw=manifest,
    )


def _parameters(params: list[dict[str, Any]], where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for param in params:
        if "value" not in param:
            raise UnsupportedManifestError(f"{where}: parameter {param.get('name')!r} has no value")
        out[param["name"]] = str(param["value"])
    return out


def _parse_template(raw: dict[str, Any], notes: list[str]) -> Template:
    name = raw["name"]
    where = f"templates[{name}]"
    check_keys(raw, "template", where, notes)
    inputs = {
        p["name"]: (str(p["value"]) if "value" in p else None)
        for p in (raw.get("inputs") or {}).get("parameters", [])
    }
    outputs = []
    for param in (raw.get("outputs") or {}).get("parameters", []):
        path = (param.get("valueFrom") or {}).get("path")
        if not path:
            raise UnsupportedManifestError(
                f"{where}.outputs: only valueFrom.path parameters are supported"
            )
        outputs.append(OutputParameter(param["name"], path))
    container = None
    if "container" in raw:
        check_keys(raw["container"], "container", f"{where}.container", notes)
        container = ContainerSpec(
            command=list(raw["container"].get("command", [])),
            args=[str(a) for a in raw["container"].get("args", [])],
            env=list(raw["container"].get("env", [])),
            working_dir=raw["container"].get("workingDir"),
            image=raw["container"].get("image"),
            limits={
                str(k): str(v)
                for k, v in ((raw["container"].get("resources") or {}).get("limits") or {}).items()
            },
        )
    tasks = [_parse_task(t, where) for t in (raw.get("dag") or {}).get("tasks", [])]
    if container is None and not tasks:
        raise UnsupportedManifestError(f"{where}: only container and dag templates are supported")
    return Template(
        name=name,
        inputs=inputs,
        outputs=outputs,
        container=container,
        tasks=tasks,
        retry=parse_retry(raw.get("retryStrategy"), where),
        parallelism=raw.get("parallelism"),
        semaphore=_parse_semaphore(raw.get("synchronization"), where),
        deadline=_seconds(raw, "activeDeadlineSeconds", where),
        timeout=_seconds(raw, "timeout", where),
    )


def _seconds(raw: dict[str, Any], key: str, where: str) -> float | None:
    return parse_duration(raw[key], f"{where}.{key}") if key in raw else None


def _parse_task(raw: dict[str, Any], where: str) -> DagTask:
    check_keys(raw, "task", f"{where}.dag.tasks[{raw.get('name')}]", [])
    dependencies = list(raw.get("dependencies", []))
    if "depends" in raw:
        for term in str(raw["depends"]).split("&&"):
            match = _DEPENDS_TERM.match(term)
            if not match:
                raise UnsupportedManifestError(
                    f"{where}.dag.tasks[{raw['name']}].depends: only 'a && b.Succeeded' forms are supported"
                )
            dependencies.append(match.group(1))
    return DagTask(
        name=raw["name"],
        template=raw["template"],
        arguments=_parameters((raw.get("arguments") or {}).get("parameters", []), where),
        dependencies=dependencies,
        with_sequence=raw.get("withSequence"),
        with_items=raw.get("withItems"),
        with_param=raw.get("withParam"),
    )


def _parse_semaphore(raw: dict[str, Any] | None, where: str) -> str | None:
    if not raw:
        return None
    semaphores = raw.get("semaphores") or ([raw["semaphore"]] if "semaphore" in raw else [])
    if len(semaphores) != 1 or set(raw) - {"semaphore", "semaphores"}:
        raise UnsupportedManifestError(f"{where}.synchronization: only one semaphore is supported")
    ref = semaphores[0].get("configMapKeyRef")
    if not ref:
        raise UnsupportedManifestError(f"{where}.synchronization: only configMapKeyRef semaphores")
    return semaphore_name(ref["name"], ref["key"])
