"""create-chunks on the local filesystem: filters, splits, since, limit, layout, manifest, re-runs."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from etl.core.errors import InputError
from etl.core.storage.base import Storage
from etl.core.storage.opening import open_storage
from etl.dataset.chunking.chunk_files import read_chunk_uris
from etl.dataset.chunking.chunk_set import ChunkSource, create_chunk_set
from etl.dataset.chunking.filters import AssetFilter
from etl.dataset.chunking.manifest import read_manifest
from etl.dataset.chunking.splits import SplitSpec, plan_parts
from etl.dataset.chunking.writer import ChunkWriter
from etl.dataset.layout import RunLayout

TREE = [
    "root.tif",
    "README.md",
    "2020/a.tif",
    "2020/b.TIF",
    "2020/notes.txt",
    "2020/01/c.tif",
    "2020/01/d.tif",
    "2020/01/deep/e.tif",
    "2020/02/f.tif",
    "2020-extra/g.tif",
    "2021/01/h.tif",
    "2021/02/i.json",
    "2021/02/j.tif",
]


@pytest.fixture
def assets(tmp_path: Path) -> Storage:
    for name in TREE:
        path = tmp_path / "assets" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
    return open_storage(str(tmp_path / "assets"))


@pytest.fixture
def chunks(tmp_path: Path) -> Storage:
    return open_storage(str(tmp_path / "chunks"))


def chunk_lines(storage: Storage, run_id: str) -> list[str]:
    manifest = read_manifest(storage, RunLayout(run_id))
    assert manifest is not None
    lines: list[str] = []
    for index in range(manifest.chunk_count):
        lines.extend(read_chunk_uris(storage, manifest, index))
    assert len(lines) == manifest.asset_count
    return lines


def listed(assets: Storage, chunks: Storage, run_id: str = "run", **kwargs: object) -> list[str]:
    """Relative paths of the assets create-chunks lists with these filter options."""
    splits = kwargs.pop("splits", ())
    limit = kwargs.pop("limit", None)
    source = ChunkSource(assets, AssetFilter(**kwargs), splits=splits)  # type: ignore[arg-type]
    create_chunk_set(
        [source],
        chunks,
        RunLayout(run_id),
        collection="c",
        chunk_length=3,
        limit=limit,  # type: ignore[arg-type]
    )
    return [assets.relative_path(uri) for uri in chunk_lines(chunks, run_id)]


def test_unfiltered_listing_is_every_file_in_lexicographic_order(
    assets: Storage, chunks: Storage
) -> None:
    assert listed(assets, chunks) == sorted(TREE)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"extensions": ["tif"]}, [p for p in TREE if p.lower().endswith(".tif")]),
        ({"extensions": [".JSON", "md"]}, ["README.md", "2021/02/i.json"]),
        ({"ends_with": "TIF"}, ["2020/b.TIF"]),
        ({"matches": r"^[a-c]\."}, ["2020/a.tif", "2020/b.TIF", "2020/01/c.tif"]),
        ({"matches": r"^2021/02/", "match_full_path": True}, ["2021/02/i.json", "2021/02/j.tif"]),
        ({"matches": r"^2021/02/"}, []),  # the name alone never holds a slash
        ({"name_starts_with": "2020"}, [p for p in TREE if p.startswith("2020/")]),
        (
            {"name_starts_with": "2020/01/"},
            ["2020/01/c.tif", "2020/01/d.tif", "2020/01/deep/e.tif"],
        ),
        ({"max_depth": 0}, ["README.md", "root.tif"]),
        (
            {"min_depth": 2, "max_depth": 2},
            [
                "2020/01/c.tif",
                "2020/01/d.tif",
                "2020/02/f.tif",
                "2021/01/h.tif",
                "2021/02/i.json",
                "2021/02/j.tif",
            ],
        ),
        ({"min_depth": 3}, ["2020/01/deep/e.tif"]),
        ({"folder_matches": r"^2021/"}, ["2021/01/h.tif", "2021/02/i.json", "2021/02/j.tif"]),
        (
            {"folder_matches": r"^0[12]$", "folder_matches_at_depth": 1},
            [
                "2020/01/c.tif",
                "2020/01/d.tif",
                "2020/01/deep/e.tif",
                "2020/02/f.tif",
                "2021/01/h.tif",
                "2021/02/i.json",
                "2021/02/j.tif",
            ],
        ),
    ],
)
def test_each_filter_keeps_exactly_the_matching_files(
    assets: Storage, chunks: Storage, options: dict[str, object], expected: list[str]
) -> None:
    assert sorted(listed(assets, chunks, **options)) == sorted(expected)


def test_list_folders_lists_each_folder_once_and_filters_apply_to_folders(
    assets: Storage, chunks: Storage
) -> None:
    everything = listed(assets, chunks, "all", list_folders=True)
    assert sorted(everything) == sorted(
        ["2020", "2020/01", "2020/01/deep", "2020/02", "2020-extra", "2021", "2021/01", "2021/02"]
    )
    # PCTasks ignores these for folders; here depth, regex and limit apply to the folders.
    assert sorted(listed(assets, chunks, "depth", list_folders=True, min_depth=1, max_depth=1)) == [
        "2020/01",
        "2020/02",
        "2021/01",
        "2021/02",
    ]
    assert listed(assets, chunks, "match", list_folders=True, matches=r"^deep$") == ["2020/01/deep"]
    assert len(listed(assets, chunks, "limit", list_folders=True, limit=3)) == 3


SPLITS = [
    [SplitSpec(None, 0)],
    [SplitSpec(None, 1)],
    [SplitSpec(None, 2)],
    [SplitSpec(None, 5)],
    [SplitSpec(None, 1), SplitSpec("2020", 1), SplitSpec("2020/01/deep", 0)],
    [SplitSpec("2020/", 2), SplitSpec(None, 2)],
]


@pytest.mark.parametrize("splits", SPLITS)
def test_split_listing_is_exactly_the_unsplit_listing(
    assets: Storage, chunks: Storage, splits: list[SplitSpec]
) -> None:
    unsplit = listed(assets, chunks, "unsplit")
    split = listed(assets, chunks, "split", splits=splits)
    assert len(split) == len(set(split)), "an asset was listed twice"
    assert sorted(split) == sorted(unsplit)


@pytest.mark.parametrize("splits", SPLITS[1:])
def test_split_folder_listing_is_exactly_the_unsplit_folder_listing(
    assets: Storage, chunks: Storage, splits: list[SplitSpec]
) -> None:
    unsplit = listed(assets, chunks, "unsplit", list_folders=True)
    split = listed(assets, chunks, "split", list_folders=True, splits=splits)
    assert len(split) == len(set(split))
    assert sorted(split) == sorted(unsplit)


def test_splits_cut_into_parts_at_the_split_depth(assets: Storage) -> None:
    parts = plan_parts(assets, [SplitSpec("2020", 1)])
    assert [(p.prefix, p.recursive) for p in parts] == [
        ("2020/", False),
        ("2020/01/", True),
        ("2020/02/", True),
    ]


def test_split_folder_matches_keeps_only_matching_split_folders(
    assets: Storage, chunks: Storage
) -> None:
    split = listed(assets, chunks, splits=[SplitSpec("2021", 1, folder_matches=r"/02$")])
    assert sorted(split) == ["2021/02/i.json", "2021/02/j.tif"]


def test_splits_with_filters_and_limit(assets: Storage, chunks: Storage) -> None:
    split = listed(assets, chunks, "s", splits=[SplitSpec(None, 2)], extensions=["tif"], limit=4)
    assert len(split) == 4
    assert all(p.lower().endswith(".tif") for p in split)


def test_since_keeps_only_recently_modified_files(
    assets: Storage, chunks: Storage, tmp_path: Path
) -> None:
    old = datetime(2020, 1, 1, tzinfo=UTC).timestamp()
    for name in TREE:
        os.utime(tmp_path / "assets" / name, (old, old))
    for name in ("2020/01/c.tif", "2021/02/j.tif"):
        os.utime(tmp_path / "assets" / name, None)
    since = datetime(2024, 1, 1)  # naive: UTC
    assert sorted(listed(assets, chunks, "f", since=since)) == ["2020/01/c.tif", "2021/02/j.tif"]
    assert sorted(listed(assets, chunks, "s", since=since, splits=[SplitSpec(None, 1)])) == [
        "2020/01/c.tif",
        "2021/02/j.tif",
    ]
    # A folder qualifies when something under it changed since.
    assert sorted(listed(assets, chunks, "d", since=since, list_folders=True)) == [
        "2020",
        "2020/01",
        "2021",
        "2021/02",
    ]


def test_limit_caps_the_collection_over_all_sources(assets: Storage, chunks: Storage) -> None:
    sources = [
        ChunkSource(assets, AssetFilter(name_starts_with=p), limit=2) for p in ("2020", "2021")
    ]
    manifest = create_chunk_set(
        sources, chunks, RunLayout("r"), collection="c", chunk_length=2, limit=3
    )
    assert manifest.asset_count == 3
    assert [s.assets for s in manifest.sources] == [2, 1]
    assert manifest.chunk_count == 2


def test_empty_listing_writes_a_manifest_with_no_chunks(assets: Storage, chunks: Storage) -> None:
    manifest = create_chunk_set(
        [ChunkSource(assets, AssetFilter(extensions=["zarr"]))],
        chunks,
        RunLayout("e"),
        collection="c",
    )
    assert (manifest.chunk_count, manifest.asset_count) == (0, 0)
    assert read_manifest(chunks, RunLayout("e")) == manifest
    assert [i.path for i in chunks.list_objects("e/")] == [
        "e/chunks/digests.sha256",
        "e/chunks/manifest.json",
    ]


def test_chunks_hold_chunk_length_lines_and_are_deterministic(
    assets: Storage, chunks: Storage
) -> None:
    first = create_chunk_set(
        [ChunkSource(assets)], chunks, RunLayout("a"), collection="c", chunk_length=5
    )
    again = create_chunk_set(
        [ChunkSource(assets, splits=[SplitSpec(None, 1)])],
        chunks,
        RunLayout("a"),
        collection="c",
        chunk_length=5,
    )
    assert (first.chunk_count, first.asset_count) == (3, len(TREE))
    sizes = [len(read_chunk_uris(chunks, again, i)) for i in range(3)]  # "a" is now again's
    assert sizes == [5, 5, 3]
    assert first.digest != again.digest  # split order differs from the plain listing's order...
    rerun = create_chunk_set(
        [ChunkSource(assets, splits=[SplitSpec(None, 1)])],
        chunks,
        RunLayout("b"),
        collection="c",
        chunk_length=5,
    )
    assert rerun.digest == again.digest  # ...but the same listing always gives the same chunks


def test_rerun_replaces_a_larger_chunk_set_and_leaves_no_stale_chunks(
    assets: Storage, chunks: Storage
) -> None:
    layout = RunLayout("r")
    create_chunk_set([ChunkSource(assets)], chunks, layout, collection="c", chunk_length=2)
    assert len(list(chunks.list_objects(layout.chunks_prefix))) == 9  # 7 chunks, digests, manifest
    manifest = create_chunk_set(
        [ChunkSource(assets, AssetFilter(name_starts_with="2021"))],
        chunks,
        layout,
        collection="c",
        chunk_length=2,
    )
    assert manifest.chunk_count == 2
    assert sorted(i.path for i in chunks.list_objects(layout.chunks_prefix)) == [
        "r/chunks/00000.txt",
        "r/chunks/00001.txt",
        "r/chunks/digests.sha256",
        "r/chunks/manifest.json",
    ]


def test_manifest_records_counts_options_and_time(assets: Storage, chunks: Storage) -> None:
    manifest = create_chunk_set(
        [ChunkSource(assets, options={"extensions": ["tif"]})],
        chunks,
        RunLayout("m"),
        collection="coll",
        chunk_length=4,
        limit=10,
        recorded_options={"since": None},
    )
    text = chunks.read_text("m/chunks/manifest.json")
    assert '"chunk_count": 3' in text and '"asset_count": 10' in text
    assert manifest.options["sources"] == {assets.uri: {"extensions": ["tif"]}}
    assert manifest.listing_seconds >= 0 and manifest.collection == "coll"


def test_run_layout_names() -> None:
    layout = RunLayout("wf-abc12")
    assert layout.chunk_path(42) == "wf-abc12/chunks/00042.txt"
    assert layout.manifest_path == "wf-abc12/chunks/manifest.json"
    assert layout.items_path(3) == "wf-abc12/items/00003.ndjson"
    assert layout.result_path(3) == "wf-abc12/results/00003.json"
    assert layout.errors_path(3) == "wf-abc12/errors/00003.ndjson"
    assert layout.chunk_index("wf-abc12/chunks/00042.txt") == 42
    assert layout.chunk_index("wf-abc12/chunks/manifest.json") is None
    assert list(RunLayout.chunks_of_batch(1, 3, 8)) == [1, 4, 7]
    with pytest.raises(InputError):
        RunLayout("../escape")


def test_invalid_regex_is_an_input_error() -> None:
    with pytest.raises(InputError, match="matches"):
        AssetFilter(matches="(")


def test_writer_memory_holds_one_chunk(chunks: Storage) -> None:
    with ChunkWriter(chunks, RunLayout("w"), 1000) as writer:
        writer.extend(f"file:///x/{i}.tif" for i in range(2500))
        stats = writer.finish()
    assert (stats.chunk_count, stats.asset_count) == (3, 2500)
    assert chunks.read_text("w/chunks/00002.txt").splitlines()[-1] == '"file:///x/2499.tif"'


def test_model_default_chunk_length_is_the_chunking_default() -> None:
    from etl.dataset.chunking.chunk_set import DEFAULT_CHUNK_LENGTH
    from etl.dataset.model import ChunkOptions

    assert ChunkOptions().chunk_length == DEFAULT_CHUNK_LENGTH == 1000
