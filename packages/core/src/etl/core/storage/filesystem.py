"""The local-filesystem backend of :class:`~etl.core.storage.base.Storage`.

Symbolic links never lead out of the root: a listing leaves out a symlinked file whose target lies
outside the root (and never enters a symlinked folder), and reading, writing or deleting refuses a
path that links resolve to outside the root. Links whose targets stay inside the root are followed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from etl.core.atomic_files import write_atomically
from etl.core.errors import StorageError
from etl.core.storage.base import ObjectInfo, Storage
from etl.core.storage.sorted_names import sorted_names
from etl.core.storage.uris import FILE_SCHEME, file_uri

__all__ = ["FileStorage"]

# Atomic writes go through a temporary file with this prefix beside the target; listings skip them.
_TEMP_PREFIX = ".etl-tmp-"


class FileStorage(Storage):
    """Objects are files under a local folder; writes are atomic (temporary file, then rename).

    Listings follow symlinked files whose targets lie inside the root, and never symlinked folders
    below it (as ``find`` does); a file whose links resolve outside the root is never read.
    """

    def __init__(self, root: Path) -> None:
        super().__init__(file_uri(root))
        self.root = root

    def relative_path(self, path: str) -> str:
        """As :meth:`Storage.relative_path`; an absolute local path counts as its ``file://`` URI."""
        if path.startswith("/"):
            path = FILE_SCHEME + path
        return super().relative_path(path)

    def href_of(self, path: str) -> str:
        """The ``file://`` URI of ``path``."""
        return self.uri_of(path)

    def _local(self, path: str, *, follow: bool = True) -> Path:
        """The local file of ``path``.

        Args:
            path: Relative to the root, or a full URI under it.
            follow: Whether a link at ``path`` itself is followed (reading), or only the links of
                the folders above it are (writing and deleting replace or remove the link).

        Raises:
            StorageError: when symbolic links resolve ``path`` to a file outside the root.
        """
        relative = self.relative_path(path)
        if not _within(self._resolved(relative, follow=follow), self._real_root):
            raise StorageError(
                f"{self.uri_of(path)} leads out of the storage root {self.uri} through a "
                "symbolic link: refused"
            )
        return self.root / relative

    @cached_property
    def _real_root(self) -> str:
        """The root with its symbolic links resolved, once (the root is the configuration's)."""
        return os.path.realpath(self.root)

    def _resolved(self, relative: str, *, follow: bool) -> str:
        """``os.path.realpath`` of the root's ``relative`` path (with ``follow``, a link at the path
        itself is resolved too; without, only its folders' links are).

        One ``lstat`` per component below the root, whose own links are resolved once
        (:attr:`_real_root`); past a symbolic link, ``os.path.realpath`` resolves the rest. (A
        full ``realpath`` per file, of the path and of the root, was a tenth of the CPU of a pod
        reading sidecars.)
        """
        parts = relative.split("/")
        walked, name = (parts, "") if follow else (parts[:-1], parts[-1])
        current = self._real_root
        for part in walked:
            current = os.path.join(current, part)
            if os.path.islink(current):
                current = os.path.realpath(os.path.join(self._real_root, *walked))
                break
        return os.path.join(current, name) if name else current

    def list_objects(
        self,
        prefix: str = "",
        *,
        with_properties: bool = False,
        recursive: bool = True,
        accept: Callable[[str], bool] | None = None,
    ) -> Iterator[ObjectInfo]:
        """Every file whose relative path starts with ``prefix``, in lexicographic order."""
        prefix = self.relative_path(prefix)
        folder, _, _ = prefix.rpartition("/")
        start = folder + "/" if folder else ""
        by_name = prefix != start  # a partial last segment filters names
        uri_prefix = self._uri_prefix
        real_root = self._real_root
        if not _unlinked(self.root, folder, real_root):
            return
        local_prefix = os.path.join(self.root, "")  # os.stat on a str: no Path per file
        for relative in self._walk(self.root / folder, start, real_root, recursive=recursive):
            if (by_name and not relative.startswith(prefix)) or (
                accept is not None and not accept(relative)
            ):
                continue
            if not with_properties:
                yield ObjectInfo(uri_prefix + relative, relative)
                continue
            try:
                stat = os.stat(local_prefix + relative)
            except FileNotFoundError:
                continue  # deleted while listing
            yield ObjectInfo(
                uri_prefix + relative,
                relative,
                stat.st_size,
                datetime.fromtimestamp(stat.st_mtime, tz=UTC),
            )

    def _walk(
        self, folder: Path, relative: str, real_root: str, *, recursive: bool
    ) -> Iterator[str]:
        """Relative paths of the files under ``folder``, depth first, in lexicographic order.

        Each folder's entries are sorted with folders keyed as ``name/``, which makes the walk's
        order the lexicographic order of whole relative paths: a folder's contents all start with
        ``name/`` and no sibling name contains ``/``. Only the names of the folders being walked
        are held, and of a folder larger than :data:`~etl.core.storage.sorted_names.SORT_RUN`
        only that many at a time (:func:`~etl.core.storage.sorted_names.sorted_names`): memory
        does not grow with a flat folder's size. A symlinked file is listed when its target lies
        inside ``real_root`` (the resolved root). One loop over a stack of open folders, on
        ``str`` paths: every file is yielded by this frame, not through one generator per level
        (a third of a deep local listing's CPU).
        """
        top = os.path.join(folder, "")
        stack = [(_sorted_entries(top, real_root), top, relative)]
        while stack:
            names, path, relative = stack[-1]
            for name in names:
                last = name[-1]
                if last == "/":
                    if recursive:
                        inner = path + name
                        stack.append((_sorted_entries(inner, real_root), inner, relative + name))
                        break
                elif last != "\0":
                    yield relative + name
            else:
                stack.pop()

    def list_prefixes(self, prefix: str = "") -> Iterator[str]:
        """Sub-folders one level below ``prefix`` (a partial last segment filters by name)."""
        prefix = self.relative_path(prefix)
        folder, _, partial = prefix.rpartition("/")
        start = folder + "/" if folder else ""
        if not _unlinked(self.root, folder, self._real_root):
            return
        try:
            with os.scandir(self.root / folder) as scan:
                folders = sorted(
                    entry.name + "/"
                    for entry in scan
                    if _is_folder(entry) and entry.name.startswith(partial)
                )
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise StorageError(f"cannot list {self.uri_of(start)}: {exc.strerror}") from None
        for folder_name in folders:
            yield start + folder_name

    def read_bytes(self, path: str) -> bytes:
        """The content of the file at ``path``."""
        target = self._local(path)
        try:
            return target.read_bytes()
        except FileNotFoundError:
            raise StorageError(f"not found: {self.uri_of(path)}") from None
        except OSError as exc:
            raise StorageError(f"cannot read {self.uri_of(path)}: {exc.strerror}") from None

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write through a temporary file in the same folder, then rename it into place."""
        if not self.relative_path(path):
            raise StorageError(f"cannot write to the storage root itself: {self.uri}")
        target = self._local(path, follow=False)
        try:
            write_atomically(target, data, temp_prefix=_TEMP_PREFIX)
        except OSError as exc:
            raise StorageError(f"cannot write {self.uri_of(path)}: {exc.strerror}") from None

    def exists(self, path: str) -> bool:
        """Whether a file exists at ``path`` (not one that links resolve to outside the root)."""
        try:
            return self._local(path).is_file()
        except StorageError:
            return False

    def delete(self, path: str) -> None:
        """Delete the file, then any folders it leaves empty up to the root (as blob "folders" vanish)."""
        target = self._local(path, follow=False)
        try:
            target.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot delete {self.uri_of(path)}: {exc.strerror}") from None
        parent = target.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent


def _is_folder(entry: os.DirEntry[str]) -> bool:
    return entry.is_dir(follow_symlinks=False)


def _sorted_entries(folder: str, real_root: str) -> Iterator[str]:
    """The names in ``folder`` (a path ending in ``/``), sorted: ``name/`` for a folder, ``name``
    for a file, ``name`` + NUL for anything else (skipped): a symlinked folder, and a symlinked
    file whose target is outside ``real_root``. Temporary files of atomic writes are left out;
    a folder gone or not a folder has none.

    Raises:
        StorageError: the folder cannot be read.
    """
    try:
        with os.scandir(folder) as scan:
            return sorted_names(_sort_keys(scan, real_root))
    except (FileNotFoundError, NotADirectoryError):
        return iter(())
    except OSError as exc:
        raise StorageError(f"cannot list {file_uri(Path(folder))}: {exc.strerror}") from None


def _sort_keys(entries: Iterator[os.DirEntry[str]], real_root: str) -> Iterator[str]:
    for entry in entries:
        name = entry.name
        if name.startswith(_TEMP_PREFIX):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield name + "/"
        elif entry.is_file() and (
            not entry.is_symlink() or _within(os.path.realpath(entry.path), real_root)
        ):
            yield name
        else:
            yield name + "\0"


def _within(real: str, real_root: str) -> bool:
    """Whether the resolved path ``real`` is ``real_root`` or below it."""
    return real == real_root or real.startswith(real_root.rstrip("/") + "/")


def _unlinked(root: Path, folder: str, real_root: str) -> bool:
    """Whether ``folder`` (relative, no trailing ``/``) is reached from the root through no
    symbolic link: a listing enters no symlinked folder, as a walk from the root does not."""
    return not folder or os.path.realpath(root / folder) == os.path.join(real_root, folder)
