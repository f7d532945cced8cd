"""A local listing sorts a folder's names in bounded memory (issue 27 item 6): a folder larger
than ``SORT_RUN`` is sorted in runs spilled to temporary files and merged, in the same order,
the spill removed afterwards."""

from __future__ import annotations

import tempfile
from collections.abc import Generator
from pathlib import Path

import pytest

from etl.core.storage.filesystem import FileStorage
from etl.core.storage.sorted_names import SORT_RUN, sorted_names

NAMES = ["b", "a/", "new\nline", "\udcff-undecodable", "a", "skipped\0", "0", "a.b", "é", "a-"]


@pytest.fixture
def spill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where temporary files go during the test."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.mark.parametrize("run", [1, 3, len(NAMES), len(NAMES) + 1])
def test_names_come_out_sorted_whatever_the_run(spill: Path, run: int) -> None:
    assert list(sorted_names(iter(NAMES), run)) == sorted(NAMES)
    assert list(spill.iterdir()) == []  # the spilled runs are gone once merged


@pytest.mark.parametrize("run", [len(NAMES), len(NAMES) + 1])
def test_names_that_fit_in_a_run_are_never_spilled(spill: Path, run: int) -> None:
    names = sorted_names(iter(NAMES), run)
    assert next(names) == "0"
    assert list(spill.iterdir()) == []  # a folder of exactly a run's names is sorted in memory
    assert list(names) == sorted(NAMES)[1:]


def test_an_abandoned_merge_removes_its_spill(spill: Path) -> None:
    names = sorted_names(iter(NAMES), 2)
    assert next(names) == "0"
    assert len(list(spill.iterdir())) == 1
    assert isinstance(names, Generator)
    names.close()
    assert list(spill.iterdir()) == []


def test_a_folder_larger_than_a_run_is_listed_whole_and_in_order(
    tmp_path: Path, spill: Path
) -> None:
    folder = tmp_path / "flat"
    folder.mkdir()
    count = SORT_RUN + 7
    for n in range(count):
        (folder / f"{n * 7919 % count:07d}.json").touch()  # written out of order
    (folder / "sub").mkdir()
    (folder / "sub" / "x.json").touch()

    paths = [info.path for info in FileStorage(folder).list_objects()]

    assert paths == sorted(paths) and len(paths) == count + 1
    assert paths[-1] == "sub/x.json"
    assert list(spill.iterdir()) == []
