"""etl.pgstac.writer: collections, item loads and their methods, partitioning, read helpers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pgstac_samples import item_id, make_collection, make_item, make_items

from etl.core.errors import InputError, RemoteError
from etl.pgstac.errors import CollectionNotFoundError, ItemError, ItemIdConflictError
from etl.pgstac.load import BatchReport
from etl.pgstac.policy import LoadRetryPolicy
from etl.pgstac.writer import PgstacWriter

pytestmark = pytest.mark.postgres


@pytest.fixture
def writer(pgstac_dsn: str) -> Iterator[PgstacWriter]:
    with PgstacWriter(pgstac_dsn) as writer:
        writer.upsert_collection(make_collection("c"))
        yield writer


def test_upsert_collection_creates_then_replaces(pgstac_dsn: str) -> None:
    with PgstacWriter(pgstac_dsn) as writer:
        assert writer.get_collection("new") is None
        writer.upsert_collection(make_collection("new", title="First"))
        writer.upsert_collection(make_collection("new", title="Second"))
        stored = writer.get_collection("new")
        assert stored is not None
        assert stored["title"] == "Second"


def test_a_collection_without_id_is_refused(pgstac_dsn: str) -> None:
    collection = make_collection("x")
    del collection["id"]
    with PgstacWriter(pgstac_dsn) as writer, pytest.raises(InputError, match="no string 'id'"):
        writer.upsert_collection(collection)


def test_items_of_a_missing_collection_are_refused_before_loading(pgstac_dsn: str) -> None:
    with PgstacWriter(pgstac_dsn) as writer, pytest.raises(CollectionNotFoundError) as caught:
        writer.load_items(make_items("ghost", 0, 5), "ghost")
    assert str(caught.value) == (
        "collection 'ghost' does not exist in PgSTAC; ingest the collection first"
    )
    assert caught.value.exit_code == 1


def test_load_in_batches_reports_each_and_counts_all(writer: PgstacWriter) -> None:
    reports: list[BatchReport] = []
    result = writer.load_items(
        make_items("c", 0, 250), "c", batch_size=100, on_batch=reports.append
    )
    assert (result.items, result.batches, result.retries) == (250, 3, 0)
    assert [(r.index, r.items, r.loaded) for r in reports] == [
        (0, 100, 100),
        (1, 100, 200),
        (2, 50, 250),
    ]
    assert writer.count_items("c") == 250
    assert writer.item_ids("c") == [item_id(n) for n in range(250)]


def test_upsert_rerun_never_duplicates_and_replaces_content(writer: PgstacWriter) -> None:
    writer.load_items(make_items("c", 0, 120, title="old"), "c", batch_size=50)
    writer.load_items(make_items("c", 60, 180, title="new"), "c", batch_size=50, method="upsert")
    assert writer.item_ids("c") == [item_id(n) for n in range(180)]
    old, new = writer.get_item("c", item_id(10)), writer.get_item("c", item_id(100))
    assert old is not None and new is not None
    assert old["properties"]["title"] == "old 10"
    assert new["properties"]["title"] == "new 100"


def test_ignore_rerun_keeps_existing_items(writer: PgstacWriter) -> None:
    writer.load_items(make_items("c", 0, 100, title="old"), "c", method="ignore")
    result = writer.load_items(make_items("c", 50, 150, title="new"), "c", method="ignore")
    assert result.items == 100
    assert writer.item_ids("c") == [item_id(n) for n in range(150)]
    kept, added = writer.get_item("c", item_id(60)), writer.get_item("c", item_id(120))
    assert kept is not None and added is not None
    assert kept["properties"]["title"] == "old 60"
    assert added["properties"]["title"] == "new 120"


def test_insert_of_existing_ids_names_them_and_stops_at_that_batch(writer: PgstacWriter) -> None:
    writer.load_items(make_items("c", 200, 203), "c")
    with pytest.raises(ItemIdConflictError) as caught:
        writer.load_items(make_items("c", 0, 300), "c", method="insert", batch_size=100)
    error = caught.value
    assert error.ids == [item_id(200), item_id(201), item_id(202)]
    assert error.loaded_before == 200
    assert str(error).startswith(
        "insert into collection 'c': 3 item id(s) already exist: "
        "item-0000200, item-0000201, item-0000202; that batch was not loaded "
        "(200 items loaded before it)"
    )
    assert writer.count_items("c") == 203


def test_insert_into_a_fresh_collection_loads_everything(writer: PgstacWriter) -> None:
    result = writer.load_items(make_items("c", 0, 30), "c", method="insert", batch_size=7)
    assert result.items == 30
    assert writer.item_ids("c") == [item_id(n) for n in range(30)]


def test_an_item_of_another_collection_stops_the_load_where_it_is(writer: PgstacWriter) -> None:
    items = [*make_items("c", 0, 20), make_item("elsewhere", 20), *make_items("c", 21, 30)]
    with pytest.raises(ItemError, match="item #21: item 'item-0000020': belongs to collection"):
        writer.load_items(items, "c", batch_size=10)
    assert writer.count_items("c") == 20


def test_unknown_method_is_an_input_error(writer: PgstacWriter) -> None:
    with pytest.raises(InputError, match="unknown load method 'merge'; use one of: upsert, insert"):
        writer.load_items(make_items("c", 0, 1), "c", method="merge")


def test_load_from_an_ndjson_file(writer: PgstacWriter, tmp_path: Path) -> None:
    path = tmp_path / "items.ndjson"
    path.write_text("".join(json.dumps(item) + "\n" for item in make_items("c", 0, 40)))
    result = writer.load_items(path, "c", batch_size=15)
    assert (result.items, result.batches) == (40, 3)
    assert writer.count_items("c") == 40


def test_a_bad_ndjson_line_is_located_in_the_file(writer: PgstacWriter, tmp_path: Path) -> None:
    path = tmp_path / "items.ndjson"
    path.write_text(json.dumps(make_item("c", 0)) + "\n" + json.dumps(make_item("d", 1)) + "\n")
    with pytest.raises(ItemError, match=rf"^{path} item #2: item 'item-0000001': belongs"):
        writer.load_items(path, "c")


def _partitions(dsn: str, collection_id: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT partition FROM pgstac.partitions_view WHERE collection = %s ORDER BY 1",
            (collection_id,),
        ).fetchall()
    return [row[0] for row in rows]


def test_monthly_partitioned_collection_loads_and_reloads(pgstac_dsn: str) -> None:
    with PgstacWriter(pgstac_dsn) as writer:
        writer.upsert_collection(make_collection("m"), partition_trunc="month")
        assert writer.partition_trunc("m") == "month"
        writer.load_items(make_items("m", 0, 300, months=3), "m", batch_size=100)
        writer.load_items(make_items("m", 0, 300, months=3), "m", batch_size=100)
        assert writer.item_ids("m") == [item_id(n) for n in range(300)]
        partitions = _partitions(pgstac_dsn, "m")
        assert len(partitions) == 3
        assert [p[-6:] for p in partitions] == ["202401", "202402", "202403"]


def test_repartitioning_a_collection_keeps_its_items(pgstac_dsn: str) -> None:
    with PgstacWriter(pgstac_dsn) as writer:
        writer.upsert_collection(make_collection("r"))
        writer.load_items(make_items("r", 0, 90, months=3), "r")
        assert len(_partitions(pgstac_dsn, "r")) == 1
        writer.upsert_collection(make_collection("r"), partition_trunc="month")
        assert len(_partitions(pgstac_dsn, "r")) == 3
        writer.upsert_collection(make_collection("r", title="Renamed"))
        assert writer.partition_trunc("r") == "month"
        writer.upsert_collection(make_collection("r"), partition_trunc="none")
        assert writer.partition_trunc("r") is None
        assert writer.item_ids("r") == [item_id(n) for n in range(90)]


def test_get_item_of_a_missing_item_is_none(writer: PgstacWriter) -> None:
    assert writer.get_item("c", "nope") is None
    assert writer.count_items("c") == 0
    assert writer.item_ids("c") == []


def test_search_path_is_set_for_the_superuser(writer: PgstacWriter) -> None:
    writer.load_items(make_items("c", 0, 3), "c")
    from etl.pgstac.session import connect_pgstac

    with connect_pgstac(writer.dsn) as conn:
        assert conn.execute("SHOW search_path").fetchone() == ("pgstac, public",)
        row = conn.execute('SELECT search(\'{"collections": ["c"]}\')').fetchone()
    assert row is not None
    assert row[0]["numberReturned"] == 3


def test_an_unreachable_database_is_a_remote_error_after_bounded_retries() -> None:
    writer = PgstacWriter(
        "postgresql://postgres@127.0.0.1:1/none?connect_timeout=2",
        retry=LoadRetryPolicy(attempts=2, first_delay=0.01),
    )
    with pytest.raises(
        RemoteError, match=r"connecting to PgSTAC for collection 'c' failed after 2"
    ):
        writer.load_items(make_items("c", 0, 1), "c")
    with pytest.raises(RemoteError, match="cannot connect to PgSTAC"):
        writer.count_items("c")


def test_upsert_moving_an_item_to_another_month_keeps_both_rows(pgstac_dsn: str) -> None:
    """pgstac's id index is per partition: the trap docs/pgstac.md describes."""
    with PgstacWriter(pgstac_dsn) as writer:
        writer.upsert_collection(make_collection("m"), partition_trunc="month")
        writer.load_items([make_item("m", 1, month=1)], "m")
        writer.load_items([make_item("m", 1, month=2)], "m")
        assert writer.item_ids("m") == [item_id(1), item_id(1)]


def test_a_database_of_another_pgstac_version_is_refused(writer: PgstacWriter) -> None:
    with psycopg.connect(writer.dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO pgstac.migrations (version, datetime)"
            " VALUES ('0.8.5', now() + interval '1 day')"
        )
    with pytest.raises(RemoteError, match=r"^PgSTAC: pypgstac version 0\.10\.0 is not compatible"):
        writer.load_items(make_items("c", 0, 3), "c")
    assert writer.count_items("c") == 0
