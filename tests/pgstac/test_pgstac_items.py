"""etl.pgstac.items and etl.pgstac.policy: batching, item checks, ndjson, retry waits."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pgstac_samples import make_item, make_items

from etl.core.pod_contract import LoadMethod
from etl.pgstac.errors import ItemError
from etl.pgstac.items import iter_batches, parse_ndjson, read_ndjson
from etl.pgstac.policy import LoadRetryPolicy


def test_batches_have_the_requested_size_and_positions() -> None:
    batches = list(iter_batches(make_items("c", 0, 25), "c", batch_size=10))
    assert [len(b.items) for b in batches] == [10, 10, 5]
    assert [b.first for b in batches] == [1, 11, 21]
    assert [b.index for b in batches] == [0, 1, 2]
    assert batches[2].ids == [f"item-{n:07d}" for n in range(20, 25)]


def test_batches_stream_without_reading_the_whole_input() -> None:
    def endless() -> Iterator[dict[str, Any]]:
        for n in itertools.count():
            yield make_item("c", n)

    first_two = list(itertools.islice(iter_batches(endless(), "c", batch_size=100), 2))
    assert [b.ids[0] for b in first_two] == ["item-0000000", "item-0000100"]


def test_items_are_passed_on_unchanged_and_uncopied() -> None:
    items = list(make_items("c", 0, 3))
    (batch,) = iter_batches(items, "c", batch_size=10)
    assert all(a is b for a, b in zip(batch.items, items, strict=True))


def test_an_item_of_another_collection_is_named() -> None:
    items = [make_item("c", 0), make_item("other", 1)]
    with pytest.raises(ItemError) as caught:
        list(iter_batches(items, "c", source="chunk-3.ndjson"))
    assert str(caught.value) == (
        "chunk-3.ndjson item #2: item 'item-0000001': belongs to collection 'other', not 'c'"
    )
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda item: item.pop("id"), "item #1: has no string 'id'"),
        (
            lambda item: item["properties"].pop("datetime"),
            "item #1: item 'item-0000000': has neither properties.datetime"
            " nor start_datetime and end_datetime",
        ),
        (
            lambda item: item.update(geometry=None),
            "item #1: item 'item-0000000': has no geometry (PgSTAC requires one)",
        ),
    ],
)
def test_malformed_items_are_refused_with_their_position(change: Any, message: str) -> None:
    item = make_item("c", 0)
    change(item)
    with pytest.raises(ItemError) as caught:
        list(iter_batches([item], "c"))
    assert str(caught.value) == message


def test_a_start_end_range_counts_as_a_datetime() -> None:
    item = make_item("c", 0)
    item["properties"] = {
        "datetime": None,
        "start_datetime": "2024-01-01T00:00:00Z",
        "end_datetime": "2024-02-01T00:00:00Z",
    }
    assert [b.ids for b in iter_batches([item], "c")] == [["item-0000000"]]


def test_an_id_twice_in_one_batch_is_refused() -> None:
    items = [make_item("c", 0), make_item("c", 1), make_item("c", 0)]
    with pytest.raises(ItemError, match=r"'item-0000000': appears twice in one batch \(second"):
        list(iter_batches(items, "c", batch_size=10))


def test_read_ndjson_streams_objects_and_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "items.ndjson"
    path.write_text('{"id": "a"}\n\n{"id": "b"}\n')
    assert [item["id"] for item in read_ndjson(path)] == ["a", "b"]


@pytest.mark.parametrize("line", ["{not json", "[1, 2]"])
def test_read_ndjson_locates_a_bad_line(tmp_path: Path, line: str) -> None:
    path = tmp_path / "items.ndjson"
    path.write_text('{"id": "a"}\n' + line + "\n")
    with pytest.raises(ItemError, match=rf"^{path}:2: "):
        list(read_ndjson(path))


def test_insert_is_retried_as_ignore_and_the_others_as_themselves() -> None:
    assert LoadMethod.INSERT.for_retry is LoadMethod.IGNORE
    assert LoadMethod.UPSERT.for_retry is LoadMethod.UPSERT
    assert LoadMethod.IGNORE.for_retry is LoadMethod.IGNORE


def test_retry_waits_grow_and_stay_bounded() -> None:
    policy = LoadRetryPolicy(attempts=8, first_delay=1.0, max_delay=5.0)
    waits = [policy.delay(n) for n in range(1, 8)]
    assert 0.75 <= waits[0] <= 1.25
    assert 1.5 <= waits[1] <= 2.5
    assert all(w <= 5.0 * 1.25 for w in waits)
    with pytest.raises(ValueError, match="attempts must be at least 1"):
        LoadRetryPolicy(attempts=0)


def test_the_light_modules_do_not_import_psycopg_or_pypgstac() -> None:
    code = (
        "import sys, etl.pgstac.errors, etl.pgstac.items, etl.pgstac.policy\n"
        "heavy = [m for m in ('psycopg', 'pypgstac') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
        "import etl.pgstac.writer\n"
        "print('pypgstac' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.splitlines() == ["", "True"]


def test_parse_ndjson_reads_storage_text_lines() -> None:
    lines = '{"id": "a"}\n{"id": "b"}\nnull\n'.splitlines()
    assert [item["id"] for item in parse_ndjson(lines[:2], source="x")] == ["a", "b"]
    with pytest.raises(ItemError, match=r"^blob://acc/c/items/00000\.ndjson:3: not a JSON object"):
        list(parse_ndjson(lines, source="blob://acc/c/items/00000.ndjson"))
