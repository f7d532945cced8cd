"""Which listed paths are assets: the chunk options as pure predicates over relative paths.

Semantics follow PCTasks' ``walk`` (the listing behind its create-chunks), on paths relative to the
asset storage root, with ``/`` separators:

- ``name_starts_with``: a folder to list under (``2020`` and ``2020/`` are the same folder).
- ``extensions``: the file name's last extension, case-insensitive, with or without the dot.
- ``ends_with``: a plain suffix of the name.
- ``matches``: a regular expression *searched* in the file name, or in the whole relative path when
  ``match_full_path`` is set.
- ``min_depth``/``max_depth``: bounds on the depth of the asset's folder: ``a.tif`` is at depth 0,
  ``x/y/a.tif`` at depth 2. Unlike PCTasks, ``max_depth: 0`` means the root only, not "no limit".
- ``folder_matches``: a regular expression searched in the asset's folder path (``x/y``; ``""`` at
  the root); with ``folder_matches_at_depth`` only in the name of its ancestor folder at that depth
  (``0``: the first folder), and an asset with no folder that deep does not pass.
- ``since``: only objects modified at or after this instant (naive times are UTC).

With ``list_folders`` the assets are folders instead of files, and every filter above applies to the
folder itself (its name, path and depth, where ``x/y`` is at depth 1 like a file in ``x``; with
``since``, a folder qualifies when something under it changed since then). PCTasks applies none of
them to folders; here they all apply, and so does the limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from etl.core.errors import InputError

__all__ = ["AssetFilter", "folder_of", "folders_of", "path_depth"]

_Predicate = Callable[[str], bool]


def path_depth(path: str) -> int:
    """The depth of the folder holding ``path``: the number of ``/`` in it (``a/b.tif`` → 1)."""
    return path.count("/")


def folder_of(path: str) -> str:
    """The folder holding ``path``, without a trailing slash (``""`` at the root)."""
    return path.rpartition("/")[0]


def folders_of(path: str) -> list[str]:
    """Every folder above ``path``, outermost first: ``a/b/c.tif`` → ``["a", "a/b"]``."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _normalise_extension(extension: str) -> str:
    return ("" if extension.startswith(".") else ".") + extension.lower()


def _has_extension(path: str, wanted: frozenset[str]) -> bool:
    """Whether the last extension of the name at the end of ``path`` (with its dot, lower case)
    is one of ``wanted`` (each starting with a dot). Like ``os.path.splitext``, a leading dot
    (".hidden") is not an extension. Called for every listed file: the name is split only when
    its ending is wanted."""
    dot = path.rfind(".")  # -1: no dot, and no one-character ending is wanted but "."
    extension = path[dot:].lower()
    return (
        extension in wanted
        and "/" not in extension
        and bool(path[path.rfind("/", 0, dot) + 1 : dot].strip("."))
    )


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class AssetFilter:
    """The chunk options that decide which listed paths become assets.

    Build it once per listing; :meth:`accepts` is the per-object hot path and only runs the
    predicates of options that are set.
    """

    name_starts_with: str | None = None
    extensions: Iterable[str] | None = None
    ends_with: str | None = None
    matches: str | None = None
    match_full_path: bool = False
    min_depth: int | None = None
    max_depth: int | None = None
    folder_matches: str | None = None
    folder_matches_at_depth: int | None = None
    since: datetime | None = None
    list_folders: bool = False
    _predicates: tuple[_Predicate, ...] = field(init=False, repr=False, compare=False)
    _accept: _Predicate = field(init=False, repr=False, compare=False)
    """The predicates as one: the only one itself (no generator per object), or all of them."""

    def __post_init__(self) -> None:
        predicates = tuple(self._build_predicates())
        object.__setattr__(self, "_predicates", predicates)
        object.__setattr__(
            self,
            "_accept",
            predicates[0]
            if len(predicates) == 1
            else lambda path: all(predicate(path) for predicate in predicates),
        )
        if self.since is not None:
            object.__setattr__(self, "since", _as_utc(self.since))

    @property
    def folder_prefix(self) -> str:
        """The folder every asset lies under (``""`` for the whole storage), with a trailing slash."""
        folder = (self.name_starts_with or "").strip("/")
        return f"{folder}/" if folder else ""

    @property
    def needs_properties(self) -> bool:
        """Whether the listing must fetch properties (modification times), which costs ~7x."""
        return self.since is not None

    @property
    def is_empty(self) -> bool:
        """Whether no path-based option is set (every listed path passes :meth:`accepts`)."""
        return not self._predicates

    def accepts(self, path: str) -> bool:
        """Whether the file or folder at relative ``path`` passes every path-based option."""
        return self._accept(path)

    def is_recent(self, last_modified: datetime | None) -> bool:
        """Whether an object modified at ``last_modified`` passes ``since``."""
        if self.since is None:
            return True
        return last_modified is not None and _as_utc(last_modified) >= self.since

    def _build_predicates(self) -> Iterable[_Predicate]:
        prefix = self.folder_prefix
        if prefix:
            yield lambda path: path.startswith(prefix)
        if self.min_depth is not None or self.max_depth is not None:
            low = self.min_depth or 0
            high = self.max_depth
            yield lambda path: low <= path.count("/") and (high is None or path.count("/") <= high)
        if self.extensions is not None:
            wanted = frozenset(_normalise_extension(e) for e in self.extensions)
            yield lambda path: _has_extension(path, wanted)
        target: Callable[[str], str] = (
            (lambda path: path) if self.match_full_path else (lambda path: path.rpartition("/")[2])
        )
        if self.ends_with is not None:
            suffix = self.ends_with
            yield lambda path: target(path).endswith(suffix)
        if self.matches is not None:
            pattern = _compile("matches", self.matches)
            yield lambda path: pattern.search(target(path)) is not None
        if self.folder_matches is not None:
            folder_pattern = _compile("folder_matches", self.folder_matches)
            own = self.list_folders
            at = self.folder_matches_at_depth
            if at is None:
                yield (
                    lambda path: folder_pattern.search(path if own else folder_of(path)) is not None
                )
            else:
                yield lambda path: _segment_matches(folder_pattern, path, at, own)


def _segment_matches(pattern: re.Pattern[str], path: str, depth: int, own: bool) -> bool:
    """Whether the folder name at ``depth`` above ``path`` (or in it, for a folder) matches."""
    segments = path.split("/") if own else path.split("/")[:-1]
    return depth < len(segments) and pattern.search(segments[depth]) is not None


def _compile(option: str, expression: str) -> re.Pattern[str]:
    try:
        return re.compile(expression)
    except re.error as exc:
        raise InputError(
            f"chunk option {option}: invalid regular expression {expression!r}: {exc}"
        ) from None
