"""The storage contract, held against both engines (see lakehouse/storage/base.py)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from chispa import assert_df_equality
from deltalake import DeltaTable

from lakehouse.errors import SchemaMismatchError, StorageError, TableNotFoundError

SCHEMA = "id LONG, county STRING, year INT, amount DOUBLE"


def rows_df(spark, rows, schema=SCHEMA):
    return spark.createDataFrame(rows, schema)


def same(actual, expected):
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def data_files(path):
    """Parquet files on disk outside the log, as paths relative to the table root."""
    found = set()
    for folder, dirs, names in os.walk(path):
        dirs[:] = [d for d in dirs if d != "_delta_log"]
        found |= {os.path.relpath(os.path.join(folder, n), path) for n in names if n.endswith(".parquet")}
    return found


A = [(1, "Alameda", 2023, 10.0), (2, "Fresno", 2023, 20.0), (3, "Fresno", 2024, 30.0)]
B = [(4, "Kern", 2024, 40.0), (5, "Alameda", 2024, None)]


def test_append_creates_then_appends(spark, storage, new_table):
    t = new_table(partition_by=("year",))
    first = storage.write(rows_df(spark, A), t)
    second = storage.write(rows_df(spark, B), t, "append")
    assert (first.version, second.version) == (0, 1)
    same(storage.read(t), rows_df(spark, A + B))
    assert storage.info(t).rows == 5


def test_read_keeps_table_column_order_and_partition_types(spark, storage, new_table):
    t = new_table(partition_by=("year", "county"))
    storage.write(rows_df(spark, A), t)
    df = storage.read(t)
    assert df.columns == ["id", "county", "year", "amount"]
    assert dict(df.dtypes)["year"] == "int"


def test_overwrite_replaces_everything(spark, storage, new_table):
    t = new_table(partition_by=("year",))
    storage.write(rows_df(spark, A), t)
    storage.write(rows_df(spark, B), t, "overwrite")
    same(storage.read(t), rows_df(spark, B))


def test_replace_where_replaces_only_named_partitions(spark, storage, new_table):
    t = new_table(partition_by=("year",))
    storage.write(rows_df(spark, A), t)
    new_2024 = [(9, "Inyo", 2024, 1.0)]
    storage.write(rows_df(spark, new_2024), t, "overwrite", replace_where={"year": 2024})
    same(storage.read(t), rows_df(spark, A[:2] + new_2024))


def test_replace_where_rejects_rows_outside_it_and_leaves_nothing(spark, storage, new_table, settings):
    t = new_table(partition_by=("year",))
    storage.write(rows_df(spark, A), t)
    before = data_files(storage.path(t))
    with pytest.raises(StorageError, match="replace_where|replaceWhere|conform"):
        storage.write(
            rows_df(spark, B + [(7, "Kern", 2023, 1.0)]), t, "overwrite", replace_where={"year": 2024}
        )
    assert storage.info(t).version == 0
    assert data_files(storage.path(t)) == before
    same(storage.read(t), rows_df(spark, A))


def test_replace_where_only_on_partition_columns(spark, storage, new_table):
    t = new_table(partition_by=("year",))
    storage.write(rows_df(spark, A), t)
    with pytest.raises(StorageError, match="partition columns"):
        storage.write(rows_df(spark, B), t, "overwrite", replace_where={"county": "Kern"})


def test_time_travel_by_version_and_timestamp(spark, storage, new_table):
    t = new_table()
    storage.write(rows_df(spark, A), t)
    time.sleep(1.1)  # commit timestamps have millisecond resolution; keep the versions apart
    between = datetime.now(UTC)
    time.sleep(1.1)
    storage.write(rows_df(spark, B), t)
    same(storage.read(t, version=0), rows_df(spark, A))
    same(storage.read(t, version=1), rows_df(spark, A + B))
    same(storage.read(t, timestamp=between), rows_df(spark, A))
    same(storage.read(t, timestamp=datetime.now(UTC)), rows_df(spark, A + B))
    with pytest.raises(StorageError):
        storage.read(t, timestamp=between - timedelta(days=1))


def test_history_lists_commits_newest_first(spark, storage, new_table):
    t = new_table(partition_by=("year",))
    storage.write(rows_df(spark, A), t)
    storage.write(rows_df(spark, B), t)
    storage.write(rows_df(spark, B), t, "overwrite", replace_where={"year": 2024})
    history = storage.history(t)
    assert [c.version for c in history] == [2, 1, 0]
    assert [c.operation for c in history] == ["WRITE", "WRITE", "WRITE"]
    assert history[0].timestamp >= history[2].timestamp
    assert storage.history(t, limit=1)[0].version == 2


@pytest.mark.parametrize(
    "bad_schema, message",
    [
        ("id LONG, county STRING, year INT, amount DOUBLE, extra STRING", "unexpected columns \\['extra'\\]"),
        ("id LONG, county STRING, year INT", "missing columns \\['amount'\\]"),
        ("id STRING, county STRING, year INT, amount DOUBLE", "column 'id' is string, table has bigint"),
    ],
)
def test_schema_mismatch_is_a_clear_error_and_writes_nothing(spark, storage, new_table, bad_schema, message):
    t = new_table(partition_by=("year",))
    storage.write(rows_df(spark, A), t)
    before = data_files(storage.path(t))
    n = len(bad_schema.split(","))
    row = (
        tuple(["1", "X", 2023, 1.0, "e"][:n])
        if bad_schema.startswith("id STRING")
        else ((1, "X", 2023, 1.0, "e")[:n])
    )
    with pytest.raises(SchemaMismatchError, match=message):
        storage.write(spark.createDataFrame([row], bad_schema), t)
    assert storage.info(t).version == 0
    assert data_files(storage.path(t)) == before


def test_column_order_does_not_matter(spark, storage, new_table):
    t = new_table()
    storage.write(rows_df(spark, A), t)
    storage.write(rows_df(spark, B).select("amount", "year", "id", "county"), t)
    same(storage.read(t), rows_df(spark, A + B))


def test_schema_evolution_is_explicit(spark, storage, new_table):
    t = new_table(partition_by=("year",))
    storage.write(rows_df(spark, A), t)
    wider = spark.createDataFrame([(8, "Yolo", 2025, 2.0, "new")], SCHEMA + ", note STRING")
    storage.write(wider, t, schema_mode="merge")
    expected = spark.createDataFrame(
        [(*r, None) for r in A] + [(8, "Yolo", 2025, 2.0, "new")], SCHEMA + ", note STRING"
    )
    same(storage.read(t), expected)

    other = spark.createDataFrame([("a", 2030)], "code STRING, year INT")
    storage.write(other, t, "overwrite", schema_mode="overwrite")
    same(storage.read(t), other)


def test_declared_schema_is_enforced(spark, storage, new_table):
    t = new_table(schema=SCHEMA)
    with pytest.raises(SchemaMismatchError, match="declared schema"):
        storage.write(spark.createDataFrame([(1, "X")], "id LONG, county STRING"), t)


def test_rerun_of_the_same_step_commits_nothing(spark, storage, new_table):
    t = new_table(partition_by=("year",))
    first = storage.write(rows_df(spark, A), t, run_id="run-1", step="land")
    again = storage.write(rows_df(spark, A), t, run_id="run-1", step="land")
    assert not first.skipped and again.skipped
    assert storage.info(t).version == 0
    other_step = storage.write(rows_df(spark, B), t, run_id="run-1", step="land-more")
    next_run = storage.write(rows_df(spark, B), t, run_id="run-2", step="land")
    assert (other_step.version, next_run.version) == (1, 2)
    same(storage.read(t), rows_df(spark, A + B + B))


def test_staged_files_are_invisible_until_committed(spark, storage, new_table):
    t = new_table(partition_by=("year",))
    staged = storage.stage(rows_df(spark, A), t, run_id="run-1", step="land")
    assert not storage.info(t).exists  # staged files are no table yet
    same(storage.staged_frame(staged), rows_df(spark, A))  # a gate checks what will be committed
    assert storage.staged_frame(staged).columns == ["id", "county", "year", "amount"]
    assert storage.commit(staged).version == 0
    same(storage.read(t), rows_df(spark, A))
    assert not os.listdir(os.path.join(storage.path(t), "_staging"))
    with pytest.raises(StorageError, match="already committed or aborted"):
        storage.commit(staged)

    staged = storage.stage(rows_df(spark, B), t, "overwrite", replace_where={"year": 2024})
    storage.abort(staged)
    storage.abort(staged)  # a no-op the second time
    assert storage.info(t).version == 0 and not os.listdir(os.path.join(storage.path(t), "_staging"))
    same(storage.read(t), rows_df(spark, A))


def test_a_staged_commit_keeps_every_write_guarantee(spark, storage, new_table):
    t = new_table(keys=("id",), partition_by=("year",))
    storage.write(rows_df(spark, A), t, run_id="run-1", step="land")
    again = storage.stage(rows_df(spark, B), t, run_id="run-1", step="land")
    assert storage.commit(again).skipped  # the same step of the same run commits nothing
    duplicate = storage.stage(rows_df(spark, B + [(4, "Kern", 2023, 1.0)]), t)
    with pytest.raises(StorageError, match=r"key \['id'\] must be unique"):
        storage.commit(duplicate)
    outside = storage.stage(rows_df(spark, B), t, "overwrite", replace_where={"year": 2023})
    with pytest.raises(StorageError, match="replace_where"):
        storage.commit(outside)
    with pytest.raises(SchemaMismatchError):
        storage.stage(spark.createDataFrame([(1, "X")], "id LONG, county STRING"), t)
    assert storage.info(t).version == 0
    same(storage.read(t), rows_df(spark, A))
    assert data_files(storage.path(t)) == {f for f in data_files(storage.path(t)) if "_staging" not in f}


def test_declared_keys_must_be_unique_and_non_null(spark, storage, new_table):
    t = new_table(keys=("id",), partition_by=("year",))
    storage.write(rows_df(spark, A), t)
    with pytest.raises(StorageError, match=r"key \['id'\] must be unique.*'id': 4"):
        storage.write(rows_df(spark, B + [(4, "Kern", 2023, 1.0)]), t)
    with pytest.raises(StorageError, match="non-null"):
        storage.write(rows_df(spark, [(None, "Kern", 2023, 1.0)]), t)
    assert storage.info(t).version == 0


def test_awkward_partition_values_round_trip(spark, storage, new_table):
    t = new_table(partition_by=("county",))
    rows = [
        (1, "San Luis Obispo", 2023, 1.0),
        (2, "a/b:c=d%e é", 2023, 2.0),
        (3, None, 2023, 3.0),
        (4, "[x]{y}*?", 2023, 4.0),
    ]
    storage.write(rows_df(spark, rows), t)
    same(storage.read(t), rows_df(spark, rows))


def test_missing_table_is_a_clear_error(spark, storage, new_table):
    t = new_table()
    with pytest.raises(TableNotFoundError, match="has it been written"):
        storage.read(t)
    assert storage.info(t).exists is False


def test_tables_keep_the_portable_protocol(spark, storage, new_table):
    t = new_table(partition_by=("year",))
    storage.write(rows_df(spark, A), t)
    storage.write(rows_df(spark, B), t)
    storage.compact(t)
    protocol = DeltaTable(storage.path(t)).protocol()
    assert (protocol.min_reader_version, protocol.min_writer_version) == (1, 2)
    assert not (protocol.reader_features or protocol.writer_features)


def test_compact_merges_small_files_and_keeps_the_data(spark, storage, new_table):
    t = new_table(partition_by=("year",))
    for batch in (A, B, A, B):
        storage.write(rows_df(spark, batch).repartition(2), t)
    before = storage.info(t)
    result = storage.compact(t)
    after = storage.info(t)
    assert result["files_removed"] > result["files_added"] > 0
    assert after.files == 2 and after.rows == before.rows == 10
    same(storage.read(t), rows_df(spark, A + B + A + B))
    storage.vacuum(t, retain_hours=0)
    assert len(data_files(storage.path(t))) == 2
