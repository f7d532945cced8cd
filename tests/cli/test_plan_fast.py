"""``etl dataset plan``'s fast path: what it trusts, what it costs, and where it needs ``--deep``.

An asset is not made again when every recorded item of it was loaded by the current code bundle
at least a second after the asset last changed (docs/keeping-current.md, "etl dataset plan"):
a file asset's own modification time, a folder asset's newest object's. Everything goes through
the ``etl`` command on the built-in ``local`` profile, on this machine's files, loaded into a
PgSTAC database of the test's own.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from etl_cli import run_etl, run_etl_imports
from sidecar_files import generate_sidecars

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "sample-sidecars"
COUNTS = ("made", "added", "changed", "unchanged", "removed", "failed")

FOLDER_CODE = '''
import json
from datetime import datetime

import pystac

from etl.dataset import Collection


class Scenes(Collection):
    """A folder holds scene.json (its item) and notes.txt (read by nobody)."""

    @classmethod
    def create_item(cls, asset_uri, storage):
        scene = asset_uri + "/scene.json"
        record = json.loads(storage.read_text(scene))
        return pystac.Item(
            id=asset_uri.rsplit("/", 1)[-1],
            geometry={"type": "Point", "coordinates": [0, 0]},
            bbox=[0, 0, 0, 0],
            datetime=datetime(2024, 1, 1),
            properties={"n": record["n"]},
            assets={"scene": pystac.Asset(href=storage.href_of(scene))},
        )
'''


def plan(dataset: Path, root: Path, env: dict[str, str], *extra: str) -> dict[str, Any]:
    """The one collection of ``etl dataset plan -o json``, counts and examples."""
    result = run_etl(
        "dataset", "plan", "-d", str(dataset), "-a", f"root={root}", "-o", "json", *extra, env=env
    )
    assert result.returncode == 0, result.stderr
    entry: dict[str, Any] = json.loads(result.stdout)["collections"][0]
    return entry


def counts(entry: dict[str, Any]) -> tuple[int, ...]:
    return tuple(entry[key] for key in COUNTS)


def load(dataset: Path, root: Path, env: dict[str, str]) -> None:
    run = run_etl("dataset", "process-items", "-d", str(dataset), "-a", f"root={root}",
                  "--submit", env=env)  # fmt: skip
    assert run.returncode == 0, run.stderr


def backdate(folder: Path, seconds: float = 60) -> None:
    """Every file under ``folder`` last changed ``seconds`` ago: loaded well after it."""
    before = time.time() - seconds
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, (before, before))


def sample_sidecars(root: Path, count: int, env: dict[str, str]) -> list[Path]:
    """``count`` sample sidecars (and their data files) under ``root/assets``, loaded; sorted."""
    generate_sidecars(count, root / "assets", env)
    backdate(root / "assets")
    load(SAMPLE, root, env)
    return sorted((root / "assets").rglob("*.json"))


@pytest.mark.postgres
def test_an_unchanged_source_is_planned_without_making_or_importing_the_item_code(
    env: dict[str, str], tmp_path: Path
) -> None:
    root = tmp_path / "root"
    sample_sidecars(root, 6, env)
    for data_file in (root / "assets").rglob("*.csv"):  # beside the sidecars, not assets
        data_file.write_text(data_file.read_text() + "\n")

    result, imported = run_etl_imports(
        "dataset", "plan", "-d", str(SAMPLE), "-a", f"root={root}", "-o", "json", env=env
    )

    assert result.returncode == 0, result.stderr
    assert counts(json.loads(result.stdout)["collections"][0]) == (0, 0, 0, 6, 0, 0)
    assert "etl.task.plan" in imported
    # nothing to make: neither pystac (items) nor pypgstac's loader (writing) is imported
    assert [m for m in imported if m.split(".")[0] in ("pystac", "pypgstac", "hera")] == []
    assert counts(plan(SAMPLE, root, env, "--deep")) == (6, 0, 0, 6, 0, 0)


@pytest.mark.postgres
def test_a_sidecar_rewritten_with_its_old_modification_time_is_found_by_deep_only(
    env: dict[str, str], tmp_path: Path
) -> None:
    root = tmp_path / "root"
    sidecar = sample_sidecars(root, 4, env)[1]
    before = sidecar.stat()
    record = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**record, "cloud_cover": 99.5}))
    os.utime(sidecar, ns=(before.st_atime_ns, before.st_mtime_ns))  # as cp -p or rsync -t do

    trusted = plan(SAMPLE, root, env)
    deep = plan(SAMPLE, root, env, "--deep")
    os.utime(sidecar)  # its time now says it changed
    touched = plan(SAMPLE, root, env)

    # the fast path's limit (docs/keeping-current.md): it trusts modification times
    assert counts(trusted) == (0, 0, 0, 4, 0, 0)
    assert counts(deep) == (4, 0, 1, 3, 0, 0)
    assert deep["examples"]["changed"] == [record["scene_id"]]
    assert counts(touched) == (1, 0, 1, 3, 0, 0)
    assert touched["examples"]["changed"] == [record["scene_id"]]


@pytest.mark.postgres
def test_a_folder_asset_is_made_again_when_anything_in_it_changed(
    env: dict[str, str], tmp_path: Path
) -> None:
    dataset, root = tmp_path / "dataset", tmp_path / "root"
    dataset.mkdir()
    (dataset / "scenes.py").write_text(FOLDER_CODE)
    (dataset / "collection.json").write_text(json.dumps({
        "type": "Collection", "stac_version": "1.1.0", "id": "scenes", "description": "d",
        "license": "CC0-1.0", "links": [],
        "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]},
                   "temporal": {"interval": [["2024-01-01T00:00:00Z", None]]}},
    }))  # fmt: skip
    (dataset / "dataset.yaml").write_text("""
id: scenes
args: [root]
code:
  src: $<< local.path(./scenes.py) >>
collections:
  - id: scenes
    class: scenes:Scenes
    template: $<< local.path(./collection.json) >>
    asset_storage:
      - uri: $<< args.root >>/assets
        chunks:
          options:
            list_folders: true
            max_depth: 0
    chunk_storage:
      uri: $<< args.root >>/runs
""")
    for n, name in enumerate("abc"):
        (root / "assets" / name).mkdir(parents=True)
        (root / "assets" / name / "scene.json").write_text(json.dumps({"n": n}))
        (root / "assets" / name / "notes.txt").write_text("notes")
    backdate(root / "assets")
    load(dataset, root, env)
    unchanged = plan(dataset, root, env)

    (root / "assets" / "b" / "scene.json").write_text(json.dumps({"n": 99}))  # another item
    (root / "assets" / "c" / "notes.txt").write_text("other notes")  # the same item
    planned = plan(dataset, root, env)
    deep = plan(dataset, root, env, "--deep")

    assert counts(unchanged) == (0, 0, 0, 3, 0, 0)
    assert counts(planned) == (2, 0, 1, 2, 0, 0)  # b and c made: their newest file is new
    assert planned["examples"]["changed"] == ["b"]
    assert counts(deep) == (3, 0, 1, 2, 0, 0)
