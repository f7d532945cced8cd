"""Full STAC validation of items (issue 14, item 5), through ``etl dataset process-items``.

A copy of the sample-sidecars dataset with ``stac_validation`` set, on local files, loaded into a
PgSTAC database of the test's own by the local runner. A sidecar acquired at ``+02:00`` makes an
item pystac writes and the structural checks accept, but STAC's item schema refuses (times are
UTC): with validation it fails its asset; without, it loads. Every pod runs behind a dead proxy,
so any attempt to fetch a schema would fail differently from the cache's own message.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from etl_cli import run_etl
from sidecar_files import generate_sidecars

from etl.core.storage.opening import open_storage
from etl.pgstac.writer import PgstacWriter

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "datasets" / "sample-sidecars"
COLLECTION = "sample-sidecars"
ITEM_SCHEMA = "https://schemas.stacspec.org/v1.1.0/item-spec/json-schema/item.json"
CACHED_EXTENSION = "https://example.com/stac/etl-test/v1.0.0/schema.json"
UNCACHED_EXTENSION = "https://example.com/stac/never-cached/v1.0.0/schema.json"
DEAD_PROXY = "http://127.0.0.1:9"

EXTENDED_CLASS = f'''
from sample_sidecars.collection import SampleSidecarsCollection


class ExtendedCollection(SampleSidecarsCollection):
    """Names a cached extension on every item, and an uncached one on scenes 3 and 4."""

    @classmethod
    def create_item(cls, asset_uri, storage):
        item = super().create_item(asset_uri, storage)
        item.stac_extensions.append("{CACHED_EXTENSION}")
        item.properties["test:level"] = 1
        if item.id.endswith(("3", "4")):
            item.stac_extensions.append("{UNCACHED_EXTENSION}")
        return item
'''
TEST_EXTENSION_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$id": CACHED_EXTENSION,
    "type": "object",
    "required": ["properties"],
    "properties": {
        "properties": {"required": ["test:level"], "properties": {"test:level": {"type": "number"}}}
    },
}


def dataset_copy(tmp_path: Path, settings: str, *, klass: str | None = None) -> Path:
    """The sample dataset with ``settings`` (YAML lines of the collection) added."""
    folder = tmp_path / "dataset"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    yaml_path = folder / "dataset.yaml"
    text = yaml_path.read_text()
    anchor = "    template: $<< local.path(./collection) >>\n"
    text = text.replace(anchor, anchor + "".join(f"    {line}\n" for line in settings.splitlines()))
    if klass is not None:
        text = text.replace("sample_sidecars.collection:SampleSidecarsCollection", klass)
    yaml_path.write_text(text)
    return folder


def generate(root: Path, count: int, *, shifted: set[int], env: dict[str, str]) -> None:
    """``count`` sidecars; those of ``shifted`` scenes acquired at +02:00 (the same instant)."""
    assets = root / "assets"
    generate_sidecars(count, assets, env)
    storage = open_storage(str(assets))
    for info in storage.list_objects():
        index = (
            int(info.path.rsplit("-", 1)[-1].split(".")[0]) if info.path.endswith(".json") else -1
        )
        if index in shifted:
            record = json.loads(storage.read_text(info.path))
            hour = int(record["acquired"][11:13])
            record["acquired"] = (
                f"{record['acquired'][:11]}{hour + 2:02d}{record['acquired'][13:-1]}+02:00"
            )
            storage.write_text(info.path, json.dumps(record))


def process_items(dataset: Path, root: Path, env: dict[str, str], *extra: str) -> str:
    result = run_etl("dataset", "process-items", "-d", str(dataset), "-a", f"root={root}",
                     "--submit", *extra, env=env)  # fmt: skip
    assert "Traceback" not in result.stderr
    name = result.stdout.strip().splitlines()[0]
    return f"{result.returncode} {name}"


def errors(name: str, env: dict[str, str]) -> dict[str, str]:
    """The run's failed assets, by sidecar name."""
    listed = run_etl("workflow", "errors", name, "-o", "json", env=env)
    assert listed.returncode == 0, listed.stderr
    report = json.loads(listed.stdout)
    return {e["asset"].rsplit("/", 1)[-1]: e["error"] for e in report["errors"]}


def item_count(dsn: str) -> int:
    with PgstacWriter(dsn) as writer:
        return writer.count_items(COLLECTION)


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    """The local environment, every proxy dead: nothing reaches the internet."""
    return dict(
        env,
        HTTP_PROXY=DEAD_PROXY,
        HTTPS_PROXY=DEAD_PROXY,
        http_proxy=DEAD_PROXY,
        https_proxy=DEAD_PROXY,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )


