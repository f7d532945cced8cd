"""Making one asset's items as a ``process-chunks`` pod does, and many assets' on a thread pool.

:class:`ItemMaker` calls the dataset's ``create_item``, turns each item into its dict, makes its
``blob://`` hrefs URLs and checks it: the dicts it returns are the items that are loaded (and
hashed into ``etl.item_sources``). ``etl dataset plan`` makes its items with the same code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from etl.core.errors import EtlError, StorageError
from etl.core.storage.base import Storage
from etl.core.storage.urls import BlobUrls
from etl.dataset.collection import Collection, load_collection_class
from etl.dataset.model import BlobHrefs
from etl.dataset.run_results import AssetFailure
from etl.task.bundle_fetch import FetchedBundle
from etl.task.environment import TaskEnvironment
from etl.task.item_checks import ItemChecker
from etl.task.item_hrefs import rewrite_blob_hrefs
from etl.task.stac_validation import ItemValidation

__all__ = [
    "SLICES_PER_WORKER",
    "ItemMaker",
    "MakeItems",
    "collection_item_maker",
    "make_all",
    "pin_stac_version",
    "slices_of",
    "warm_up_pystac",
]

SLICES_PER_WORKER = 4
"""A chunk's assets are cut into this many slices per worker thread (for load balance)."""

MakeItems = Callable[[str], "list[dict[str, Any]] | AssetFailure"]

_Made = TypeVar("_Made")


def make_all(
    pool: ThreadPoolExecutor, make: Callable[[str], _Made], uris: list[str], workers: int
) -> Iterator[_Made]:
    """``make`` for every URI, in order, on ``workers`` threads.

    The URIs go to the pool in slices (a few per worker), not one by one: a future per asset
    costs as much as a trivial ``create_item``, while slices keep ``workers`` calls in flight
    for the ``create_item``s that wait on storage.
    """
    for outcomes in pool.map(lambda part: [make(uri) for uri in part], slices_of(uris, workers)):
        yield from outcomes


def slices_of(uris: list[str], workers: int) -> list[list[str]]:
    """``uris`` cut into :data:`SLICES_PER_WORKER` slices per worker, in order."""
    size = max(1, math.ceil(len(uris) / (workers * SLICES_PER_WORKER)))
    return [uris[start : start + size] for start in range(0, len(uris), size)]


class ItemMaker:
    """Calls ``create_item`` for one asset and returns checked item dicts (``blob://`` hrefs made
    URLs by ``blob_urls``, unless it is ``None``), or the failure."""

    def __init__(
        self,
        collection_class: type[Collection],
        asset_storages: list[Storage],
        checker: ItemChecker,
        blob_urls: Callable[[str], str] | None,
    ) -> None:
        self.collection_class = collection_class
        self.asset_storages = sorted(asset_storages, key=lambda storage: -len(storage.uri))
        self.checker = checker
        self.blob_urls = blob_urls
        warm_up_pystac()
        pin_stac_version()

    def make(self, uri: str) -> list[dict[str, Any]] | AssetFailure:
        try:
            made = self.collection_class.create_item(uri, self._storage_for(uri))
            items = [] if made is None else made if isinstance(made, list) else [made]
            dicts = []
            for item in items:
                data = item.to_dict(include_self_link=False, transform_hrefs=False)
                if not data.get("collection"):
                    data["collection"] = self.checker.collection_id
                if self.blob_urls is not None:
                    rewrite_blob_hrefs(data, self.blob_urls)
                self.checker.check(data)
                dicts.append(data)
            return dicts
        except Exception as exc:
            message = str(exc).splitlines()[0] if str(exc) else ""
            return AssetFailure(
                asset=uri,
                error=f"{type(exc).__name__}: {message}".rstrip(": "),
                transient=_is_transient(exc),
            )

    def _storage_for(self, uri: str) -> Storage:
        """The asset storage holding ``uri`` (the innermost one): ``create_item`` reads through it,
        so it can read nothing outside the collection's asset storage."""
        for storage in self.asset_storages:
            if storage.contains(uri):
                return storage
        raise StorageError(f"{uri} is outside the collection's asset storage")


def collection_item_maker(
    bundle: FetchedBundle,
    environment: TaskEnvironment,
    collection_id: str,
    validation: ItemValidation | None,
) -> ItemMaker:
    """The item maker of a collection of the bundle: its class, its asset storages (with their
    tokens), its checks, and its hrefs made URLs unless the dataset says ``blob_hrefs: blob``."""
    collection = bundle.collection(collection_id)
    return ItemMaker(
        load_collection_class(collection.collection_class, search_path=bundle.search_path),
        [environment.storage(a.uri, a.token) for a in collection.asset_storage],
        ItemChecker(collection_id, validation),
        BlobUrls(environment.profile) if bundle.dataset.blob_hrefs is BlobHrefs.HTTPS else None,
    )


def _is_transient(exc: Exception) -> bool:
    """Whether a retry may cure ``exc``: etl's transient errors (a storage timeout, a service not
    answering) and Python's own timeouts and dropped connections."""
    if isinstance(exc, EtlError):
        return exc.transient
    return isinstance(exc, TimeoutError | ConnectionError)


def warm_up_pystac() -> None:
    """Let pystac register its extension hooks before items are made in several threads.

    pystac 1.15 discovers its extension hooks on first use and marks them discovered before it
    has added them, so threads that make their first items at once can fail with "dictionary
    changed size during iteration". One item made here, on one thread, does the discovery (and
    imports the modules it needs: the local runner's warm server does it once, before it forks
    its task processes, see :func:`etl.task.main.warm_up`).
    """
    import pystac

    pystac.Item.from_dict(
        {
            "type": "Feature",
            "stac_version": "1.0.0",
            "id": "warm-up",
            "geometry": None,
            "properties": {"datetime": "2000-01-01T00:00:00Z"},
            "links": [],
            "assets": {},
        }
    )


def pin_stac_version() -> None:
    """Read pystac's STAC version (``PYSTAC_STAC_VERSION_OVERRIDE`` or its default) once, here.

    pystac reads that environment variable again for every item's ``to_dict``, a twentieth of a
    pod's CPU with a simple ``create_item`` (docs/performance.md). The process's environment is
    the pod's by now (on the local runner too, which forks pods from a warm server) and does not
    change while items are made; a version the dataset's code sets with
    ``pystac.set_stac_version`` still wins, now (read here) or later (it replaces this one).
    """
    import pystac

    pystac.set_stac_version(pystac.get_stac_version())
