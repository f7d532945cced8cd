"""The container executor: each try of a local pod a Docker container of the manifest's image.

Chosen by the profile setting ``local.executor: container`` (``ETL_LOCAL_EXECUTOR``). A try is
``docker run`` of the container's ``image`` with its ``command`` as the entry point and its
``args``, and

- the environment the process executor gives (:mod:`etl.runner.pod_env`) but the image's own
  ``PATH``, ``HOME`` and ``TMPDIR``, and ``ETL_STATE_DIR`` a folder of the containers; passed in
  an ``--env-file`` (mode 0600, removed when the try ends), so no value is on a command line;
- ``--init``: a small init as pid 1 passes signals on, as Argo's ``emissary`` executor does in a
  pod, so ``etl workflow stop`` ends a try at once rather than after the grace period;
- ``--network host``: the services of this machine (PgSTAC on 127.0.0.1:55432, Azurite on
  127.0.0.1:10000) are reached at the addresses the profile names;
- the folders of :mod:`etl.runner.container_mounts`, at the same paths;
- ``resources.limits`` as ``--memory`` and ``--cpus`` (:mod:`etl.runner.container_limits`); a
  try over its memory limit fails ``OOMKilled``, as Argo reports it;
- the image's own user when this process is root (the writable folders are handed to it), else
  this process's uid and gid (``--user``), so what the pod writes belongs to the caller;
- labels ``etl.dev/run`` and ``etl.dev/node``. The container is removed when its try ends, once
  its state is read (``--rm`` would remove it before ``OOMKilled`` can be), and :meth:`close`
  removes any container of the run still there, as does a new executor of the run (a retry
  after its runner died removes the containers that runner left).

A try the kernel killed over its memory limit ends with exit code 137, but the engine's
``State.OOMKilled`` is not always set: containerd may deliver the container's exit before its OOM
event (containerd#8180), and the engine records the exit as it stands. So a try that ends 137
without ``OOMKilled`` and without a signal from the runner is looked up in the engine's events: an
``oom`` event of its container, waited for up to :data:`OOM_EVENT_WAIT` seconds, makes it
``OOMKilled`` too.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from etl.core.env_names import IMAGE_TAG_ENV
from etl.core.errors import RemoteError
from etl.core.pod_contract import NODE_LABEL, RUN_LABEL, STATE_DIR_ENV
from etl.runner.container_limits import limit_options
from etl.runner.container_mounts import chown_writable, pod_mounts
from etl.runner.executors import PodLaunch
from etl.runner.warm_start import TaskProcess
from etl.runner.workflow_manifest import UnsupportedManifestError

__all__ = ["ContainerExecutor"]

IMAGE_OWN = ("PATH", "HOME", "TMPDIR")
"""The caller's variables a container does not get: the image sets its own."""
DOCKER_TIMEOUT = 60
STOP_GRACE = 10
"""Seconds a stopped container has between SIGTERM and SIGKILL (Kubernetes gives 30)."""
KILLED_EXIT = 137
"""The exit code of a container whose process got SIGKILL: from the OOM killer, or a kill."""
OOM_EVENT_WAIT = 5.0
"""Seconds a try that ended :data:`KILLED_EXIT` waits for a late ``oom`` event of its container."""


