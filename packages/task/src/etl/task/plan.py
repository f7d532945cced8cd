"""``etl dataset plan``: what a ``process-items`` run would change, made here, writing nothing.

The collection's assets are listed with create-chunks' own listing
(:func:`etl.dataset.chunking.list_assets`), each asset's items are made by the pod's own
:class:`~etl.task.item_maker.ItemMaker` on a thread pool (so they are exactly the items a run
would load), hashed with :func:`etl.pgstac.item_sources.content_hash` and compared with the
collection's ``etl.item_sources`` rows of items PgSTAC has (rows of items deleted outside etl count
for nothing: :mod:`etl.pgstac.item_sources`) by :class:`etl.dataset.plan.PlanBuilder`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from etl.core.storage.urls import BlobUrls
from etl.dataset.chunking.create import list_assets, partial_listing
from etl.dataset.collection import load_collection_class
from etl.dataset.model import BlobHrefs, CollectionConfig
from etl.dataset.plan import CollectionPlan, PlanBuilder
from etl.dataset.run_results import AssetFailure
from etl.task.environment import TaskEnvironment
from etl.task.item_checks import ItemChecker
from etl.task.item_maker import ItemMaker, make_all

__all__ = ["PLAN_BLOCK", "PlanSettings", "plan_collection"]

PLAN_BLOCK = 2_000
"""Listed assets made at a time (memory holds one block's items)."""


@dataclass(frozen=True)
class PlanSettings:
    """How items are made for a plan: like a ``process-chunks`` pod of the dataset."""

    search_path: tuple[Path, ...] = ()
    blob_hrefs: BlobHrefs = BlobHrefs.HTTPS
    workers: int = 8


def plan_collection(
    collection: CollectionConfig,
    environment: TaskEnvironment,
    settings: PlanSettings,
    *,
    on_assets: Callable[[int], None] | None = None,
) -> CollectionPlan:
    """What a full ``process-items`` run of ``collection`` would add, change, keep and remove.

    Args:
        collection: The collection (templated; secrets may still be references).
        environment: Profile, secrets and PgSTAC DSN (the CLI's: ``TaskEnvironment.for_profile``).
        settings: Where the dataset's code is, its hrefs, threads making items.
        on_assets: Told how many more assets were made.

    Raises:
        CollectionClassError: the collection class cannot be imported.
        StorageError: the listing fails.
        RemoteError: PgSTAC cannot be read.
    """
    from etl.pgstac.item_sources import content_hash, item_sources_of
    from etl.pgstac.session import connect_pgstac

    started = time.perf_counter()
    maker = ItemMaker(
        load_collection_class(collection.collection_class, search_path=settings.search_path),
        [environment.storage(a.uri, a.token) for a in collection.asset_storage],
        ItemChecker(collection.id),
        BlobUrls(environment.profile) if settings.blob_hrefs is BlobHrefs.HTTPS else None,
    )
    with connect_pgstac(environment.pgstac_dsn()) as conn:
        recorded = [
            (s.item_id, s.asset, s.content_hash) for s in item_sources_of(conn, collection.id)
        ]
    builder = PlanBuilder(collection.id, recorded)
    assets = list_assets(collection, profile=environment.profile, secrets=environment.secrets)
    with ThreadPoolExecutor(settings.workers, thread_name_prefix="plan-item") as pool:
        for block in _blocks(assets, PLAN_BLOCK):
            made_all = make_all(pool, maker.make, block, settings.workers)
            for uri, made in zip(block, made_all, strict=True):
                if isinstance(made, AssetFailure):
                    builder.failed(uri)
                else:
                    builder.made(uri, [(item["id"], content_hash(item)) for item in made])
            if on_assets is not None:
                on_assets(len(block))
    return builder.finish(
        full_listing=partial_listing(collection) is None, seconds=time.perf_counter() - started
    )


def _blocks(uris: Iterator[str], size: int) -> Iterator[list[str]]:
    while block := list(islice(uris, size)):
        yield block
