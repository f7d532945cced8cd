"""The local runner's record of its runs: one folder per workflow under the state directory.

``runs/NAME/manifest.json`` is the manifest as submitted, ``runs/NAME/run.json`` the run's phase and
its nodes (written atomically after every change), ``runs/NAME/logs/NODE.log`` each node's output.
``runs/NAME/runner.lock`` is held by the run's runner while it runs (:mod:`etl.runner.runner_liveness`).
``etl workflow list/get/logs/retry`` read these records; one that cannot be read is an
:class:`UnreadableRunRecordError` naming its file, which ``list`` shows as a row of its own.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etl.core.atomic_files import write_atomically
from etl.core.errors import InputError
from etl.core.paths import RUNS_FOLDER
from etl.runner.workflow_status import WorkflowNotFoundError, WorkflowPhase

__all__ = [
    "UNREADABLE_RECORD",
    "NodeRecord",
    "RunRecord",
    "RunStore",
    "UnreadableRunRecordError",
    "now_iso",
]

UNREADABLE_RECORD = "unreadable run record"
"""What the message of an :class:`UnreadableRunRecordError` says (``etl workflow list`` warns)."""


class UnreadableRunRecordError(InputError):
    """A run's record or manifest is not what the runner wrote (truncated, edited, other bytes)."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        super().__init__(
            f"{path}: {UNREADABLE_RECORD} ({problem}); remove its folder {path.parent} "
            "to forget the run"
        )


RECORD = "run.json"
MANIFEST = "manifest.json"
"""The manifest as submitted, written once when the run is created."""


def now_iso() -> str:
    """The current UTC time as Argo writes it."""
    return _iso(datetime.now(UTC))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class NodeRecord:
    """One node of a run: a container invocation (with its retries) or a DAG."""

    id: str
    display_name: str
    template: str
    type: str
    phase: WorkflowPhase = WorkflowPhase.PENDING
    started_at: str | None = None
    finished_at: str | None = None
    message: str = ""
    attempts: int = 0
    outputs: dict[str, str] = field(default_factory=dict)
    log: str | None = None
    progress: dict[str, dict[str, int]] = field(default_factory=dict)
    """The counts the pod reported, by unit of work; ``""`` holds those of the current try that
    name no unit (see :data:`etl.core.progress.PROGRESS_LINE_PREFIX`)."""


@dataclass
class RunRecord:
    """A local run: its phase, timing, counts (``progress``, summed over the nodes) and nodes."""

    name: str
    namespace: str
    phase: WorkflowPhase = WorkflowPhase.PENDING
    started_at: str | None = None
    finished_at: str | None = None
    message: str = ""
    pid: int | None = None
    """The runner's process (the ``etl`` command running it)."""
    pid_identity: str | None = None
    """Which process ``pid`` was (:func:`etl.runner.runner_liveness.process_identity`)."""
    labels: dict[str, str] = field(default_factory=dict)
    progress: dict[str, int] = field(default_factory=dict)
    nodes: dict[str, NodeRecord] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        """Whether the run has ended (Succeeded, Failed or Error)."""
        return self.phase.finished

    def failed_nodes(self) -> list[NodeRecord]:
        """Container nodes that ended Failed or Error, in start order."""
        return [
            n
            for n in self.nodes.values()
            if n.type == "Pod" and n.phase in {WorkflowPhase.FAILED, WorkflowPhase.ERROR}
        ]

    def runner_gone(self, last_seen: str) -> None:
        """Record that the runner ended without recording the run's end (it was killed): the run
        and its unfinished nodes end ``Error``; ``last_seen`` is when it last wrote the record."""
        message = f"the runner (pid {self.pid}) is gone: it ended without recording the run's end"
        for node in self.nodes.values():
            if not node.phase.finished:
                node.phase, node.message = WorkflowPhase.ERROR, message
                node.finished_at = node.finished_at or last_seen
        self.phase, self.message, self.finished_at = WorkflowPhase.ERROR, message, last_seen

    def count_progress(self) -> None:
        """Set ``progress`` to the sum of every node's counts (each unit counted once)."""
        totals: dict[str, int] = {}
        for node in self.nodes.values():
            for counts in node.progress.values():
                for key, value in counts.items():
                    totals[key] = totals.get(key, 0) + value
        self.progress = totals

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """Read back what :meth:`to_dict` wrote."""
        nodes = {k: NodeRecord(**_phase_read(v)) for k, v in data.pop("nodes", {}).items()}
        return cls(**_phase_read(data), nodes=nodes)


