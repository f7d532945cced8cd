"""Sorting one folder's names in bounded memory: a local listing's order, whatever the folder's size.

A local listing yields a folder's entries in lexicographic order, so it sorts their names. Held
as one list, the names of a flat folder of 1,000,000 files cost about 60 MB at once
(docs/performance.md, "1,000,000 items"): the largest process of a run, growing with the item
count. Up to :data:`SORT_RUN` names are sorted in memory, as before; a larger folder's names are
sorted in runs of that many, each spilled to a temporary file (one JSON string a line, so any
name survives, newlines and undecodable bytes included) and merged from the files.
"""

from __future__ import annotations

import heapq
import itertools
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from itertools import islice

__all__ = ["SORT_RUN", "sorted_names"]

SORT_RUN = 100_000
"""Names sorted in memory at once (about 7 MB of short names)."""


def sorted_names(names: Iterable[str], run: int = SORT_RUN) -> Iterator[str]:
    """``names`` in sorted order, read in full before this returns (so their source, an open
    folder scan, may be closed then); more than ``run`` of them are merged from spilled runs,
    whose temporary folder is removed once the merge ends or is abandoned.

    Raises:
        OSError: a run cannot be spilled (the temporary folder's disk is full).
    """
    source = iter(names)
    batch = list(islice(source, run + 1))  # one more than a run: a folder of exactly ``run``
    if len(batch) <= run:  # names is sorted in memory, not spilled
        return iter(sorted(batch))
    source = itertools.chain(batch[run:], source)
    batch = sorted(batch[:run])
    spool = tempfile.mkdtemp(prefix="etl-names-")
    try:
        paths: list[str] = []
        while batch:
            path = os.path.join(spool, f"{len(paths):06d}")
            with open(path, "w", encoding="ascii") as out:
                out.writelines(json.dumps(name) + "\n" for name in batch)
            paths.append(path)
            batch = sorted(islice(source, run))
    except BaseException:
        shutil.rmtree(spool, ignore_errors=True)
        raise
    return _merged(spool, paths)


def _merged(spool: str, paths: list[str]) -> Iterator[str]:
    """The sorted runs in ``paths`` merged; ``spool`` removed at the end."""
    try:
        with ExitStack() as files:
            runs = [map(json.loads, files.enter_context(open(p, encoding="ascii"))) for p in paths]
            yield from heapq.merge(*runs)
    finally:
        shutil.rmtree(spool, ignore_errors=True)
