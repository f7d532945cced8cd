"""``etl dataset plan``: what a ``process-items`` run would change, made here, writing nothing.

The collection's assets are listed with create-chunks' own listing
(:func:`etl.dataset.chunking.list_assets`), each asset's items are made by the pod's own
:class:`~etl.task.item_maker.ItemMaker` on a thread pool (so they are exactly the items a run
would load), hashed with :func:`etl.pgstac.item_sources.content_hash` and compared with the
collection's ``etl.item_sources`` rows of items PgSTAC has (rows of items deleted outside etl count
for nothing: :mod:`etl.pgstac.item_sources`) by :class:`etl.dataset.plan.PlanBuilder`.

Unless ``deep``, an asset is not made when every recorded item of it was made by the current code
bundle (``PlanSettings.bundle``), is still in PgSTAC (an asset that lost an item outside etl is
made again) and was loaded at least :data:`MODIFIED_MARGIN` after the asset last changed: its
items count as unchanged. This holds when ``create_item`` depends only on the asset,
the dataset's code and its dataset.yaml (all in the bundle digest).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from etl.core.profile_services import ProfileServices
from etl.dataset.chunking.create import list_assets, partial_listing
from etl.dataset.chunking.listing import ModifiedTimes
from etl.dataset.collection import Collection, load_collection_class
from etl.dataset.model import BlobHrefs, CollectionConfig
from etl.dataset.plan import CollectionPlan, PlanBuilder

if TYPE_CHECKING:
    from etl.pgstac.item_sources import RecordedItem

__all__ = ["MODIFIED_MARGIN", "PLAN_BLOCK", "PlanSettings", "plan_collection"]

PLAN_BLOCK = 2_000
"""Listed assets made at a time (memory holds one block's items)."""

MODIFIED_MARGIN = timedelta(seconds=1)
"""How much later than an asset's modification time its items must have been loaded to be
trusted unmade: blob storage gives modification times in whole seconds."""


@dataclass(frozen=True)
class PlanSettings:
    """How items are made for a plan: like a ``process-chunks`` pod of the dataset."""

    search_path: tuple[Path, ...] = ()
    blob_hrefs: BlobHrefs = BlobHrefs.HTTPS
    workers: int = 8
    bundle: str | None = None
    """The digest of the dataset's code bundle as it is now (``etl.argo.bundle.bundle_digest``)."""
    deep: bool = False
    """Make every asset's items, trusting no record."""


def plan_collection(
    collection: CollectionConfig,
    environment: ProfileServices,
    settings: PlanSettings,
    *,
    on_assets: Callable[[int], None] | None = None,
) -> CollectionPlan:
    """What a full ``process-items`` run of ``collection`` would add, change, keep and remove.

    Args:
        collection: The collection (templated; secrets may still be references).
        environment: Profile, secrets and PgSTAC DSN (``ProfileServices.for_profile``).
        settings: Where the dataset's code is, its hrefs, threads making items.
        on_assets: Told how many more assets were planned (kept as recorded, or made).

    Raises:
        CollectionClassError: the collection class cannot be imported.
        StorageError: the listing fails.
        RemoteError: PgSTAC cannot be read.
    """
    started = time.perf_counter()
    collection_class = load_collection_class(
        collection.collection_class, search_path=settings.search_path
    )
    with ThreadPoolExecutor(settings.workers, thread_name_prefix="plan-item") as pool:
        # Read while the storage is listed: the database's time (connecting, importing psycopg,
        # the join) overlaps the listing's system calls instead of adding to them.
        reading = pool.submit(_read_records, environment.pgstac_dsn(), collection.id)
        modified = None if settings.deep else ModifiedTimes()
        listed = list_assets(
            collection, profile=environment.profile, secrets=environment.secrets, modified=modified
        )
        assets = list(listed)  # listed in full first: every modification time is noted
        records = reading.result()
        builder = PlanBuilder(
            collection.id,
            [(item_id, asset, hash_) for item_id, asset, hash_, _, _, has in records if has],
        )
        if modified is not None:
            made_from = len(assets)
            assets = _unkept(assets, builder, _loaded_by(records, settings.bundle), modified.times)
            if on_assets is not None:
                on_assets(made_from - len(assets))
        if assets:  # an unchanged source makes nothing: no item maker, no pystac imported
            _make_assets(
                pool, assets, builder, collection=collection, collection_class=collection_class,
                environment=environment, settings=settings, on_assets=on_assets,
            )  # fmt: skip
    return builder.finish(
        full_listing=partial_listing(collection) is None, seconds=time.perf_counter() - started
    )


def _make_assets(
    pool: ThreadPoolExecutor,
    assets: list[str],
    builder: PlanBuilder,
    *,
    collection: CollectionConfig,
    collection_class: type[Collection],
    environment: ProfileServices,
    settings: PlanSettings,
    on_assets: Callable[[int], None] | None,
) -> None:
    """Make ``assets``' items on ``pool`` as a pod of the collection would, :data:`PLAN_BLOCK`
    at a time, and tell ``builder`` what each made (or that it failed)."""
    from etl.core.storage.urls import BlobUrls
    from etl.dataset.run_results import AssetFailure
    from etl.pgstac.item_sources import content_hash
    from etl.task.item_checks import ItemChecker
    from etl.task.item_maker import ItemMaker, make_all

    maker = ItemMaker(
        collection_class,
        [environment.storage(a.uri, a.token) for a in collection.asset_storage],
        ItemChecker(collection.id),
        BlobUrls(environment.profile) if settings.blob_hrefs is BlobHrefs.HTTPS else None,
    )
    for start in range(0, len(assets), PLAN_BLOCK):
        block = assets[start : start + PLAN_BLOCK]
        made_all = make_all(pool, maker.make, block, settings.workers)
        for uri, made in zip(block, made_all, strict=True):
            if isinstance(made, AssetFailure):
                builder.failed(uri)
            else:
                builder.made(uri, [(item["id"], content_hash(item)) for item in made])
        if on_assets is not None:
            on_assets(len(block))


def _read_records(dsn: str, collection: str) -> list[RecordedItem]:
    """The collection's ``etl.item_sources`` rows (:func:`etl.pgstac.item_sources.recorded_items`).

    Raises:
        RemoteError: PgSTAC cannot be read.
    """
    from etl.pgstac.item_sources import recorded_items
    from etl.pgstac.session import connect_pgstac

    with connect_pgstac(dsn) as conn:
        # Times in UTC, as the listing's are: comparing them under the server's zone (a ZoneInfo
        # asked for its offset at every comparison) cost 4 times as much CPU.
        conn.execute("SET TimeZone TO 'UTC'")
        return list(recorded_items(conn, collection))


def _loaded_by(records: list[RecordedItem], bundle: str | None) -> dict[str, datetime]:
    """Asset -> when its items were first loaded, for the assets whose every item ``bundle`` made
    and PgSTAC still has (an asset that lost an item outside etl is made again)."""
    if bundle is None:
        return {}
    loaded: dict[str, datetime] = {}
    stale: set[str] = set()
    for _, asset, _, loaded_at, made_by, in_pgstac in records:
        if made_by != bundle or not in_pgstac:
            stale.add(asset)
        elif (first := loaded.get(asset)) is None or loaded_at < first:
            loaded[asset] = loaded_at
    return {asset: at for asset, at in loaded.items() if asset not in stale} if stale else loaded


def _unkept(
    assets: list[str],
    builder: PlanBuilder,
    loaded: dict[str, datetime],
    modified: dict[str, datetime],
) -> list[str]:
    """The assets to make: those not loaded by this bundle at least :data:`MODIFIED_MARGIN`
    after they last changed (the others are kept in ``builder``)."""
    kept: list[str] = []
    unkept: list[str] = []
    for uri in assets:
        at, changed = loaded.get(uri), modified.get(uri)
        if at is not None and changed is not None and at >= changed + MODIFIED_MARGIN:
            kept.append(uri)
        else:
            unkept.append(uri)
    builder.kept(kept)
    return unkept
