"""The :class:`Collection` base class that a dataset's code subclasses, and how it is imported.

A dataset names its class as ``class: module:ClassName``; the module comes from ``code.src`` (uploaded
with the dataset) or from the image. pystac is imported only when items are actually made.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl.core.errors import ConfigError
from etl.dataset.field_types import CLASS_PATTERN

if TYPE_CHECKING:
    import pystac

    from etl.core.storage.base import Storage

__all__ = ["Collection", "CollectionClassError", "PremadeItemCollection", "load_collection_class"]


class CollectionClassError(ConfigError):
    """A collection ``class`` cannot be imported or is not a usable :class:`Collection` (field
    ``class``).

    Attributes:
        missing_module: The module that is not installed, when that is why the import failed.
        own_module: ``missing_module`` is the class's own module (or a package holding it), not
            a module that it imports.
    """

    def __init__(
        self, message: str, *, missing_module: str | None = None, own_module: bool = False
    ) -> None:
        super().__init__(message, field="class")
        self.missing_module = missing_module
        self.own_module = own_module


class Collection:
    """Base class of a dataset's collection classes: makes STAC items from one asset.

    Subclass it and implement :meth:`create_item`::

        class MyCollection(Collection):
            @classmethod
            def create_item(cls, asset_uri, storage):
                text = storage.read_text(asset_uri)
                ...
                return pystac.Item(...)
    """

    @classmethod
    def create_item(
        cls, asset_uri: str, storage: Storage
    ) -> pystac.Item | list[pystac.Item] | None:
        """Make the item(s) for one asset.

        Args:
            asset_uri: The asset's full URI (one line of a chunk file).
            storage: The asset storage the URI lies under; read the asset with
                ``storage.read_bytes(asset_uri)`` or ``storage.read_text(asset_uri)``, and give
                an asset its ``href=storage.href_of(uri)``: a URL STAC clients open (a blob's
                ``https://`` URL, a local file's ``file://`` URI). A ``blob://`` href left in an
                item becomes that URL too, unless the dataset sets ``blob_hrefs: blob``.

        Returns:
            One item, several items, or ``None`` to skip the asset (it is counted, not failed).
        """
        raise NotImplementedError(f"{cls.__name__} must implement create_item")


class PremadeItemCollection(Collection):
    """Assets that already are STAC item JSON files: each one is read and loaded as it is.

    The counterpart of PCTasks' ``pctasks.dataset.collection:PremadeItemCollection``.
    """

    @classmethod
    def create_item(cls, asset_uri: str, storage: Storage) -> pystac.Item:
        """The item stored at ``asset_uri``."""
        import pystac

        data: dict[str, Any] = json.loads(storage.read_text(asset_uri))
        return pystac.Item.from_dict(data, preserve_dict=False)


def load_collection_class(
    reference: str, *, search_path: Sequence[Path | str] = ()
) -> type[Collection]:
    """Import the class named ``module:ClassName``.

    Args:
        reference: The ``class`` of a collection, e.g. ``goes_glm:GoesGlmCollection``.
        search_path: Folders (or zip files) to import the module from, ahead of ``sys.path``;
            they stay on ``sys.path`` so the module's own later imports keep working.

    Raises:
        CollectionClassError: The reference is malformed, the module cannot be imported, the class
            is missing, not a :class:`Collection` subclass, or lacks ``create_item``.
    """
    if not re.match(CLASS_PATTERN, reference):
        raise CollectionClassError(f"class must be written 'module:ClassName', got {reference!r}")
    module_name, _, qualname = reference.partition(":")
    for entry in reversed([str(Path(p)) for p in search_path]):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name + ".").startswith(exc.name + "."):
            where = ", ".join(str(p) for p in search_path) or "the image's Python path"
            raise CollectionClassError(
                f"cannot import {reference!r}: no module named {module_name!r} (searched {where})",
                missing_module=exc.name,
                own_module=True,
            ) from None
        raise CollectionClassError(
            f"importing {module_name!r} for {reference!r} failed: {exc}", missing_module=exc.name
        ) from None
    except Exception as exc:
        raise CollectionClassError(
            f"importing {module_name!r} for {reference!r} failed: {type(exc).__name__}: {exc}"
        ) from None
    found: Any = module
    for name in qualname.split("."):
        found = getattr(found, name, None)
        if found is None:
            raise CollectionClassError(
                f"cannot import {reference!r}: module {module_name!r} has no {qualname!r}"
            )
    if not isinstance(found, type) or not issubclass(found, Collection):
        raise CollectionClassError(f"{reference!r} is not a subclass of etl.dataset.Collection")
    if found.create_item.__func__ is Collection.create_item.__func__:  # type: ignore[attr-defined]
        raise CollectionClassError(f"{reference!r} does not implement create_item")
    return found