class RunStore:
    """Run records under ``ROOT/runs``."""

    def __init__(self, root: Path) -> None:
        self.root = root / RUNS_FOLDER
        self._where = f"the local runner's records ({self.root})"

    def new_name(self, generate_name: str, name: str | None) -> str:
        """A fresh run name: ``name``, or ``generateName`` plus five random characters like Argo."""
        if name:
            return name
        alphabet = string.ascii_lowercase + string.digits
        while True:
            candidate = generate_name + "".join(secrets.choice(alphabet) for _ in range(5))
            if not (self.root / candidate).exists():
                return candidate

    def run_dir(self, name: str) -> Path:
        """The folder of run ``name`` (not checked for existence)."""
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*", name):
            raise WorkflowNotFoundError(name, self._where)
        return self.root / name

    def create(self, record: RunRecord, manifest: dict[str, Any]) -> None:
        """Create the run's folder with its manifest and first record."""
        folder = self.run_dir(record.name)
        (folder / "logs").mkdir(parents=True, exist_ok=True)
        _write_json(folder / MANIFEST, manifest)
        self.save(record)

    def save(self, record: RunRecord) -> None:
        """Write the record atomically."""
        _write_json(self.record_path(record.name), record.to_dict())

    def load(self, name: str) -> RunRecord:
        """The record of run ``name``.

        Raises:
            WorkflowNotFoundError: there is no such run.
            UnreadableRunRecordError: its record is not one.
        """
        path = self.record_path(name)
        data = self._read(name, path)
        try:
            return RunRecord.from_dict(data)
        except (TypeError, ValueError, AttributeError) as exc:
            raise UnreadableRunRecordError(path, f"{type(exc).__name__}: {exc}") from None

    def manifest(self, name: str) -> dict[str, Any]:
        """The manifest run ``name`` was submitted with (raises as :meth:`load` does)."""
        path = self.run_dir(name) / MANIFEST
        data = self._read(name, path)
        if not isinstance(data, dict):
            raise UnreadableRunRecordError(path, "not a JSON object")
        return data

    def record_path(self, name: str) -> Path:
        """The file of run ``name``'s record."""
        return self.run_dir(name) / RECORD

    def saved_at(self, name: str) -> str:
        """When run ``name``'s record was last written (its file's time), as Argo writes times."""
        seconds = self.record_path(name).stat().st_mtime
        return _iso(datetime.fromtimestamp(seconds, UTC))

    def _read(self, name: str, path: Path) -> Any:
        try:
            return json.loads(path.read_bytes())
        except FileNotFoundError:
            raise WorkflowNotFoundError(name, self._where) from None
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno} column {exc.colno}"
            raise UnreadableRunRecordError(path, f"not JSON at {where}: {exc.msg}") from None
        except ValueError as exc:  # not UTF-8
            raise UnreadableRunRecordError(path, f"not JSON: {exc}") from None

    def names(self) -> list[str]:
        """Names of all recorded runs, newest first by when each was submitted (its manifest,
        written once: a retry does not make an old run new)."""
        if not self.root.exists():
            return []
        runs = [p for p in self.root.iterdir() if (p / RECORD).exists()]
        runs.sort(key=_submitted_ns, reverse=True)
        return [p.name for p in runs]

    def log_path(self, name: str, node_id: str) -> Path:
        """Where a node's output is written."""
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", node_id)
        return self.run_dir(name) / "logs" / f"{safe}.log"


def _submitted_ns(folder: Path) -> int:
    """When the run in ``folder`` was submitted: its manifest's time (its record's without one)."""
    manifest = folder / MANIFEST
    return (manifest if manifest.exists() else folder / RECORD).stat().st_mtime_ns


def _phase_read(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with its ``phase`` (a string in JSON) as a :class:`WorkflowPhase`; an empty or
    unknown phase counts as ``Pending``."""
    return data | {"phase": WorkflowPhase.parse(data.get("phase"))}


def _write_json(path: Path, data: Any) -> None:
    write_atomically(path, json.dumps(data, indent=1).encode())
