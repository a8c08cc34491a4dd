"""Chaining guards: a suspect cluster is rebuilt from its strongest links, leaving out the weakest
ones between contradicting identities; typos the model forgives are not contradictions."""

from __future__ import annotations

import duckdb
import pytest

from lakehouse.identity.comparisons import comparisons
from lakehouse.identity.guards import (
    Edge,
    Identity,
    apply_guards,
    birth_dates_related,
    components,
    contradicts,
    is_suspect,
    split_suspect,
    suspect_clusters_sql,
)
from lakehouse.identity.pair_guards import drop_ssn_conflicts


def person(ssn: str, birth: str | None, *, first5: str | None = None, last4: str | None = None) -> Identity:
    """An identity whose SSN parts are named after the SSN unless given (a typo keeps one of them)."""
    return Identity(ssn, birth, first5 or f"{ssn}-first5", last4 or f"{ssn}-last4")


def test_components_of_a_small_graph():
    edges = [Edge("a", "b", 0.99, "probabilistic"), Edge("c", "d", 0.91, "probabilistic")]
    assert components(["a", "b", "c", "d", "e"], edges) == [["a", "b"], ["c", "d"], ["e"]]


@pytest.mark.parametrize(
    ("a", "b", "related"),
    [
        ("2001-04-07", "2001-04-07", True),
        ("2001-04-07", "2001-07-04", True),  # day and month swapped
        ("2001-04-07", "2001-04-17", True),  # one digit of the day
        ("2001-04-09", "2001-04-10", True),  # the day off by one
        ("2001-04-07", "2011-04-07", True),  # one digit of the year
        ("1999-04-07", "2000-04-07", True),  # the year off by one
        ("1997-04-07", "2007-04-07", True),  # the year off by ten (a decade keyed wrong)
        ("1997-04-07", "2017-04-07", False),  # twenty years apart
        ("2001-04-09", "2001-04-13", False),  # another day of the month
        ("2001-04-07", "2001-05-07", False),  # another month
        ("2001-04-07", "1990-03-12", False),
    ],
)
def test_birth_dates_related_matches_the_model_levels(a, b, related):
    assert birth_dates_related(a, b) is related
    # The guard forgives exactly what the model's birth-date comparison does not put in its else level.
    levels = comparisons()[2].get_comparison("duckdb").comparison_levels
    conditions = [lv.sql_condition for lv in levels if not lv.is_null_level and lv.sql_condition != "ELSE"]
    row = {
        "birth_date_l": a,
        "birth_date_r": b,
        "birth_month_day_l": a[5:],
        "birth_month_day_r": b[5:],
        "birth_year_l": int(a[:4]),
        "birth_year_r": int(b[:4]),
    }
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT "
        + ", ".join(f"{v!r} AS {k}" if isinstance(v, str) else f"{v} AS {k}" for k, v in row.items())
    )
    matched = con.execute(f"SELECT {' OR '.join(f'({c})' for c in conditions)} FROM t").fetchone()[0]
    assert matched is related


def test_typos_the_model_forgives_do_not_contradict():
    base = person("s1", "2001-04-07")
    transposed = person("s1t", "2001-04-07", first5="s1-first5")  # digits transposed in the last four
    both_typos = person("s1x", "2001-04-17", last4="s1-last4")  # SSN and birth-date typos at once
    other = person("s2", "1990-03-12")
    assert not contradicts(base, transposed)
    assert not contradicts(base, both_typos)
    assert contradicts(base, other)
    assert not contradicts(base, Identity("s2", None))  # no birth date: not a strong identity
    facts = {"a": base, "b": transposed, "c": both_typos}
    assert not is_suspect(["a", "b", "c"], facts, max_size=10)
    assert is_suspect(["a", "b", "c", "d"], {**facts, "d": other}, max_size=10)
    assert is_suspect(["a", "b"], facts, max_size=1)  # larger than any one person's records


