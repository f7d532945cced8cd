"""Synthetic scene sidecars: deterministic records, and writing them to a folder or blob container.

Scene ``i`` is acquired at ``2024-01-01T00:00Z + 3 h * i`` and stored as two objects under the
target, in a folder per acquisition day::

    2024/01/01/sample-scene-0000000.json    the sidecar (what create_item reads)
    2024/01/01/sample-scene-0000000.csv     its data file: per-band statistics

Everything about scene ``i`` comes from ``random.Random(f"{seed}:{i}")``, so the same ``i`` and
``seed`` give the same bytes on every machine, and generating 10 scenes writes exactly the first
10 of a 2,000-scene run.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from etl.core.errors import StorageError
from etl.core.paths import state_dir
from etl.core.profiles.model import Profile
from etl.core.storage import Storage, file_uri, open_storage

__all__ = [
    "DEFAULT_SEED",
    "GeneratedAssets",
    "band_statistics",
    "data_path",
    "default_assets_uri",
    "generate_sidecars",
    "scene_id",
    "sidecar_path",
    "sidecar_record",
]

DEFAULT_SEED = 7
"""The seed the demo and the docs use."""

_START = datetime(2024, 1, 1, tzinfo=UTC)
_STEP = timedelta(hours=3)
_PLATFORMS = ("sample-sat-1", "sample-sat-2")
_BANDS = ("blue", "green", "red", "nir")


@dataclass(frozen=True)
class GeneratedAssets:
    """What :func:`generate_sidecars` did.

    Attributes:
        uri: The root the scenes were written under (the dataset's ``asset_storage`` uri).
        scenes: How many scenes the root holds from this run (each a sidecar and a data file).
        written: Objects written because they were missing or different.
        unchanged: Objects that already held the same bytes and were left alone.
        seconds: Wall time of the run.
        others: Scenes beyond ``scenes`` that the root holds too, left by an earlier run with a
            larger count (never removed): the dataset lists them with the others.
    """

    uri: str
    scenes: int
    written: int
    unchanged: int
    seconds: float
    others: int = 0


def default_assets_uri() -> str:
    """``$ETL_STATE_DIR/sample-sidecars/assets`` as a ``file://`` URI (the generator's default)."""
    return file_uri(state_dir() / "sample-sidecars" / "assets")


def scene_id(index: int) -> str:
    """The id of scene ``index``, which is also its item id."""
    return f"sample-scene-{index:07d}"


def _acquired(index: int) -> datetime:
    return _START + _STEP * index


_SIDECAR_NAME = re.compile(r"sample-scene-(\d{7})\.json")


def sidecar_path(index: int) -> str:
    """The sidecar's path relative to the target root (``2024/01/01/sample-scene-0000000.json``)."""
    return f"{_acquired(index):%Y/%m/%d}/{scene_id(index)}.json"


def data_path(index: int) -> str:
    """The data file's path relative to the target root; it sits beside the sidecar."""
    return sidecar_path(index).removesuffix(".json") + ".csv"


def sidecar_record(index: int, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """The sidecar of scene ``index``: id, acquisition time, footprint polygon, platform, data file.

    The footprint is a tilted rectangle of about 30-60 km around a random centre between 60° S
    and 60° N, with its ring counter-clockwise (GeoJSON's right-hand rule) and closed.
    """
    rng = random.Random(f"{seed}:{index}")
    centre_lon = rng.uniform(-170.0, 170.0)
    centre_lat = rng.uniform(-60.0, 60.0)
    half_width = rng.uniform(0.15, 0.3)
    half_height = rng.uniform(0.15, 0.3)
    tilt = math.radians(rng.uniform(-15.0, 15.0))
    corners = [(-half_width, -half_height), (half_width, -half_height)]
    corners += [(half_width, half_height), (-half_width, half_height)]
    ring = [
        [
            round(centre_lon + x * math.cos(tilt) - y * math.sin(tilt), 6),
            round(centre_lat + x * math.sin(tilt) + y * math.cos(tilt), 6),
        ]
        for x, y in corners
    ]
    ring.append(list(ring[0]))
    return {
        "scene_id": scene_id(index),
        "acquired": _acquired(index).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "footprint": {"type": "Polygon", "coordinates": [ring]},
        "platform": _PLATFORMS[index % len(_PLATFORMS)],
        "instrument": "sample-imager",
        "gsd": 10.0,
        "cloud_cover": round(rng.uniform(0.0, 100.0), 1),
        "data_file": data_path(index).rsplit("/", 1)[-1],
    }


def band_statistics(index: int, seed: int = DEFAULT_SEED) -> str:
    """The data file of scene ``index``: CSV ``band,mean,std`` for four bands."""
    rng = random.Random(f"{seed}:{index}:data")
    rows = ["band,mean,std"]
    rows += [f"{band},{rng.uniform(0, 4000):.1f},{rng.uniform(10, 600):.1f}" for band in _BANDS]
    return "\n".join(rows) + "\n"


def generate_sidecars(
    count: int,
    target: str | None = None,
    *,
    seed: int = DEFAULT_SEED,
    profile: Profile | None = None,
    workers: int = 16,
) -> GeneratedAssets:
    """Write scenes ``0 .. count-1`` (sidecar and data file each) under ``target``.

    Objects that already hold the same bytes are not rewritten, so re-running is cheap and leaves
    modification times alone (``--since`` sees nothing new).

    Args:
        count: How many scenes.
        target: A folder, ``file://`` URI or ``blob://ACCOUNT/CONTAINER/PREFIX`` (default:
            :func:`default_assets_uri`).
        seed: Varies every footprint, time-independent value and statistic.
        profile: Credentials for blob targets (default: the built-in ``local`` profile, Azurite).
        workers: Objects written at once.

    Raises:
        ValueError: ``count`` is negative.
        StorageError: A write failed.
    """
    if count < 0:
        raise ValueError(f"count must be 0 or more, got {count}")
    started = time.perf_counter()
    storage = open_storage(
        target or default_assets_uri(), profile=profile or Profile.builtin_local()
    )

    def write_scene(index: int) -> list[bool]:
        sidecar = json.dumps(sidecar_record(index, seed), indent=2) + "\n"
        return [
            _write_if_changed(storage, sidecar_path(index), sidecar.encode()),
            _write_if_changed(storage, data_path(index), band_statistics(index, seed).encode()),
        ]

    with ThreadPoolExecutor(max(1, workers)) as pool:
        outcomes = [changed for pair in pool.map(write_scene, range(count)) for changed in pair]
    written = sum(outcomes)
    return GeneratedAssets(
        uri=storage.uri,
        scenes=count,
        written=written,
        unchanged=len(outcomes) - written,
        seconds=time.perf_counter() - started,
        others=_scenes_from(storage, count),
    )


def _scenes_from(storage: Storage, first: int) -> int:
    """How many scenes numbered ``first`` or more the storage holds (their sidecars)."""
    found = 0
    for info in storage.list_objects():
        match = _SIDECAR_NAME.fullmatch(info.path.rsplit("/", 1)[-1])
        found += bool(match and int(match[1]) >= first)
    return found


def _write_if_changed(storage: Storage, path: str, data: bytes) -> bool:
    """Write ``data`` unless the object already holds it; whether it was written."""
    try:
        if storage.read_bytes(path) == data:
            return False
    except StorageError:
        pass
    storage.write_bytes(path, data)
    return True
