"""A dataset written by tests whose ``create_item`` makes three items per asset (January to March),
for tests of several items per asset: extents, provenance, partitioned collections."""

from __future__ import annotations

import json
from pathlib import Path

MULTI = "multi-scenes"

MULTI_CODE = '''
import json
from datetime import datetime

import pystac

from etl.dataset import Collection


class MultiScenes(Collection):
    """An asset lists scenes [x, y, time]: one item each."""

    @classmethod
    def create_item(cls, asset_uri, storage):
        record = json.loads(storage.read_text(asset_uri))
        items = []
        for n, (x, y, when) in enumerate(record["scenes"]):
            ring = [[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]
            item = pystac.Item(
                id=f"{record['name']}-{n}",
                geometry={"type": "Polygon", "coordinates": [ring]},
                bbox=[x, y, x + 1, y + 1],
                datetime=datetime.fromisoformat(when),
                properties={},
            )
            item.add_asset("list", pystac.Asset(href=storage.href_of(asset_uri), roles=["data"]))
            items.append(item)
        return items
'''


def multi_dataset(tmp_path: Path, since: str | None = None) -> tuple[Path, Path]:
    """A dataset whose assets make three items each (January to March), its template's extent
    covering none of them (its storage listing only assets modified ``since``, if given);
    returns the dataset folder and the run root."""
    folder, root = tmp_path / "dataset", tmp_path / "root"
    (folder).mkdir()
    (folder / "multi_scenes.py").write_text(MULTI_CODE)
    template = {
        "type": "Collection", "stac_version": "1.1.0", "id": MULTI, "description": "d",
        "license": "CC0-1.0", "links": [],
        "extent": {"spatial": {"bbox": [[0, 0, 1, 1]]},
                   "temporal": {"interval": [["2024-02-01T00:00:00Z", "2024-02-02T00:00:00Z"]]}},
    }  # fmt: skip
    (folder / "collection.json").write_text(json.dumps(template))
    (folder / "dataset.yaml").write_text(f"""
id: {MULTI}
args: [root]
code:
  src: $<< local.path(./multi_scenes.py) >>
collections:
  - id: {MULTI}
    class: multi_scenes:MultiScenes
    template: $<< local.path(./collection.json) >>
    extent: template
    missing_items: remove
    max_removals: 50%
    asset_storage:
      - uri: $<< args.root >>/assets
        chunks:
          options:
            extensions: [.json]
            since: {json.dumps(since)}
    chunk_storage:
      uri: $<< args.root >>/runs
""")
    (root / "assets").mkdir(parents=True)
    for a, name in enumerate("abcd"):
        scenes = [[10 * a, m, f"2024-0{m}-15T00:00:00+00:00"] for m in (1, 2, 3)]
        (root / "assets" / f"{name}.json").write_text(json.dumps({"name": name, "scenes": scenes}))
    return folder, root
