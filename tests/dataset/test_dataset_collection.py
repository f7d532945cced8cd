"""etl.dataset.collection: importing a dataset's class, and the premade-item collection."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from etl.core.errors import ConfigError
from etl.core.storage.opening import open_storage
from etl.dataset.collection import Collection, PremadeItemCollection, load_collection_class

GOOD_MODULE = """\
from etl.dataset import Collection

class Outer:
    class Nested(Collection):
        @classmethod
        def create_item(cls, asset_uri, storage):
            return None

class Good(Collection):
    @classmethod
    def create_item(cls, asset_uri, storage):
        return None

class Lazy(Collection):
    pass

class NotOne:
    @classmethod
    def create_item(cls, asset_uri, storage):
        return None
"""


def _module(folder: Path, source: str) -> str:
    """A uniquely named module in ``folder`` (imported modules are cached per process)."""
    name = f"user_code_{uuid.uuid4().hex[:8]}"
    (folder / f"{name}.py").write_text(source, encoding="utf-8")
    return name


def test_a_subclass_from_the_search_path_is_loaded(tmp_path: Path) -> None:
    name = _module(tmp_path, GOOD_MODULE)
    loaded = load_collection_class(f"{name}:Good", search_path=[tmp_path])
    assert issubclass(loaded, Collection)
    assert loaded.__name__ == "Good"
    nested = load_collection_class(f"{name}:Outer.Nested", search_path=[tmp_path])
    assert nested.__qualname__ == "Outer.Nested"


def test_a_package_module_is_loaded(tmp_path: Path) -> None:
    package = f"user_pkg_{uuid.uuid4().hex[:8]}"
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / package / "items.py").write_text(GOOD_MODULE, encoding="utf-8")
    loaded = load_collection_class(f"{package}.items:Good", search_path=[tmp_path])
    assert loaded.__module__ == f"{package}.items"


@pytest.mark.parametrize(
    ("attribute", "message"),
    [
        ("Missing", "has no 'Missing'"),
        ("Lazy", "does not implement create_item"),
        ("NotOne", "is not a subclass of etl.dataset.Collection"),
    ],
)
def test_a_wrong_class_is_a_config_error(tmp_path: Path, attribute: str, message: str) -> None:
    name = _module(tmp_path, GOOD_MODULE)
    with pytest.raises(ConfigError, match=message) as caught:
        load_collection_class(f"{name}:{attribute}", search_path=[tmp_path])
    assert caught.value.field == "class"
    assert caught.value.exit_code == 2


def test_a_missing_module_names_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_collection_class("no_such_module_here:Thing", search_path=[tmp_path])
    assert str(caught.value) == (
        f"class: cannot import 'no_such_module_here:Thing': no module named "
        f"'no_such_module_here' (searched {tmp_path})"
    )


def test_a_module_that_fails_to_import_says_why(tmp_path: Path) -> None:
    broken = _module(tmp_path, "import a_dependency_that_is_not_installed\n")
    with pytest.raises(ConfigError, match="No module named 'a_dependency_that_is_not_installed'"):
        load_collection_class(f"{broken}:Thing", search_path=[tmp_path])
    raising = _module(tmp_path, "raise RuntimeError('bad config at import')\n")
    with pytest.raises(ConfigError, match="RuntimeError: bad config at import"):
        load_collection_class(f"{raising}:Thing", search_path=[tmp_path])


def test_a_malformed_reference_is_refused() -> None:
    with pytest.raises(ConfigError, match="class must be written 'module:ClassName'"):
        load_collection_class("just_a_module")


def test_the_base_class_refuses_to_make_items() -> None:
    with pytest.raises(NotImplementedError, match="Collection must implement create_item"):
        Collection.create_item("file:///x", open_storage("/tmp"))


def test_premade_items_are_read_from_storage(tmp_path: Path) -> None:
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": "scene-1",
        "geometry": {"type": "Point", "coordinates": [1.0, 2.0]},
        "bbox": [1.0, 2.0, 1.0, 2.0],
        "properties": {"datetime": "2024-01-31T00:00:00Z"},
        "links": [],
        "assets": {"data": {"href": "https://example.com/scene-1.tif"}},
        "collection": "demo",
    }
    (tmp_path / "items").mkdir()
    (tmp_path / "items" / "scene-1.json").write_text(json.dumps(item), encoding="utf-8")
    storage = open_storage(str(tmp_path))
    loaded = load_collection_class("etl.dataset:PremadeItemCollection")
    assert loaded is PremadeItemCollection
    made = loaded.create_item(storage.uri_of("items/scene-1.json"), storage)
    assert made.id == "scene-1"
    assert made.collection_id == "demo"
    assert made.assets["data"].href == "https://example.com/scene-1.tif"