class ContainerExecutor:
    """Starts the tries of run ``run``'s pods as containers; ``state_root`` is the runner's."""

    moves_outputs = False

    def __init__(self, run: str, state_root: Path, images: Iterable[str]) -> None:
        """Checks the engine and that every image of ``images`` is on it, before anything runs.

        Raises:
            RemoteError: no docker client, the engine is not running, or an image is missing.
        """
        client = shutil.which("docker")
        if client is None:
            raise RemoteError(
                "local.executor is container, but there is no docker client: scripts/setup "
                "installs the Docker engine, or etl profile edit NAME --set local.executor=process"
            )
        self.docker = client
        self.run = run
        self.pod_state = state_root / "container-state"
        probe = self._docker("info", "--format", "{{.ServerVersion}}")
        if probe.returncode != 0:
            raise RemoteError(
                "local.executor is container, but the Docker engine is not running "
                "(start it with scripts/services start): " + _last_line(probe.stderr)
            )
        self.users = {image: self._image_user(image) for image in sorted(set(images))}
        self.close()  # what a runner of this run that died left

    def executable(self, command: str) -> str:
        """The command as the image's ``PATH`` finds it."""
        return command

    def start(self, launch: PodLaunch) -> TaskProcess:
        """``docker run`` one try; its output is the client's, stdout and stderr merged."""
        image = launch.container.image
        if not image or image not in self.users:
            raise UnsupportedManifestError(f"{launch.name}: container has no image")
        env = {k: v for k, v in launch.env.items() if k not in IMAGE_OWN}
        env[STATE_DIR_ENV] = str(self.pod_state)
        owner = self.users[image]
        user = [] if owner is not None else ["--user", f"{os.getuid()}:{os.getgid()}"]
        if owner is None:
            env["HOME"] = "/tmp"  # the image's home belongs to its own user
        mounts = pod_mounts(launch, env)
        if owner is not None:
            chown_writable(mounts, *owner)
        name = f"etl-{re.sub(r'[^A-Za-z0-9_.-]+', '-', launch.name)[-180:]}-{uuid.uuid4().hex[:8]}"
        env_file = _write_env_file(launch.work / f".env-{name}", env)
        command = len(launch.container.command)
        entry = ["--entrypoint", launch.argv[0]] if command else []
        workdir = launch.container.working_dir
        argv = [
            *(self.docker, "run", "--init", "--name", name, "--network", "host"),
            *("--env-file", str(env_file)),
            *("--label", f"{RUN_LABEL}={self.run}", "--label", f"{NODE_LABEL}={launch.name}"),
            *user,
            *limit_options(launch.container.limits, launch.name),
            *(option for mount in mounts for option in mount.option()),
            *(["--workdir", workdir] if workdir else []),
            *entry,
            image,
            *(launch.argv[1:] if command else launch.argv),
        ]
        started = time.time()
        popen = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        limit = launch.container.limits.get("memory", "")
        return _ContainerProcess(self, name, popen, env_file, limit=limit, started=started)

    def failure(self, process: TaskProcess) -> str | None:
        """``OOMKilled``, with the limit, for a container the kernel killed over its memory."""
        if isinstance(process, _ContainerProcess) and process.oom_killed:
            return f"OOMKilled (exit code 137): the pod exceeded its memory limit ({process.limit})"
        return None

    def close(self) -> None:
        """Remove every container of the run still there (a try whose client was killed)."""
        listed = self._docker("ps", "-aq", "--filter", f"label={RUN_LABEL}={self.run}")
        ids = listed.stdout.split()
        if ids:
            self._docker("rm", "-f", *ids)

    def _image_user(self, image: str) -> tuple[int, int] | None:
        """The image's numeric user, when this process is root and hands it the folders."""
        found = self._docker("image", "inspect", "--format", "{{.Config.User}}", image)
        if found.returncode != 0:
            raise RemoteError(
                f"image {image!r} is not in this machine's Docker engine: build it "
                f"({IMAGE_TAG_ENV}={image} scripts/image build; a dataset's own image: "
                "scripts/image dataset -d DATASET; docs/image.md)"
            )
        uid, _, gid = found.stdout.strip().partition(":")
        if os.getuid() != 0:
            return None
        if not uid.isdigit():
            raise RemoteError(f"image {image!r}: its USER must be numeric (uid:gid), not {uid!r}")
        return int(uid), int(gid or uid)

    def oom_event(self, name: str, since: float) -> bool:
        """Whether the engine reports an ``oom`` event of container ``name`` since ``since`` (a
        Unix time), waiting up to :data:`OOM_EVENT_WAIT` seconds for one that is late."""
        until = time.time() + OOM_EVENT_WAIT
        events = subprocess.Popen(
            [self.docker, "events", "--since", f"{since - 1:.3f}", "--until", f"{until:.3f}",
             "--filter", f"container={name}", "--filter", "event=oom",
             "--format", "{{.Action}}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:
            assert events.stdout is not None
            first = events.stdout.readline()  # the first event, or "" once --until has passed
        finally:
            events.kill()
            events.wait()
        return first.strip() == "oom"

    def _docker(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.docker, *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=DOCKER_TIMEOUT,
        )


class _ContainerProcess:
    """One try's ``docker run`` client: its output, and its container's end."""

    def __init__(
        self,
        executor: ContainerExecutor,
        name: str,
        popen: subprocess.Popen[bytes],
        env: Path,
        *,
        limit: str,
        started: float,
    ) -> None:
        self.stdout: IO[bytes] | None = popen.stdout
        self.oom_killed = False
        self.limit = limit
        self._executor = executor
        self._name = name
        self._popen = popen
        self._env = env
        self._started = started
        self._signalled = False
        self._ended = threading.Lock()

    def wait(self) -> int:
        """The container's exit code, once its state is read and the container removed."""
        code = self._popen.wait()
        with self._ended:
            if self._env.exists():
                self._env.unlink()
                state = self._executor._docker(
                    "inspect", "--format", "{{.State.OOMKilled}}", self._name
                )
                self.oom_killed = state.stdout.strip() == "true" or (
                    code == KILLED_EXIT
                    and not self._signalled
                    and self._executor.oom_event(self._name, self._started)
                )
                self._executor._docker("rm", "-f", self._name)
        return code

    def terminate(self) -> None:
        """``docker stop``: SIGTERM, SIGKILL after :data:`STOP_GRACE` seconds (a command that is
        the container's pid 1 ignores SIGTERM unless it handles it, as in a cluster's pod); in
        the background, as a signal handler calls it."""
        threading.Thread(target=self._stop, daemon=True).start()

    def kill(self) -> None:
        """SIGKILL to the container."""
        self._signalled = True
        sent = self._executor._docker("kill", "--signal", "KILL", self._name)
        if sent.returncode != 0:
            with contextlib.suppress(ProcessLookupError):
                self._popen.kill()

    def _stop(self) -> None:
        self._signalled = True
        stopped = self._executor._docker("stop", "--time", str(STOP_GRACE), self._name)
        if stopped.returncode != 0:  # not created yet: its client ends before it starts
            with contextlib.suppress(ProcessLookupError):
                self._popen.terminate()


def _write_env_file(path: Path, env: dict[str, str]) -> Path:
    """``KEY=VALUE`` lines in a file only this user can read."""
    lines = []
    for key, value in env.items():
        if "\n" in value or "\r" in value:
            raise UnsupportedManifestError(f"env {key}: a value with a line break cannot be passed")
        lines.append(f"{key}={value}\n")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.writelines(lines)
    return path


def _last_line(text: str) -> str:
    return (text.strip().splitlines() or ["no output"])[-1]
