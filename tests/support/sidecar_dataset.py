"""A dataset of JSON sidecars for end-to-end runs on the local profile, and its items in PgSTAC.

Its collection class fails for assets marked broken (until the file ``Dataset.fixed_marker``
exists), so partial failures, re-runs and retries are observable.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

from etl_cli import run_etl

from etl.pgstac.writer import PgstacWriter

COLLECTION_CODE = """
import json
from datetime import datetime
from pathlib import Path

import pystac

from etl.dataset import Collection


class Sidecars(Collection):
    @classmethod
    def create_item(cls, asset_uri, storage):
        record = json.loads(storage.read_text(asset_uri))
        if record.get("broken") and not Path(record["broken"]).exists():
            raise ValueError(f"sidecar {record['id']} is broken")
        x, y = record["x"], record["y"]
        return pystac.Item(
            id=record["id"],
            geometry={"type": "Point", "coordinates": [x, y]},
            bbox=[x, y, x, y],
            datetime=datetime.fromisoformat(record["t"]),
            properties={"n": record["n"]},
            assets={"data": pystac.Asset(href=asset_uri)},
        )
"""

TEMPLATE = {
    "type": "Collection",
    "stac_version": "1.0.0",
    "id": "sidecars",
    "description": "{{ collection.description }}",
    "license": "CC0-1.0",
    "extent": {
        "spatial": {"bbox": [[-180, -90, 180, 90]]},
        "temporal": {"interval": [["2020-01-01T00:00:00Z", None]]},
    },
    "links": [],
}


@dataclass
class Dataset:
    folder: Path
    assets: Path
    chunks: Path
    fixed_marker: Path
    env: dict[str, str]

    def on_blob_storage(self) -> None:
        """Point the dataset's storage at ``blob://`` URIs, as an Argo profile requires (for
        tests that compile for a cluster and run nothing)."""
        yaml_path = self.folder / "dataset.yaml"
        text = yaml_path.read_text()
        for index, local in enumerate(sorted(set(re.findall(r"file://\S+", text)))):
            text = text.replace(local, f"blob://acct/data{index}")
        yaml_path.write_text(text)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_etl(*args, env=self.env)


def make_dataset(
    tmp_path: Path,
    dsn: str,
    *,
    assets: int,
    broken: set[int],
    chunk_length: int = 10,
    max_failure_ratio: float = 0.0,
) -> Dataset:
    folder = tmp_path / "dataset"
    (folder / "collection").mkdir(parents=True)
    (folder / "sidecars.py").write_text(COLLECTION_CODE)
    (folder / "collection" / "template.json").write_text(json.dumps(TEMPLATE))
    (folder / "collection" / "description.md").write_text("Synthetic sidecars for tests.")
    asset_dir = tmp_path / "assets"
    asset_dir.mkdir()
    fixed = tmp_path / "fixed"
    for n in range(assets):
        record = {
            "id": f"item-{n:05d}",
            "n": n,
            "x": n % 180,
            "y": n % 90,
            "t": "2021-05-01T00:00:00+00:00",
        }
        if n in broken:
            record["broken"] = str(fixed)
        (asset_dir / f"{n:05d}.json").write_text(json.dumps(record))
    chunks = tmp_path / "chunks"
    (folder / "dataset.yaml").write_text(
        textwrap.dedent(
            f"""\
            id: sidecars
            image: etl-task:test
            code:
              src: $<< local.path(./sidecars.py) >>
            task_config:
              sidecars:
                create-items: {{retries: 0}}
                create-chunks: {{retries: 0}}
                ingest-collection: {{retries: 0}}
            collections:
              - id: sidecars
                class: sidecars:Sidecars
                template: $<< local.path(./collection) >>
                max_failure_ratio: {max_failure_ratio}
                asset_storage:
                  - uri: {asset_dir.as_uri()}
                    chunks:
                      options:
                        chunk_length: {chunk_length}
                        extensions: [.json]
                chunk_storage:
                  uri: {chunks.as_uri()}
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETL_", "ARGO_"))}
    env |= {
        "ETL_PGSTAC_DSN": dsn,
        "ETL_STATE_DIR": str(tmp_path / "state"),
        "ETL_CONFIG_DIR": str(tmp_path / "config"),
        "CI": "true",
    }
    return Dataset(folder, asset_dir, chunks, fixed, env)


def item_ids(dsn: str) -> list[str]:
    with PgstacWriter(dsn) as writer:
        return sorted(writer.item_ids("sidecars"))
