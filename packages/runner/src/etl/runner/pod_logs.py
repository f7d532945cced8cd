"""A workflow's pods' output: live from the runner, else as ``etl-task`` kept it in storage.

On Argo the Argo Server streams logs from live pods only, and ``podGC: OnPodSuccess`` deletes
every pod that succeeded; each ``etl-task`` of a run keeps its log in the run's chunk storage
(``{run_id}/logs/{node id}.log``, :mod:`etl.task.pod_log`). :func:`workflow_logs` prints what the
runner streams, then the kept log of every pod the stream did not show, under the pod's name: the
workflow's nodes give it (:func:`etl.runner.argo_server.pod_names.pod_names` on Argo; the local runner
names its pods after their node ids, and its manifest has no nodes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from etl.core.errors import StorageError
from etl.core.profiles.model import Profile
from etl.runner.run_report import run_storages
from etl.runner.workflow_runner import WorkflowRunner
from etl.runner.workflow_status import LogLine

__all__ = ["kept_logs", "workflow_logs"]


def workflow_logs(
    runner: WorkflowRunner,
    profile: Profile,
    name: str,
    *,
    follow: bool = False,
    warn: Callable[[str], None] = lambda message: None,
) -> Iterator[LogLine]:
    """Workflow ``name``'s log lines: the runner's, then those kept for pods it no longer has.

    Kept logs that cannot be read (their storage refuses or is gone) are a ``warn``ing: the
    runner's lines are still all there.
    """
    seen: set[str] = set()
    for line in runner.logs(name, follow=follow):
        seen.add(line.pod)
        yield line
    try:
        for pod, text in kept_logs(runner, profile, name):
            if pod not in seen:
                for content in text.splitlines():
                    yield LogLine(pod=pod, content=content)
    except StorageError as exc:
        warn(f"the pods' kept logs could not be read: {exc}")


def kept_logs(runner: WorkflowRunner, profile: Profile, name: str) -> Iterator[tuple[str, str]]:
    """``(pod, log)`` of every pod log the run kept, in the order of their file names: the pod's
    name for a log of one of the workflow's nodes, else the log's own name."""
    from etl.runner.argo_server.pod_names import pod_names

    workflow = runner.manifest(name)
    pods = pod_names(workflow)
    for _collection, storage, layout in run_storages(workflow, name, profile):
        by_path = {layout.log_path(node_id): pod for node_id, pod in pods.items()}
        paths = sorted(
            info.path
            for info in storage.list_objects(layout.logs_prefix)
            if info.path.endswith(".log")
        )
        for path in paths:
            pod = by_path.get(path) or path.rsplit("/", 1)[-1].removesuffix(".log")
            yield pod, storage.read_text(path)
