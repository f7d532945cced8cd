"""The STAC version of the items a pod makes follows pystac's ``PYSTAC_STAC_VERSION_OVERRIDE``
given in the dataset's ``environment`` (pods read it once, when they start making items).

Through ``etl dataset process-items --submit`` on the built-in ``local`` profile: a copy of the
sample-sidecars dataset on local files, loaded into a PgSTAC database of the test's own. The local
runner forks its pods from a warm server that imported pystac before any pod's environment was
set: a version read there would be the default's.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pystac
import pytest
from etl_cli import run_etl
from sidecar_files import generate_sidecars

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "sample-sidecars"
COLLECTION = "sample-sidecars"

pytestmark = pytest.mark.postgres


def stac_versions(dsn: str) -> set[str]:
    """The ``stac_version`` of every item of the collection, as PgSTAC serves them."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT pgstac.get_item(id, collection)->>'stac_version' FROM pgstac.items"
            " WHERE collection = %s",
            (COLLECTION,),
        ).fetchall()
    return {row[0] for row in rows}


@pytest.mark.parametrize("override", [None, "1.0.0"])
def test_items_carry_the_stac_version_the_dataset_environment_asks_for(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path, override: str | None
) -> None:
    dataset = tmp_path / "dataset"
    shutil.copytree(SAMPLE, dataset, ignore=shutil.ignore_patterns("__pycache__"))
    if override is not None:
        with (dataset / "dataset.yaml").open("a") as config:
            config.write(f'\nenvironment:\n  PYSTAC_STAC_VERSION_OVERRIDE: "{override}"\n')
    root = tmp_path / "root"
    generate_sidecars(3, root / "assets", env)

    run = run_etl("dataset", "process-items", "-d", str(dataset), "-a", f"root={root}",
                  "--submit", env=env)  # fmt: skip

    assert run.returncode == 0, run.stderr
    assert stac_versions(pgstac_dsn) == {override or pystac.get_stac_version()}
