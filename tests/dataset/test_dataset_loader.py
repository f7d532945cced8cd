"""etl.dataset.loader: located errors for broken datasets, warnings, PCTasks datasets, selection."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from etl_cli import run_etl

from etl.core.errors import ConfigError, TemplateError, UnknownCollectionError
from etl.core.profiles.model import Profile
from etl.dataset.loader import load_dataset

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "broken"
PCTASKS = ROOT / "tests" / "pctasks"


def _expectations() -> dict[str, str]:
    lines = (BROKEN / "expected.txt").read_text(encoding="utf-8").splitlines()
    pairs = [line.split("\t", 1) for line in lines if line and not line.startswith("#")]
    return {name: expected.replace("{dir}", str(BROKEN)) for name, expected in pairs}


EXPECTED = _expectations()


def _write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dataset.yaml"
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """\
id: demo
args: [registry, length]
image: $<< args.registry >>/demo:1
environment:
  PGSTAC_DSN: $<< secrets.pgstac-dsn >>
collections:
  - id: demo
    class: demo:DemoCollection
    asset_storage:
      - uri: blob://account/container/$<< args.registry >>/
        chunks:
          options:
            chunk_length: $<< args.length >>
  - id: other
    class: demo:OtherCollection
    asset_storage: []
"""


def test_every_broken_file_has_an_expectation() -> None:
    files = sorted(p.name for p in BROKEN.glob("*.yaml"))
    assert files == sorted(EXPECTED)
    assert len(files) >= 25


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_dataset_fails_with_one_located_line(name: str) -> None:
    path = BROKEN / name
    with pytest.raises(ConfigError) as caught:
        load_dataset(path, profile=Profile.builtin_local(), env={})
    message = str(caught.value)
    assert message == f"{path}:{EXPECTED[name]}"
    assert "\n" not in message


def test_cli_validate_prints_one_error_line_and_exits_2(tmp_path: Path) -> None:
    path = BROKEN / "misspelt-chunk-option.yaml"
    result = run_etl(
        "dataset", "validate", "-d", str(path), env={"ETL_CONFIG_DIR": str(tmp_path / "config")}
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"error: {path}:{EXPECTED[path.name]}"]
    assert "Traceback" not in result.stderr


def test_cli_validate_prints_warnings_and_ok(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        MINIMAL.replace(
            "  - id: other\n", "  - id: other\n    create_items:\n      timeout: 600\n"
        ),
    )
    result = run_etl(
        "dataset", "validate", "-d", str(tmp_path), "-a", "registry=r", "-a", "length=10",
        env={"ETL_CONFIG_DIR": str(tmp_path / "config")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok: demo (2 collections)\n"
    assert result.stderr.splitlines() == [
        f"{path}:15:5: collections[1].create_items: warning: ignored: PCTasks' create_items "
        "options; tune the item pods with task_config.<collection>.create-items"
    ]


def test_templated_values_are_validated_after_substitution(tmp_path: Path) -> None:
    _write(tmp_path, MINIMAL)
    loaded = load_dataset(tmp_path, args={"registry": "acr.io", "length": "250"}, env={})
    config = loaded.config
    assert config.image == "acr.io/demo:1"
    assert config.collections[0].asset_storage[0].uri == "blob://account/container/acr.io/"
    assert config.collections[0].asset_storage[0].chunks.options.chunk_length == 250
    assert config.environment == {"PGSTAC_DSN": "$<< secrets.pgstac-dsn >>"}
    assert loaded.path == tmp_path / "dataset.yaml"
    assert loaded.folder == tmp_path
    assert loaded.warnings == ()


def test_a_templated_value_of_the_wrong_type_is_located_at_the_expression(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL)
    with pytest.raises(ConfigError) as caught:
        load_dataset(path, args={"registry": "acr.io", "length": "lots"}, env={})
    assert str(caught.value) == (
        f"{path}:13:27: collections[0].asset_storage[0].chunks.options.chunk_length: "
        "expected an integer, got 'lots'"
    )


def test_an_argument_used_but_not_given_is_a_template_error(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL)
    with pytest.raises(TemplateError) as caught:
        load_dataset(path, args={"registry": "acr.io"}, env={})
    assert str(caught.value).startswith(
        f"{path}:13:27: collections[0].asset_storage[0].chunks.options.chunk_length: "
    )
    assert "pass -a length=VALUE" in str(caught.value)


def test_an_argument_given_but_not_declared_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL)
    with pytest.raises(ConfigError) as caught:
        load_dataset(path, args={"registry": "r", "length": "1", "regsitry": "x"}, env={})
    assert str(caught.value) == (
        f"{path}:2:1: args: argument 'regsitry' is given (-a regsitry=...) but not declared; "
        "the dataset declares: registry, length"
    )


def test_a_folder_without_dataset_yaml_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_dataset(tmp_path)
    assert str(caught.value) == f"{tmp_path}: no dataset.yaml in this folder"
    with pytest.raises(ConfigError, match="no such file or folder"):
        load_dataset(tmp_path / "missing.yaml")


def test_select_collections_keeps_the_requested_order(tmp_path: Path) -> None:
    _write(tmp_path, MINIMAL)
    loaded = load_dataset(tmp_path, args={"registry": "r", "length": "1"}, env={})
    assert [c.id for c in loaded.select_collections()] == ["demo", "other"]
    assert [c.id for c in loaded.select_collections(["other", "demo", "other"])] == [
        "other",
        "demo",
    ]
    with pytest.raises(UnknownCollectionError) as caught:
        loaded.select_collections(["demo", "nope"])
    assert caught.value.exit_code == 2
    assert str(caught.value) == "unknown collection 'nope'; the dataset has: demo, other"


def test_ignored_pctasks_keys_are_warnings_in_file_order(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """\
id: demo
task_config:
  demo:
    create-items:
      tags:
        batch_pool_id: high_memory_pool
      retries: 2
