"""``blob://`` hrefs of the items ``create_item`` returns, as URLs a STAC client can open.

Unless the dataset sets ``blob_hrefs: blob``, every asset and link href of an item that is a
``blob://ACCOUNT/CONTAINER/PATH`` URI becomes the blob's URL at the account's endpoint
(:class:`~etl.core.storage.urls.BlobUrls`), before the item is checked and written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from etl.core.storage.uris import BLOB_SCHEME

__all__ = ["rewrite_blob_hrefs"]


def rewrite_blob_hrefs(item: dict[str, Any], url_of: Callable[[str], str]) -> None:
    """Replace, in place, each ``blob://`` href of ``item``'s assets and links by ``url_of(href)``.

    Raises:
        StorageError: an href starts with ``blob://`` but names no account and container.
    """
    assets = item.get("assets")
    targets: Iterable[Any] = assets.values() if isinstance(assets, dict) else ()
    links = item.get("links")
    for target in [*targets, *(links if isinstance(links, list) else ())]:
        if not isinstance(target, dict):
            continue
        href = target.get("href")
        if isinstance(href, str) and href.startswith(BLOB_SCHEME):
            target["href"] = url_of(href)
