"""Items made concurrently in a fresh process: no thread trips over pystac's first-use set-up."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import sys
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    import pystac

    from etl.dataset import Collection
    from etl.dataset.run_results import AssetFailure
    from etl.task.environment import TaskEnvironment
    from etl.task.item_checks import ItemChecker
    from etl.task.item_maker import ItemMaker


    class Points(Collection):
        @classmethod
        def create_item(cls, asset_uri, storage):
            n = int(asset_uri.rsplit("/", 1)[1])
            return pystac.Item.from_dict({
                "type": "Feature", "stac_version": "1.0.0", "id": f"p{n}",
                "geometry": {"type": "Point", "coordinates": [1, 2]}, "bbox": [1, 2, 1, 2],
                "properties": {"datetime": "2024-01-01T00:00:00Z"}, "links": [],
                "assets": {"data": {"href": asset_uri}}, "collection": "points",
                "stac_extensions": ["https://stac-extensions.github.io/eo/v1.1.0/schema.json"],
            })


    root = Path(sys.argv[1]).as_uri()
    environment = TaskEnvironment()
    checker = ItemChecker("points")
    maker = ItemMaker(Points, [environment.storage(root)], checker, None)
    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(maker.make, [f"{root}/{n}" for n in range(4000)]))
    failures = [o for o in outcomes if isinstance(o, AssetFailure)]
    print(len(failures), failures[:1])
    """
)


def test_first_items_made_on_many_threads_all_succeed(tmp_path: Path) -> None:
    for _ in range(3):
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(tmp_path)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert result.stdout.split()[0] == "0", result.stdout
