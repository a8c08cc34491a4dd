"""Identity on DuckDB runs on record numbers (lakehouse/identity/record_ids.py) and spills under Spark's
local dir (lakehouse/identity/sizing.py `duckdb_scratch`)."""

from __future__ import annotations

import os
from types import SimpleNamespace

import duckdb
import pytest

from lakehouse.identity.record_ids import numbered, restored
from lakehouse.identity.sizing import duckdb_scratch

TOKENS = ["f3a9", "0b11", "c002", "7e7e"]  # ranks: 0b11 1, 7e7e 2, c002 3, f3a9 4


def _input(con) -> None:
    con.execute("CREATE TABLE linkage_input (source VARCHAR, record_token VARCHAR, first_name VARCHAR)")
    con.executemany("INSERT INTO linkage_input VALUES (?, ?, ?)", [("ccc", t, f"name-{t}") for t in TOKENS])


def test_numbers_keep_the_order_of_the_tokens_and_come_back_as_tokens():
    con = duckdb.connect()
    _input(con)
    numbered(con)
    assert con.execute("SELECT record_token, first_name FROM linkage_input ORDER BY 1").fetchall() == [
        (1, "name-0b11"),
        (2, "name-7e7e"),
        (3, "name-c002"),
        (4, "name-f3a9"),
    ]
    assert [r[0] for r in con.execute("DESCRIBE linkage_input").fetchall()] == [
        "source",
        "record_token",
        "first_name",
    ]
    # what the steps leave, on numbers: a pair (smaller, larger), a join with no score, clusters whose
    # id is their smallest member
    con.execute(
        "CREATE TABLE pairs AS SELECT * FROM (VALUES (1, 4, 0.99::DOUBLE, 'probabilistic'), "
        "(2, 3, NULL, 'renamed')) t(record_token_l, record_token_r, match_probability, method)"
    )
    con.execute("CREATE TABLE clusters AS SELECT * FROM (VALUES (1, 1), (4, 1), (2, 2), (3, 2)) "
                "t(record_token, cluster_id)")  # fmt: skip
    guard = {
        "suspect_clusters": 1,
        "links_broken": [{"record_token_l": 2, "record_token_r": 3, "match_probability": 0.995}],
        "unresolved": [{"cluster_id": 1, "records": 2}],
    }

    report = restored(con, guard)

    assert report == {
        "suspect_clusters": 1,
        "links_broken": [{"record_token_l": "7e7e", "record_token_r": "c002", "match_probability": 0.995}],
        "unresolved": [{"cluster_id": "0b11", "records": 2}],
    }
    assert sorted(con.execute("SELECT * FROM pairs").fetchall(), key=str) == [
        ("0b11", "f3a9", 0.99, "probabilistic"),
        ("7e7e", "c002", None, "renamed"),
    ]
    assert sorted(con.execute("SELECT * FROM clusters").fetchall()) == [
        ("0b11", "0b11"),
        ("7e7e", "7e7e"),
        ("c002", "7e7e"),
        ("f3a9", "0b11"),
    ]
    assert sorted(con.execute("SELECT record_token, first_name FROM linkage_input").fetchall()) == [
        (t, f"name-{t}") for t in sorted(TOKENS)
    ]
    assert not con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'record_numbers'"
    ).fetchone()[0]


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("var/tmp/spark", os.path.abspath("var/tmp/spark")),
        ("/data/a, /data/b", "/data/a"),  # the first of a list
        ("hdfs://nn/tmp", None),  # not a path DuckDB can write
        (None, None),
    ],
)
def test_duckdb_spills_into_a_folder_of_its_own_under_sparks_local_dir(local, expected):
    conf = SimpleNamespace(get=lambda key, default=None: local if key == "spark.local.dir" else default)
    scratch = duckdb_scratch(SimpleNamespace(conf=conf))
    if expected is None:
        assert scratch == {}
    else:
        assert scratch == {"temp_directory": os.path.join(expected, f"duckdb-{os.getpid()}")}


def test_a_cluster_split_on_record_numbers_takes_its_parts_smallest_numbers():
    """The chaining guards split a suspect cluster on DuckDB, where the steps run on record numbers: a
    part that breaks off takes its own smallest number as its id, a number like every other id, so
    the ids go back to tokens with the rest."""
    from splink import DuckDBAPI

    from lakehouse.identity.clustering import cluster
    from lakehouse.identity.engine import DuckEngine

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE linkage_input (record_token VARCHAR, source VARCHAR, ssn_token VARCHAR, "
        "ssn_first5_token VARCHAR, ssn_last4_token VARCHAR, birth_date VARCHAR)"
    )
    con.executemany(
        "INSERT INTO linkage_input VALUES (?, ?, ?, ?, ?, ?)",
        [  # two people, each with two wage records; a weak name-only link chains them
            ("t-a1", "edd_wages", "S1", "F1", "L1", "1990-01-02"),
            ("t-a2", "edd_wages", "S1", "F1", "L1", "1990-01-02"),
            ("t-b1", "edd_wages", "S2", "F2", "L2", "1971-09-30"),
            ("t-b2", "edd_wages", "S2", "F2", "L2", "1971-09-30"),
        ],
    )
    numbered(con)
    con.execute(
        """CREATE TABLE pairs AS SELECT * FROM (VALUES (1, 2, 1.0::DOUBLE, 'deterministic'),
        (3, 4, 1.0, 'deterministic'), (2, 3, 0.991::DOUBLE, 'probabilistic'))
        AS t(record_token_l, record_token_r, match_probability, method)"""
    )
    guard = cluster(DuckEngine(con), DuckDBAPI(con), max_cluster_size=10)
    assert guard["suspect_clusters"] == 1
    assert sorted(con.execute("SELECT record_token, cluster_id FROM clusters").fetchall()) == [
        (1, 1), (2, 1), (3, 3), (4, 3),
    ]  # fmt: skip
    report = restored(con, guard)
    assert sorted(con.execute("SELECT record_token, cluster_id FROM clusters").fetchall()) == [
        ("t-a1", "t-a1"), ("t-a2", "t-a1"), ("t-b1", "t-b1"), ("t-b2", "t-b1"),
    ]  # fmt: skip
    assert report["links_broken"] == [
        {"record_token_l": "t-a2", "record_token_r": "t-b1", "match_probability": 0.991}
    ]
