"""One person under two surnames (a married name) whose records share no SSN: `join_renamed`."""

from __future__ import annotations

from datetime import date

import duckdb

from lakehouse.identity.link import join_renamed
from tests.identity.duck import add_clusters_and_pairs

COLUMNS = (
    "record_token VARCHAR, first_name VARCHAR, last_name VARCHAR, birth_date VARCHAR, gender VARCHAR, "
    "ssn_token VARCHAR, counties VARCHAR[]"
)


def join(
    rows: list[tuple],
    *,
    clusters: dict[str, str] | None = None,
    max_cluster_size: int = 80,
    as_of: date | None = None,
    sources: dict[str, str] | None = None,
):
    """Each record its own cluster unless `clusters` says otherwise, of source 'cdss' unless `sources`
    names another; returns (joins, token -> cluster, pairs)."""
    con = duckdb.connect()
    con.execute(f"CREATE TABLE linkage_input ({COLUMNS})")
    con.executemany("INSERT INTO linkage_input VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute("ALTER TABLE linkage_input ADD COLUMN source VARCHAR DEFAULT 'cdss'")
    for token, source in (sources or {}).items():
        con.execute("UPDATE linkage_input SET source = ? WHERE record_token = ?", [source, token])
    add_clusters_and_pairs(con, [r[0] for r in rows], clusters)
    joined = join_renamed(con, max_cluster_size=max_cluster_size, as_of=as_of)
    return (
        joined,
        dict(con.execute("SELECT record_token, cluster_id FROM clusters").fetchall()),
        con.execute("SELECT * FROM pairs").fetchall(),
    )


MAIDEN = ("a1", "ANA", "RUIZ", "1990-04-02", "F", None, ["19"])
MARRIED = ("b1", "ANA", "PENA", "1990-04-02", "F", None, ["19", "37"])


def test_the_same_first_name_and_birth_date_under_another_surname_in_the_same_county_is_joined():
    joined, clusters, pairs = join([MAIDEN, MARRIED])
    assert joined == 1 and clusters == {"a1": "a1", "b1": "a1"}
    assert pairs == [("a1", "b1", None, "renamed")]


def test_a_cluster_of_several_records_joins_as_a_whole():
    rows = [MAIDEN, MARRIED, ("b2", "ANA", "PENA", None, None, "T1", ["37"])]
    assert join(rows, clusters={"b2": "b1"})[1] == {"a1": "a1", "b1": "a1", "b2": "a1"}


def test_a_tie_is_left_alone():
    other = ("c1", "ANA", "SOTO", "1990-04-02", "F", None, ["19"])
    assert join([MAIDEN, MARRIED, other])[0] == 0


def test_no_join_without_a_county_in_common_with_two_ssns_across_genders_or_with_a_surname_in_common():
    elsewhere = (*MARRIED[:6], ["01"])
    assert join([MAIDEN, elsewhere])[0] == 0
    assert join([(*MAIDEN[:5], "T1", MAIDEN[6]), (*MARRIED[:5], "T2", MARRIED[6])])[0] == 0
    assert join([MAIDEN, (*MARRIED[:4], "M", *MARRIED[5:])])[0] == 0
    assert (
        join([MAIDEN, MARRIED, ("b2", "ANA", "RUIZ", None, None, None, None)], clusters={"b2": "b1"})[0] == 0
    )


def test_no_join_past_the_size_limit():
    assert join([MAIDEN, MARRIED], max_cluster_size=1)[0] == 0


def test_children_and_men_are_not_renamed():
    # born 2009: 16 on the run date, too young to have married
    child = [(*MAIDEN[:3], "2009-04-02", *MAIDEN[4:]), (*MARRIED[:3], "2009-04-02", *MARRIED[4:])]
    assert join(child, as_of=date(2025, 12, 31))[0] == 0
    assert join(child, as_of=date(2027, 4, 2))[0] == 1  # 18 by then
    assert join([MAIDEN, MARRIED], as_of=date(2025, 12, 31))[0] == 1
    # a man, even where only one side knows the gender
    man = [(*MAIDEN[:4], "M", *MAIDEN[5:]), (*MARRIED[:4], None, *MARRIED[5:])]
    assert join(man)[0] == 0
    assert join([(*MAIDEN[:4], None, *MAIDEN[5:]), (*MARRIED[:4], None, *MARRIED[5:])])[0] == 1


def test_two_records_of_one_person_keyed_source_are_two_people():
    # Two Medi-Cal records (two CINs): two women of one first name and birth date.
    assert join([MAIDEN, MARRIED], sources={"a1": "dhcs", "b1": "dhcs"})[0] == 0
    assert join([MAIDEN, MARRIED], sources={"a1": "dhcs", "b1": "wioa"})[0] == 1


def test_a_worker_who_had_no_ssn_is_not_renamed_into_someone_with_one():
    married_ssn = (*MARRIED[:5], "T1", MARRIED[6])
    assert join([MAIDEN, married_ssn], sources={"a1": "edd"})[0] == 0
    assert join([MAIDEN, MARRIED], sources={"a1": "edd"})[0] == 1
