"""How a local pod's try is started: the one interface :mod:`etl.runner.pods` runs pods through.

:class:`PodExecutor` is that interface; :class:`ProcessExecutor` (the default) runs the
container's command as a process of this machine, forked warm when it can
(:mod:`etl.runner.warm_start`), and :class:`~etl.runner.container_pods.ContainerExecutor` runs
it as a container of the manifest's image (profile setting ``local.executor: container``).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from etl.runner.workflow_manifest import ContainerSpec, UnsupportedManifestError

if TYPE_CHECKING:
    from etl.runner.warm_start import TaskProcess, TaskStarter

__all__ = ["PodExecutor", "PodLaunch", "ProcessExecutor"]


@dataclass(frozen=True)
class PodLaunch:
    """One try of a pod: what runs, with what, and where its outputs go on this machine."""

    name: str
    """The node id (the pod's name)."""
    argv: list[str]
    env: dict[str, str]
    work: Path
    """The pod's own folder; its output files are under ``work/outputs/``."""
    container: ContainerSpec
    output_paths: tuple[str, ...]
    """The template's output paths, as the manifest names them."""


class PodExecutor(Protocol):
    """Starts the tries of a run's pods; :meth:`close` when the run has ended."""

    moves_outputs: bool
    """Whether the command line's output paths are rewritten into the pod's folder (a process
    writes there itself; a container writes the manifest's paths, mounted from that folder)."""

    def executable(self, command: str) -> str:
        """The command's first word as this executor runs it."""

    def start(self, launch: PodLaunch) -> TaskProcess:
        """Start one try; its output (stdout and stderr merged) is the process's pipe."""

    def failure(self, process: TaskProcess) -> str | None:
        """Why an ended try failed, when the executor knows better than its exit code."""

    def close(self) -> None:
        """Release what the run's pods used; nothing of theirs is left running."""


class ProcessExecutor:
    """Each try a process of this machine, exactly the manifest's environment (the default)."""

    moves_outputs = True

    def __init__(self, starter: TaskStarter, *, owns_starter: bool = True) -> None:
        """``owns_starter``: the run's end closes the starter (its warm server); a starter shared
        by several runs is closed by whoever shared it."""
        self.starter = starter
        self.owns_starter = owns_starter

    def executable(self, command: str) -> str:
        """``command`` as a path: beside this Python first (the venv's scripts), then ``PATH``."""
        if os.sep in command:
            return command
        beside = Path(sys.executable).parent / command
        if beside.exists():
            return str(beside)
        found = shutil.which(command)
        if found is None:
            raise UnsupportedManifestError(f"command {command!r} is not installed on this machine")
        return found

    def start(self, launch: PodLaunch) -> TaskProcess:
        """Run the command in the pod's folder, warm when the starter can."""
        return self.starter.start(launch.argv, launch.env, launch.work)

    def failure(self, process: TaskProcess) -> str | None:
        """A process says how it ended by its exit code alone."""
        return None

    def close(self) -> None:
        """Let the warm server end, unless other runs share it."""
        if self.owns_starter:
            self.starter.close()
