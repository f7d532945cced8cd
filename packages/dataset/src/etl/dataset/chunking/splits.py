"""Splits: cutting one listing into independent parts that can be listed in parallel.

A split ``{prefix, depth}`` walks the folder ``prefix`` (the whole storage when unset) down
``depth`` folder levels; each folder found there is listed recursively as one part (``depth: 0``:
the prefix itself is the one part). Unlike PCTasks, files that sit above the split depth are not
lost: each folder passed on the way down is one more part holding just its own files. When one
split's folder lies inside another's, the outer split's parts skip it. So the union of the parts is
exactly the listing of the splits' folders: nothing twice, nothing missing. A split's
``folder_matches`` is a filter, not a cut: split folders whose path it does not match are left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from etl.core.storage.base import Storage

__all__ = ["ListingPart", "SplitSpec", "plan_parts", "splits_list"]

_MapCalls = Callable[[Callable[[str], list[str]], Iterable[str]], Iterable[list[str]]]


@dataclass(frozen=True)
class SplitSpec:
    """One split of a dataset's ``asset_storage[].chunks.splits``.

    Attributes:
        prefix: The folder to split (relative to the asset storage root); ``None`` for the root.
        depth: How many folder levels under ``prefix`` the parts are cut at.
        folder_matches: A regular expression a split folder's path must contain, else it is skipped.
    """

    prefix: str | None
    depth: int
    folder_matches: str | None = None


@dataclass(frozen=True)
class ListingPart:
    """One independent piece of a listing.

    Attributes:
        prefix: The folder listed, relative, ``""`` or ending with ``/``.
        recursive: Whether everything below ``prefix`` is listed, or only the files directly in it.
        exclude: Folders (ending with ``/``) inside ``prefix`` that other parts list.
    """

    prefix: str = ""
    recursive: bool = True
    exclude: tuple[str, ...] = ()


def _folder(prefix: str | None) -> str:
    stripped = (prefix or "").strip("/")
    return f"{stripped}/" if stripped else ""


def plan_parts(
    storage: Storage,
    splits: Sequence[SplitSpec] | None,
    *,
    map_calls: _MapCalls | None = None,
) -> list[ListingPart]:
    """The parts of ``storage``'s listing under ``splits``, in a deterministic order.

    Args:
        storage: The asset storage.
        splits: The splits; none gives one part, the whole storage.
        map_calls: Runs the folder listings of one level (e.g. ``executor.map``); in order, serially,
            when unset.
    """
    if not splits:
        return [ListingPart()]
    run = map_calls or map
    by_folder = _by_folder(splits)
    parts: list[ListingPart] = []
    for folder, split in by_folder.items():
        inner = tuple(other for other in by_folder if other != folder and other.startswith(folder))
        parts.extend(_expand(storage, folder, split, inner, run))
    return parts


def splits_list(splits: Sequence[SplitSpec] | None, path: str) -> bool:
    """Whether the parts of ``splits`` list the file at relative ``path`` (no splits: every file).

    The same rule as :func:`plan_parts`, for one path and without listing anything: the innermost
    split folder holding ``path`` lists it when it lies above the split depth, or when the folder
    at that depth passes the split's ``folder_matches``.
    """
    if not splits:
        return True
    holders = [folder for folder in _by_folder(splits).items() if path.startswith(folder[0])]
    if not holders:
        return False
    folder, split = max(holders, key=lambda holder: len(holder[0]))
    below = path[len(folder) :].split("/")[:-1]
    if len(below) < split.depth:
        return True
    return _passes(split, folder + "".join(f"{name}/" for name in below[: split.depth]))


def _by_folder(splits: Sequence[SplitSpec]) -> dict[str, SplitSpec]:
    """Each split by its folder (the first split of a folder wins)."""
    by_folder: dict[str, SplitSpec] = {}
    for split in splits:
        by_folder.setdefault(_folder(split.prefix), split)
    return by_folder


def _passes(split: SplitSpec, folder: str) -> bool:
    """Whether the split folder ``folder`` (ending with ``/``) passes ``split.folder_matches``."""
    return (
        split.folder_matches is None
        or re.search(split.folder_matches, folder.rstrip("/")) is not None
    )


def _expand(
    storage: Storage,
    folder: str,
    split: SplitSpec,
    inner: tuple[str, ...],
    run: _MapCalls,
) -> list[ListingPart]:
    parts: list[ListingPart] = []
    frontier = [folder]
    for _ in range(split.depth):
        if not frontier:
            break
        parts.extend(ListingPart(f, recursive=False) for f in frontier)
        children = run(lambda f: list(storage.list_prefixes(f)), frontier)
        frontier = [child for listed in children for child in listed if child not in inner]
    for f in (f for f in frontier if _passes(split, f)):
        exclude = tuple(other for other in inner if other.startswith(f))
        parts.append(ListingPart(f, recursive=True, exclude=exclude))
    return parts
