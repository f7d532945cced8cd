"""What a run did asset by asset, read from where its pods wrote it: the same for every runner.

The workflow's manifest names each collection's bundle (``--dataset``) and run (``--run-id``); the
bundle's ``dataset.json`` names the collection's chunk storage, which holds the run's chunk-set
manifest (assets and chunks listed, the ``--since`` watermark), ``results/`` (one record per chunk
processed), ``errors/`` (one list per chunk of its assets that failed, as of the chunk's last try),
``finish-collection.json`` (the extent update and the removals) and ``mark-success.json`` (the
last-success marker moved or kept). Once the run has ended, a chunk without a result record failed
as a whole (its pod was killed, past its retries, or never ran): all its assets count as failed.
See ``docs/internals.md`` (the run layout).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from etl.core.counts import counted
from etl.core.pod_contract import (
    CREATE_CHUNKS,
    DATASET_FILE,
    ETL_TASK,
    INGEST_COLLECTION,
    PROCESS_CHUNKS,
    Flag,
)
from etl.core.profiles.model import Profile
from etl.core.storage.base import Storage
from etl.core.storage.opening import open_storage_for
from etl.dataset.layout import RunLayout
from etl.runner.workflow_runner import WorkflowRunner
from etl.runner.workflow_status import WorkflowStatus

if TYPE_CHECKING:
    from etl.dataset.finish_summary import FinishSummary
    from etl.dataset.last_success import MarkerOutcome

__all__ = ["AssetError", "CollectionReport", "RunReport", "run_report", "run_storages"]

_WORKFLOW_NAME = "{{workflow.name}}"


@dataclass(frozen=True)
class AssetError:
    """One asset that made no item, and why."""

    collection: str
    chunk: int
    asset: str
    error: str

    def __str__(self) -> str:
        return f"{self.asset}: {self.error}"


@dataclass(frozen=True)
class CollectionReport:
    """One collection's part of a run.

    Attributes:
        collection: The collection id.
        listed: Whether its chunk set was written (the listing finished).
        assets: Assets listed.
        chunks: Chunks they were cut into.
        since: The ``--since`` watermark the listing used (ISO 8601), if any.
        failed: Assets that failed, as of each chunk's last try, and those of the chunks
            without a result.
        errors_uri: Where the failure lists are.
        chunks_without_result: Chunks of the ended run that have no result record.
        assets_without_result: The assets of those chunks.
        finish: What ``finish-collection`` did (extent, removals), if it ran.
        marker: What ``mark-success`` did to the last-success marker, if it ran.
        chunks_only: Where the chunk files are, when the workflow only cuts chunks
            (``create-chunks --submit``): then no chunk is processed and none failed.
        stopped_by: The failed steps that ran before chunk processing (``ingest-collection``)
            when the ended run processed none of the collection's chunks.
    """

    collection: str
    listed: bool
    assets: int
    chunks: int
    since: str | None
    failed: int
    errors_uri: str
    finish: FinishSummary | None = None
    chunks_without_result: int = 0
    assets_without_result: int = 0
    marker: MarkerOutcome | None = None
    stopped_by: tuple[str, ...] = ()
    chunks_only: str | None = None

    def summary(self) -> str:
        """One line for people: ``ID: 7 assets in 1 chunk, 2 failed`` (then ``; 1 chunk failed
        without a result (5 assets)``) or ``ID: 0 assets since T``."""
        if not self.listed:
            return f"{self.collection}: no assets listed (the listing did not finish)"
        if not self.assets:
            found = f"since {self.since}" if self.since else "listed"
            return f"{self.collection}: 0 assets {found}: nothing to do"
        assets, chunks = counted(self.assets, "asset"), counted(self.chunks, "chunk")
        if self.chunks_only is not None:
            return f"{self.collection}: {assets} in {chunks}, written to {self.chunks_only}"
        if self.stopped_by and self.chunks_without_result == self.chunks:
            steps = ", ".join(self.stopped_by)
            return f"{self.collection}: {assets} in {chunks}, none processed: {steps} failed"
        line = f"{self.collection}: {assets} in {chunks}, {self.failed} failed"
        if self.chunks_without_result:
            lost = counted(self.chunks_without_result, "chunk")
            line += (
                f"; {lost} failed without a result ({counted(self.assets_without_result, 'asset')})"
            )
        return line

    def lines(self) -> list[str]:
        """:meth:`summary`, then what ``finish-collection`` did, one line each, then why the
        last-success marker was kept, if it was."""
        kept = self.marker is not None and not self.marker.advanced
        return [
            self.summary(),
            *(self.finish.lines() if self.finish is not None else ()),
            *([self.marker.line()] if self.marker is not None and kept else ()),
        ]

    def to_json(self) -> dict[str, Any]:
        """The stable shape of one collection (see ``docs/cli.md``)."""
        finish = self.finish.to_json() if self.finish is not None else None
        marker = self.marker.to_json() if self.marker is not None else None
        return {**asdict(self), "finish": finish, "marker": marker}


@dataclass(frozen=True)
class RunReport:
    """A run's collections and (the first of) its failed assets."""

    workflow: str
    collections: tuple[CollectionReport, ...]
    errors: tuple[AssetError, ...]

    @property
    def failed(self) -> int:
        """Assets that failed over the whole run (``errors`` may hold only the first ones)."""
        return sum(c.failed for c in self.collections)

    @property
    def listed_failures(self) -> int:
        """The failed assets that have an error: all but those of chunks without a result."""
        return self.failed - sum(c.assets_without_result for c in self.collections)

    def to_json(self) -> dict[str, Any]:
        """The stable ``etl workflow errors -o json`` shape (see ``docs/cli.md``)."""
        return {
            "workflow": self.workflow,
            "failed": self.failed,
            "collections": [c.to_json() for c in self.collections],
            "errors": [asdict(e) for e in self.errors],
        }