def test_the_sql_prefilter_finds_every_contradiction_and_skips_one_identity():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE recs (record_token VARCHAR, source VARCHAR, ssn_token VARCHAR, birth_date VARCHAR)"
    )
    con.execute(
        """INSERT INTO recs VALUES ('a', 'cdss', 's1', '2001-04-07'), ('b', 'cdss', 's1', NULL),
        ('c', 'cdss', 's2', '1990-03-12'), ('d', 'cdss', 's3', '1980-01-01'),
        ('e', 'dhcs', 's3', '1980-01-01'), ('f', 'dds', NULL, '1970-01-01'),
        ('g', 'dhcs', NULL, NULL), ('h', 'dds', NULL, NULL), ('i', 'dhcs', NULL, NULL),
        ('j', 'dhcs', NULL, NULL)"""
    )
    con.execute(
        "CREATE TABLE clusters AS SELECT * FROM (VALUES ('a', 'k1'), ('b', 'k1'), ('c', 'k1'), "
        "('d', 'k2'), ('e', 'k2'), ('f', 'k2'), ('g', 'k3'), ('h', 'k3'), ('i', 'k4'), ('j', 'k4')) "
        "AS t(record_token, cluster_id)"
    )

    def suspects(max_cluster_size: int) -> list[str]:
        sql = suspect_clusters_sql("clusters", "recs", max_cluster_size=max_cluster_size)
        return sorted(r[0] for r in con.execute(sql).fetchall())

    # k2 holds one strong identity, a birth date alone and one record of each person-keyed source;
    # k3 one record of each of two person-keyed sources; k4 two Medi-Cal records (two CINs)
    assert suspects(10) == ["k1", "k4"]
    assert suspects(2) == ["k1", "k2", "k4"]
    # a wage record without an SSN in a cluster with an SSN: two workers
    con.execute("INSERT INTO recs VALUES ('w', 'edd', NULL, NULL), ('x', 'edd', 's9', NULL)")
    con.execute("INSERT INTO clusters VALUES ('w', 'k5'), ('x', 'k5'), ('w', 'k6'), ('g', 'k6')")
    assert suspects(10) == ["k1", "k4", "k5"]


def test_a_wage_record_without_an_ssn_contradicts_any_ssn():
    worker = Identity(no_ssn_wages=True)  # the employer reported no SSN: a worker who had none
    assert contradicts(worker, Identity("s1", None))
    assert contradicts(person("s1", "2001-01-01"), worker)
    assert not contradicts(worker, Identity(None, "2001-01-01"))
    assert not contradicts(worker, Identity(no_ssn_wages=True))
    facts = {"w": worker, "s": Identity("s1", None), "k": Identity(None, "2001-01-01")}
    edges = [Edge("w", "k", 0.999, "probabilistic"), Edge("k", "s", 0.995, "probabilistic")]
    assert split_suspect(["k", "s", "w"], edges, facts, max_size=10)[0] == [["k", "w"], ["s"]]


def test_two_records_of_one_person_keyed_source_contradict():
    medi_cal, other_cin = Identity(person_key="dhcs:a"), Identity(person_key="dhcs:b")
    assert contradicts(medi_cal, other_cin)
    assert not contradicts(medi_cal, medi_cal)
    assert not contradicts(medi_cal, Identity(person_key="dds:c"))  # one record in each of two sources
    assert not contradicts(medi_cal, person("s1", "2001-01-01"))
    # Two Medi-Cal records chained through a benefit record: the weaker link is left out.
    facts = {"a": medi_cal, "c": other_cin}
    edges = [Edge("a", "b", 0.9999, "probabilistic"), Edge("b", "c", 0.995, "probabilistic")]
    assert is_suspect(["a", "b", "c"], facts, max_size=10)
    parts, broken, clean = split_suspect(["a", "b", "c"], edges, facts, max_size=10)
    assert (parts, [(e.left, e.right) for e in broken], clean) == ([["a", "b"], ["c"]], [("b", "c")], True)


def test_a_chain_is_cut_at_its_weakest_link_between_contradicting_identities():
    # Person 1 (a, b: same SSN) and person 2 (c, d: same SSN) chained by a weak name-only link.
    facts = {
        "a": person("s1", "2001-01-01"),
        "b": person("s1", "2001-01-01"),
        "c": person("s2", "1980-02-02"),
        "d": Identity("s2", None),
    }
    edges = [
        Edge("a", "b", 1.0, "deterministic"),
        Edge("b", "c", 0.993, "probabilistic"),
        Edge("c", "d", 1.0, "deterministic"),
    ]
    parts, broken, clean = split_suspect(list("abcd"), edges, facts, max_size=10)
    assert (parts, [(e.left, e.right) for e in broken], clean) == (
        [["a", "b"], ["c", "d"]],
        [("b", "c")],
        True,
    )

    moved, report = apply_guards([(t, "a") for t in "abcd"], edges, facts, max_size=10)
    assert moved == {"c": "c", "d": "c"}  # the part's own smallest token, as for every cluster
    assert report == {
        "suspect_clusters": 1,
        "links_broken": [{"record_token_l": "b", "record_token_r": "c", "match_probability": 0.993}],
        "unresolved": [],
    }


def test_two_people_joined_by_several_links_are_separated_where_no_single_bridge_exists():
    # a, b are one person and c, d another; the two are joined by two weak links (no bridge).
    facts = {"a": person("s1", "2001-01-01"), "c": person("s2", "1980-02-02")}
    edges = [
        Edge("a", "b", 0.9999, "probabilistic"),
        Edge("c", "d", 0.9999, "probabilistic"),
        Edge("a", "d", 0.995, "probabilistic"),
        Edge("b", "c", 0.991, "probabilistic"),
    ]
    parts, broken, clean = split_suspect(list("abcd"), edges, facts, max_size=10)
    assert (parts, [(e.left, e.right) for e in broken], clean) == (
        [["a", "b"], ["c", "d"]],
        [("a", "d"), ("b", "c")],
        True,
    )