collections:
  - id: demo
    class: pctasks.dataset.collection:PremadeItemCollection
    token: $<< pc.get_token(account, container) >>
    asset_storage:
      - uri: blob://account/container/
        chunks:
          options:
            chunk_file_name: uris-list
            chunk_extension: .csv
""",
    )
    loaded = load_dataset(path, env={})
    assert [str(w) for w in loaded.warnings] == [
        f"{path}:5:7: task_config.demo.create-items.tags: warning: ignored: Azure Batch tags "
        "(e.g. batch_pool_id) mean nothing to Argo; use resources, node_selector and tolerations",
        f"{path}:11:5: collections[0].token: warning: ignored: a token belongs on each "
        "asset_storage or chunk_storage entry",
        f"{path}:16:13: collections[0].asset_storage[0].chunks.options.chunk_file_name: warning: "
        "ignored: etl names chunk files itself (chunks/00000.txt)",
        f"{path}:17:13: collections[0].asset_storage[0].chunks.options.chunk_extension: warning: "
        "ignored: etl names chunk files itself (chunks/00000.txt)",
        f"{path}:10:12: collections[0].class: warning: 'pctasks.dataset.collection:"
        "PremadeItemCollection' is a PCTasks class; unless the image provides pctasks, use "
        "'etl.dataset:PremadeItemCollection' for premade STAC items",
    ]
    task = loaded.config.task_config
    assert task is not None and task["demo"]["create-items"].retries == 2  # type: ignore[index]


def test_resolved_document_round_trips_through_the_model(tmp_path: Path) -> None:
    _write(tmp_path, MINIMAL)
    loaded = load_dataset(tmp_path, args={"registry": "r", "length": "7"}, env={})
    document = loaded.resolved_document()
    assert document["collections"][0]["class"] == "demo:DemoCollection"
    assert type(loaded.config).model_validate(document) == loaded.config


# --- PCTasks datasets -------------------------------------------------------------------------

_LOCAL_PATH = re.compile(r"\$<<\s*local\.path\(([^)]*)\)\s*>>")

PCTASKS_TYPOS = {
    "esa-cci-lc": (
        "27:13: collections[0].asset_storage[0].chunks.options: unknown field 'extension'; "
        "did you mean 'extensions'?"
    ),
    "noaa-hrrr": (
        "28:13: collections[0].asset_storage[0].chunks.options: unknown field 'max_depth_depth'; "
        "did you mean 'max_depth'?"
    ),
    "sentinel-1-grd": (
        "31:13: collections[0].asset_storage[0].chunks.options: unknown field 'extension'; "
        "did you mean 'extensions'?"
    ),
}

PCTASKS_WARNINGS = {
    "cil-gdpcir": ["collections[0].class", "collections[1].class", "collections[2].class"],
    "conus404": ["collections[0].class"],
    "era5-pds": ["collections[0].class"],
    "terraclimate": ["collections[0].class"],
    "gbif": ["collections[0].token"],
    "noaa-cdr": [
        "collections[3].create_items",
        "collections[4].create_items",
        "collections[5].create_items",
    ],
    "noaa-climate-normals": ["task_config.noaa-climate-normals-tabular.create-items.tags"],
}

PCTASKS_VALID = sorted(
    p.name for p in PCTASKS.iterdir() if p.is_dir() and p.name not in PCTASKS_TYPOS
)


def _pctasks_copy(name: str, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The dataset copied with placeholders for what its local.path(...) names, and dummy args."""
    folder = tmp_path / name
    shutil.copytree(PCTASKS / name, folder)
    text = (folder / "dataset.yaml").read_text(encoding="utf-8")
    for relative in _LOCAL_PATH.findall(text):
        target = folder / relative.strip()
        if target.suffix:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
        else:
            target.mkdir(parents=True, exist_ok=True)
    declared = yaml.safe_load(text).get("args") or []
    return folder, {arg: f"dummy-{arg}" for arg in declared}


def test_the_pctasks_corpus_is_large_enough() -> None:
    assert len(PCTASKS_VALID) >= 20


@pytest.mark.parametrize("name", PCTASKS_VALID)
def test_a_real_pctasks_dataset_validates(name: str, tmp_path: Path) -> None:
    folder, args = _pctasks_copy(name, tmp_path)
    raw = yaml.safe_load((folder / "dataset.yaml").read_text(encoding="utf-8"))
    loaded = load_dataset(folder, args=args, profile=Profile.builtin_local(), env={})
    config = loaded.config
    assert config.id == raw["id"]
    assert [c.id for c in config.collections] == [c["id"].strip() for c in raw["collections"]]
    if "registry" in args:
        assert config.image is not None and config.image.startswith("dummy-registry/")
    for value in (config.environment or {}).values():
        assert re.fullmatch(r"\$<< secrets\.[\w-]+ >>", value), value
    for collection in config.collections:
        if collection.template is not None:
            assert Path(collection.template).is_relative_to(folder.resolve())
    assert [w.field for w in loaded.warnings] == PCTASKS_WARNINGS.get(name, [])


@pytest.mark.parametrize("name", sorted(PCTASKS_TYPOS))
def test_typos_pctasks_ignored_are_caught(name: str, tmp_path: Path) -> None:
    folder, args = _pctasks_copy(name, tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_dataset(folder, args=args, env={})
    assert str(caught.value) == f"{folder / 'dataset.yaml'}:{PCTASKS_TYPOS[name]}"
