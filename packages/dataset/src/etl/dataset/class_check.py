"""``etl dataset validate``'s class check: import every collection ``class`` before anything runs.

The classes are imported the way a pod imports them (:func:`~etl.dataset.load_collection_class`
from ``code.src`` alone, as the bundle holds it, then this Python's path), in one child process
for the whole dataset (:mod:`etl.dataset.class_probe`), so an import that is heavy, hangs or
crashes cannot take validate with it: after ``timeout`` seconds the child and anything it started
are killed.

What is not installed here is judged by where it may come from at run time:

- the class's own module is missing: an error when the dataset ships ``code``; without ``code``
  the class comes from the image, which this machine cannot see, so it is not checked;
- a module the class's module imports is missing: a warning that names it (the pods install
  ``code.requirements``, or the image provides it), and the class is not checked.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl.core.located_yaml import FieldPath, format_field_path
from etl.dataset.config_warnings import ConfigWarning

if TYPE_CHECKING:
    from etl.dataset.loader import LoadedDataset
    from etl.dataset.model import CollectionConfig

__all__ = ["DEFAULT_IMPORT_TIMEOUT", "check_collection_classes"]

DEFAULT_IMPORT_TIMEOUT = 60.0
"""Seconds the import of all of a dataset's collection classes may take."""

_PROBE = [sys.executable, "-P", "-m", "etl.dataset.class_probe"]


@dataclass(frozen=True)
class _Probed:
    """What the child process answered, how it ended, and whether it was stopped."""

    answers: list[dict[str, Any]]
    returncode: int
    stderr: str
    timed_out: bool


def check_collection_classes(
    loaded: LoadedDataset,
    selected: Sequence[CollectionConfig] = (),
    *,
    timeout: float = DEFAULT_IMPORT_TIMEOUT,
) -> list[ConfigWarning]:
    """Import the ``class`` of every collection in ``selected`` (default: all of them).

    Returns:
        Warnings for classes that could not be checked here (a module they import is missing).

    Raises:
        ConfigError: Located at ``collections[N].class`` for the first collection whose class is
            missing, not a :class:`~etl.dataset.Collection` subclass, lacks ``create_item``, or
            whose import raises, crashes or takes longer than ``timeout``; at ``code.src`` when it
            does not exist.
    """
    collections = list(loaded.config.collections)
    chosen = [i for i, c in enumerate(collections) if not selected or any(c is s for s in selected)]
    src = _code_src(loaded)
    references = list(dict.fromkeys(collections[i].collection_class for i in chosen))
    with tempfile.TemporaryDirectory(prefix="etl-validate-") as folder:
        # Only code.src itself is importable, as in the pod's bundle (not its folder's siblings).
        search_path = []
        if src is not None:
            (Path(folder) / src.name).symlink_to(src)
            search_path = [folder]
        probed = _probe(references, search_path, timeout)
    warnings = []
    for index in chosen:
        reference = collections[index].collection_class
        at = ("collections", index, "class")
        position = references.index(reference)
        if position >= len(probed.answers):
            raise loaded.error(at, _stopped(reference, probed, timeout))
        warning = _judge(loaded, src, at, reference, probed.answers[position])
        if warning is not None:
            warnings.append(warning)
    return warnings


def _code_src(loaded: LoadedDataset) -> Path | None:
    if loaded.config.code is None:
        return None
    src = loaded.resolve_path(loaded.config.code.src)
    if not src.exists():
        raise loaded.error(
            ("code", "src"), f"{src} does not exist; the collection classes are imported from it"
        )
    return src


def _probe(references: list[str], search_path: list[str], timeout: float) -> _Probed:
    request = json.dumps({"classes": references, "search_path": search_path})
    child = subprocess.Popen(
        _PROBE,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        start_new_session=True,
    )
    try:
        out, err = child.communicate(request, timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        out, err = child.communicate()
        timed_out = True
    answers = [json.loads(line) for line in out.splitlines()]
    return _Probed(answers, child.returncode, err, timed_out)


def _stopped(reference: str, probed: _Probed, timeout: float) -> str:
    module = reference.partition(":")[0]
    if probed.timed_out:
        return (
            f"importing {module!r} for {reference!r} took longer than {timeout:g} s and was "
            "stopped (a module that hangs or does heavy work at import); allow more with "
            "--import-timeout SECONDS"
        )
    last = (probed.stderr.strip().splitlines() or ["no output"])[-1]
    return (
        f"importing {module!r} for {reference!r} ended its Python process "
        f"(exit code {probed.returncode}): {last}"
    )


def _judge(
    loaded: LoadedDataset, src: Path | None, at: FieldPath, reference: str, answer: dict[str, Any]
) -> ConfigWarning | None:
    """``None`` for a usable class (or one the image provides); a warning for a class that needs
    a module this machine lacks; raises the located error for a broken class."""
    if "error" not in answer:
        return None
    missing = answer.get("missing_module")
    if missing is None:
        raise loaded.error(at, answer["error"])
    if answer.get("own_module"):
        if src is None:
            return None
        raise loaded.error(
            at,
            f"cannot import {reference!r}: no module named {missing!r} in code.src ({src}) or in "
            "this Python environment",
        )
    code = loaded.config.code
    source = (
        f"the pods install code.requirements ({loaded.resolve_path(code.requirements)}): "
        "install them here to check the class"
        if code is not None and code.requirements is not None
        else "the pods need it from the image"
    )
    return ConfigWarning(
        f"not checked: {reference.partition(':')[0]!r} imports {missing!r}, which is not installed "
        f"on this machine; {source}",
        location=loaded.document.locate(at),
        field=format_field_path(at),
    )
