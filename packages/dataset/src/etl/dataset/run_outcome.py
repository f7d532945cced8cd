"""What a run's outcome event says: where it goes, and each collection's counts.

A dataset workflow whose collections have notification targets ends with an exit handler,
``etl-task run-outcome`` (the compiler asks :func:`run_targets` whether to add it). Once the run
has ended, each collection's counts are read from where its pods wrote them in the chunk storage
(:mod:`etl.dataset.layout`): the chunk set's manifest (assets listed, chunks), ``results/`` (items
loaded), ``errors/`` (the failed assets, and where to read them) and ``finish-collection.json``
(items removed); a chunk left without a result failed as a whole, as ``etl workflow get`` counts
it (``etl.runner.run_report``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from etl.core.notifications.targets import NotificationTarget, effective_targets
from etl.core.profiles.model import Profile
from etl.core.storage.base import Storage
from etl.dataset.layout import RunLayout
from etl.dataset.model import DatasetConfig

__all__ = ["CollectionOutcome", "collection_outcome", "run_targets"]


def run_targets(
    dataset: DatasetConfig, collection_ids: Sequence[str], profile: Profile
) -> list[tuple[NotificationTarget, str]]:
    """The targets of a run of ``collection_ids``: every target of any of them (the profile's
    replace the dataset's), once, each with the first collection it is a target of (the
    outbox files the event under it, for ``etl dataset status``)."""
    found: dict[str, tuple[NotificationTarget, str]] = {}
    for collection in dataset.collections:
        if collection.id not in collection_ids:
            continue
        targets = effective_targets(
            dataset.notifications, collection.notifications, profile.notifications
        )
        for target in targets:
            found.setdefault(target.key, (target, collection.id))
    return list(found.values())


@dataclass(frozen=True)
class CollectionOutcome:
    """One collection's part of an ended run.

    Attributes:
        collection: The collection id.
        listed: Whether its listing finished (the chunk set was written).
        assets: Assets listed.
        chunks: Chunks they were cut into.
        items: Items made and loaded into PgSTAC.
        removed: Items removed because their assets are gone.
        failed_assets: Assets that made no item: those with an error, and those of the chunks
            left without a result.
        failures_uri: The folder of the failure lists (one ``{"asset", "error"}`` per line),
            which ``etl workflow errors RUN`` also prints.
    """

    collection: str
    listed: bool
    assets: int
    chunks: int
    items: int
    removed: int
    failed_assets: int
    failures_uri: str

    def to_json(self) -> dict[str, Any]:
        """The event's shape of it (docs/notifications.md)."""
        return asdict(self)


def collection_outcome(
    collection_id: str, storage: Storage, layout: RunLayout, *, processes: bool
) -> CollectionOutcome:
    """The counts the ended run of ``layout`` left in ``storage``; a run that does not process
    chunks (``create-chunks``) loads nothing and fails no asset."""
    from etl.dataset.chunking.manifest import read_manifest
    from etl.dataset.finish_summary import RemovalAction, read_finish_summary
    from etl.dataset.run_results import (
        chunks_without_result,
        read_chunk_result,
        read_run_failures,
    )

    manifest = read_manifest(storage, layout)
    items = failed = removed = 0
    if processes and manifest is not None:
        lost = chunks_without_result(storage, layout, manifest)
        missing = {chunk for chunk, _ in lost}
        for chunk in range(manifest.chunk_count):
            result = None if chunk in missing else read_chunk_result(storage, layout, chunk)
            items += result.items if result is not None else 0
        failed = sum(1 for _ in read_run_failures(storage, layout))
        failed += sum(assets for _, assets in lost)
        finish = read_finish_summary(storage, layout)
        removal = finish.removal if finish is not None else None
        if removal is not None and removal.action is RemovalAction.REMOVED:
            removed = removal.missing
    return CollectionOutcome(
        collection=collection_id,
        listed=manifest is not None,
        assets=manifest.asset_count if manifest is not None else 0,
        chunks=manifest.chunk_count if manifest is not None else 0,
        items=items,
        removed=removed,
        failed_assets=failed,
        failures_uri=storage.uri_of(layout.errors_prefix),
    )