def test_an_oversized_cluster_is_cut_into_parts_no_larger_than_the_limit():
    edges = [
        Edge(x, y, p, "probabilistic")
        for x, y, p in [("a", "b", 0.999), ("b", "c", 0.995), ("c", "d", 0.999)]
    ]
    parts, broken, clean = split_suspect(list("abcd"), edges, {}, max_size=2)
    assert (parts, [(e.left, e.right) for e in broken], clean) == (
        [["a", "b"], ["c", "d"]],
        [("b", "c")],
        True,
    )


def test_deterministic_links_are_never_broken():
    facts = {"a": person("s1", "2001-01-01"), "b": person("s2", "1980-02-02")}
    edges = [Edge("a", "b", 1.0, "deterministic")]  # e.g. one SSID given to two people
    parts, broken, clean = split_suspect(["a", "b"], edges, facts, max_size=10)
    assert (parts, broken, clean) == ([["a", "b"]], [], False)
    _, report = apply_guards([("a", "a"), ("b", "a")], edges, facts, max_size=10)
    assert report["unresolved"] == [{"cluster_id": "a", "records": 2}]


def test_a_candidate_cluster_that_is_not_suspect_is_left_alone():
    facts = {"a": person("s1", "2001-04-07"), "b": person("s1x", "2001-04-17", last4="s1-last4")}
    edges = [Edge("a", "b", 0.995, "probabilistic")]
    moved, report = apply_guards([("a", "k"), ("b", "k")], edges, facts, max_size=10)
    assert (moved, report["suspect_clusters"], report["links_broken"]) == ({}, 0, [])


def test_the_sql_birth_date_relation_is_the_python_one():
    """`birth_dates_related_sql` (used by joins on DuckDB and Spark) agrees with `birth_dates_related`
    on every pair of a grid of swaps, slips and other dates, and is false on a missing date."""
    import itertools

    import duckdb

    from lakehouse.identity.guards import birth_dates_related_sql

    dates = ["1990-05-12", "1990-12-05", "1990-05-13", "1990-05-22", "1991-05-12", "1980-05-12",
             "1990-06-12", "1990-05-21", "1989-05-12", "2000-01-09", "2000-01-10", "1999-01-10"]  # fmt: skip
    con = duckdb.connect()
    for a, b in itertools.product(dates, dates):
        assert con.execute(f"SELECT {birth_dates_related_sql(repr(a), repr(b))}").fetchone()[0] == (
            birth_dates_related(a, b)
        ), (a, b)
    assert con.execute(f"SELECT {birth_dates_related_sql('NULL', repr(dates[0]))}").fetchone()[0] is False


def test_a_scored_match_of_two_ssns_with_nothing_in_common_is_undone():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE linkage_input (record_token VARCHAR, ssn_token VARCHAR, ssn_first5_token VARCHAR, "
        "ssn_last4_token VARCHAR, ssn_sorted_token VARCHAR)"
    )
    con.executemany(
        "INSERT INTO linkage_input VALUES (?, ?, ?, ?, ?)",
        [
            ("w1", "S1", "F1", "L1", "O1"),
            ("w2", "S2", "F2", "L2", "O2"),  # nothing in common with w1: another worker
            ("w3", "S3", "F1", "L3", "O3"),  # a typo in the last four
            ("w4", "S4", "F4", "L4", "O1"),  # two digits swapped across the halves
            ("w5", None, None, None, None),  # no SSN: nothing to contradict
        ],
    )
    con.execute(
        """CREATE TABLE pairs AS SELECT * FROM (VALUES ('w1', 'w2', 0.995, 'probabilistic'),
        ('w1', 'w3', 0.995, 'probabilistic'), ('w1', 'w4', 0.995, 'probabilistic'),
        ('w1', 'w5', 0.995, 'probabilistic'), ('w2', 'w3', 1.0, 'deterministic'))
        AS t(record_token_l, record_token_r, match_probability, method)"""
    )
    assert drop_ssn_conflicts(con) == 1
    assert con.execute(
        "SELECT record_token_l, record_token_r, method FROM pairs ORDER BY 1, 2"
    ).fetchall() == [
        ("w1", "w2", "below_threshold"),
        ("w1", "w3", "probabilistic"),
        ("w1", "w4", "probabilistic"),
        ("w1", "w5", "probabilistic"),
        ("w2", "w3", "deterministic"),
    ]