def run_report(
    runner: WorkflowRunner, profile: Profile, name: str, *, limit: int | None = None
) -> RunReport:
    """What workflow ``name`` did per collection, with its first ``limit`` failed assets (all of
    them without a limit); the storages are opened with ``profile``'s credentials.

    Raises:
        WorkflowNotFoundError: the runner has no such workflow.
        StorageError: a bundle or chunk storage cannot be read.
    """
    from etl.dataset.run_results import read_run_failures

    collections: list[CollectionReport] = []
    errors: list[AssetError] = []
    status: WorkflowStatus | None = None
    workflow = runner.manifest(name)
    processes = any(True for _ in _task_steps(workflow, PROCESS_CHUNKS.name))
    for collection_id, storage, layout in run_storages(workflow, name, profile):
        failed = 0
        for chunk, failure in read_run_failures(storage, layout):
            failed += 1
            if limit is None or len(errors) < limit:
                errors.append(AssetError(collection_id, chunk, failure.asset, failure.error))
        status = status or runner.get(name)
        report = _collection_report(
            collection_id, storage, layout, failed, status=status, processes=processes
        )
        collections.append(report)
    return RunReport(name, tuple(collections), tuple(errors))


def _collection_report(
    collection_id: str,
    storage: Storage,
    layout: RunLayout,
    failed: int,
    *,
    status: WorkflowStatus,
    processes: bool,
) -> CollectionReport:
    """The collection's counts; once the run has ended, its chunks without a result failed (and
    when none has one, the failed steps that came before processing stopped it); a workflow that
    does not ``process`` chunks only says where it wrote them."""
    from etl.dataset.chunking.manifest import read_manifest
    from etl.dataset.finish_summary import read_finish_summary
    from etl.dataset.last_success import read_marker_outcome
    from etl.dataset.run_results import chunks_without_result

    manifest = read_manifest(storage, layout)
    since = manifest.options.get("since") if manifest is not None else None
    ended = status.finished and processes
    lost = chunks_without_result(storage, layout, manifest) if ended else []
    none_processed = manifest is not None and len(lost) == manifest.chunk_count
    lost_assets = sum(assets for _, assets in lost)
    return CollectionReport(
        collection=collection_id,
        listed=manifest is not None,
        assets=manifest.asset_count if manifest is not None else 0,
        chunks=manifest.chunk_count if manifest is not None else 0,
        since=since if isinstance(since, str) else None,
        failed=failed + lost_assets,
        errors_uri=storage.uri_of(layout.errors_prefix),
        finish=read_finish_summary(storage, layout),
        chunks_without_result=len(lost),
        assets_without_result=lost_assets,
        marker=read_marker_outcome(storage, layout),
        stopped_by=_steps_before_processing(status) if none_processed else (),
        chunks_only=None if processes else storage.uri_of(layout.chunks_prefix),
    )


def _steps_before_processing(status: WorkflowStatus) -> tuple[str, ...]:
    """The failed steps of ``status`` that write the collection before chunks are processed."""
    return tuple(n.node for n in status.failed_nodes if INGEST_COLLECTION.name in n.node)


def run_storages(
    manifest: Mapping[str, Any], name: str, profile: Profile
) -> Iterator[tuple[str, Storage, RunLayout]]:
    """Each collection the workflow chunks: its id, chunk storage and run layout, once."""
    from etl.core.secrets.resolver import secret_resolver_for
    from etl.dataset.chunking.create import chunk_storage_of
    from etl.dataset.model import DatasetConfig

    seen: set[tuple[str, str]] = set()
    secrets = None
    for args in _task_steps(manifest, CREATE_CHUNKS.name, PROCESS_CHUNKS.name):
        dataset_uri, collection_id = args.get(Flag.DATASET), args.get(Flag.COLLECTION)
        run_id = (args.get(Flag.RUN_ID) or "").replace(_WORKFLOW_NAME, name)
        if not dataset_uri or not collection_id or not run_id or "{{" in run_id:
            continue
        if (dataset_uri, collection_id) in seen or not dataset_uri.endswith(DATASET_FILE):
            continue
        seen.add((dataset_uri, collection_id))
        document = json.loads(open_storage_for(dataset_uri, profile=profile).read_text(dataset_uri))
        for collection in DatasetConfig.model_validate(document).collections:
            if collection.id == collection_id:
                secrets = secrets or secret_resolver_for(profile)
                storage = chunk_storage_of(collection, profile=profile, secrets=secrets)
                yield collection_id, storage, RunLayout(run_id)


def _task_steps(manifest: Mapping[str, Any], *commands: str) -> Iterator[dict[str, str]]:
    """The ``--flag value`` arguments of every ``etl-task`` container running one of ``commands``
    (``create-chunks``, ``process-chunks``, ...)."""
    spec = manifest.get("spec") or {}
    stored = (manifest.get("status") or {}).get("storedWorkflowTemplateSpec") or {}
    for template in [*(spec.get("templates") or []), *(stored.get("templates") or [])]:
        container = template.get("container") or {}
        argv = [*(container.get("command") or []), *(container.get("args") or [])]
        if argv[:1] == [ETL_TASK] and len(argv) > 1 and argv[1] in commands:
            flags = argv[2:]
            yield {flag: value for flag, value in zip(flags[::2], flags[1::2], strict=False)}