@pytest.mark.postgres
def test_full_validation_fails_the_assets_of_invalid_items_and_loads_the_rest(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    dataset = dataset_copy(tmp_path, "stac_validation: {mode: full}")
    root = tmp_path / "root"
    generate(root, 6, shifted={1, 4}, env=env)

    code, name = process_items(dataset, root, env).split()

    assert code == "1"
    failed = errors(name, env)
    assert sorted(failed) == ["sample-scene-0000001.json", "sample-scene-0000004.json"]
    message = failed["sample-scene-0000004.json"]
    assert message.startswith(
        f"StacValidationError: item 'sample-scene-0000004': {ITEM_SCHEMA}: $.properties.datetime: "
    )
    assert "does not match" in message and "\n" not in message
    assert item_count(pgstac_dsn) == 4

    code, name = process_items(dataset, root, env, "--stac-validation", "off").split()

    assert code == "0"
    assert item_count(pgstac_dsn) == 6  # the structural checks alone accept them


@pytest.mark.postgres
def test_validation_is_off_unless_asked_and_on_with_the_flag(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    generate(root, 3, shifted={2}, env=env)

    code, _ = process_items(SAMPLE, root, env).split()
    assert code == "0"
    code, name = process_items(SAMPLE, root, env, "--stac-validation", "full").split()

    assert code == "1"
    assert list(errors(name, env)) == ["sample-scene-0000002.json"]


@pytest.mark.postgres
def test_sampled_validation_checks_about_the_share_asked(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    dataset = dataset_copy(
        tmp_path, "stac_validation: {mode: sample, sample_rate: 0.1}\nmax_failure_ratio: 1.0"
    )
    root = tmp_path / "root"
    generate(root, 300, shifted=set(range(300)), env=env)  # every item invalid

    code, name = process_items(dataset, root, env).split()

    assert code == "0"  # within max_failure_ratio
    sampled = len(errors(name, env))
    assert 15 <= sampled <= 50, sampled  # about 10% of 300
    assert item_count(pgstac_dsn) == 300 - sampled
    _, again = process_items(dataset, root, env).split()
    assert errors(again, env).keys() == errors(name, env).keys()  # the same items every run


@pytest.mark.postgres
def test_extension_schemas_come_from_the_cache_and_an_uncached_one_is_named(
    env: dict[str, str], pgstac_dsn: str, tmp_path: Path
) -> None:
    schemas = tmp_path / "schemas"
    (schemas / "example.com/stac/etl-test/v1.0.0").mkdir(parents=True)
    (schemas / "example.com/stac/etl-test/v1.0.0/schema.json").write_text(
        json.dumps(TEST_EXTENSION_SCHEMA)
    )
    dataset = dataset_copy(
        tmp_path,
        "stac_validation: {mode: full}",
        klass="sample_sidecars.extended:ExtendedCollection",
    )
    (dataset / "sample_sidecars" / "extended.py").write_text(EXTENDED_CLASS)
    with (dataset / "dataset.yaml").open("a") as out:
        out.write(f"environment:\n  ETL_STAC_SCHEMAS: {schemas}\n")
    root = tmp_path / "root"
    generate(root, 6, shifted=set(), env=env)

    code, name = process_items(dataset, root, env).split()

    assert code == "1"
    failed = errors(name, env)
    assert sorted(failed) == ["sample-scene-0000003.json", "sample-scene-0000004.json"]
    assert failed["sample-scene-0000003.json"] == (
        f"StacValidationError: item 'sample-scene-0000003': schema {UNCACHED_EXTENSION} is not "
        "in etl's schema cache (schemas are never fetched at run time); add it with "
        f"`scripts/stac-schemas add {UNCACHED_EXTENSION}` and rebuild the image, or put it in a "
        "folder of $ETL_STAC_SCHEMAS"
    )
    assert item_count(pgstac_dsn) == 4  # the cached extension's schema validated the others

    broken = dict(TEST_EXTENSION_SCHEMA, properties={"properties": {"required": ["test:gone"]}})
    (schemas / "example.com/stac/etl-test/v1.0.0/schema.json").write_text(json.dumps(broken))
    _, name = process_items(dataset, root, env).split()

    message = errors(name, env)["sample-scene-0000001.json"]
    assert message == (
        f"StacValidationError: item 'sample-scene-0000001': {CACHED_EXTENSION}: $.properties: "
        "'test:gone' is a required property"
    )


def test_stac_schemas_add_caches_a_schema_and_those_it_refers_to(tmp_path: Path) -> None:
    import functools
    import http.server
    import threading

    served = tmp_path / "served"
    (served / "ext/v1").mkdir(parents=True)
    (served / "common").mkdir()
    with http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0),
        functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served)),
    ) as server:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        (served / "ext/v1/schema.json").write_text(
            json.dumps({"$id": f"{base}/ext/v1/schema.json", "$ref": "../../common/defs.json#/x"})
        )
        (served / "common/defs.json").write_text(json.dumps({"x": {"type": "object"}}))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        into = tmp_path / "cache"
        env = dict(os.environ, NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")

        added = subprocess.run(
            [str(ROOT / "scripts/stac-schemas"), "add", f"{base}/ext/v1/schema.json",
             "--into", str(into)],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        missing = subprocess.run(
            [str(ROOT / "scripts/stac-schemas"), "add", f"{base}/nothing.json",
             "--into", str(into)],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        server.shutdown()

    assert added.returncode == 0, added.stderr
    host = f"127.0.0.1:{base.rsplit(':', 1)[1]}"
    assert sorted(p.relative_to(into).as_posix() for p in into.rglob("*.json")) == [
        f"{host}/common/defs.json",
        f"{host}/ext/v1/schema.json",
    ]
    assert missing.returncode == 1
    assert missing.stderr.startswith(f"error: download failed: {base}/nothing.json: HTTP Error 404")
