"""Two clusters whose best pair scored just under the threshold, each the other's only near miss,
with birth dates one person could have: `join_near_misses`."""

from __future__ import annotations

import duckdb

from lakehouse.identity.link import join_near_misses
from tests.identity.duck import add_clusters_and_pairs

FLOOR = 0.7


def join(
    rows: list[tuple],
    scored: list[tuple],
    *,
    clusters: dict[str, str] | None = None,
    max_cluster_size: int = 80,
):
    """`rows`: (token, birth_date, ssn_token[, counties[, source[, ssn parts]]]), the SSN parts
    (first five, last four, sorted digits) named after the SSN unless given; `scored`: (left, right,
    probability, method). Each record its own cluster unless `clusters` says otherwise; returns
    (joins, token -> cluster, near_miss pairs)."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE linkage_input (record_token VARCHAR, birth_date VARCHAR, ssn_token VARCHAR, "
        "counties VARCHAR[], source VARCHAR, ssn_first5_token VARCHAR, ssn_last4_token VARCHAR, "
        "ssn_sorted_token VARCHAR)"
    )
    full = []
    for r in rows:
        token, birth, ssn, counties, source, parts = (*r, None, None, None)[:6]
        if parts is None:
            parts = (None, None, None) if ssn is None else (f"{ssn}-f5", f"{ssn}-l4", f"{ssn}-sorted")
        full.append((token, birth, ssn, counties, source, *parts))
    con.executemany("INSERT INTO linkage_input VALUES (?, ?, ?, ?, ?, ?, ?, ?)", full)
    add_clusters_and_pairs(con, [r[0] for r in rows], clusters)
    con.executemany("INSERT INTO pairs VALUES (?, ?, ?, ?)", scored)
    joined = join_near_misses(con, floor=FLOOR, max_cluster_size=max_cluster_size)
    return (
        joined,
        dict(con.execute("SELECT record_token, cluster_id FROM clusters").fetchall()),
        con.execute("SELECT * FROM pairs WHERE method = 'near_miss'").fetchall(),
    )


# A school record and a benefit record of one person: the day of birth one digit off.
SCHOOL = ("a1", "1988-02-02", None)
BENEFITS = ("b1", "1988-02-01", "T1")
NEAR = ("a1", "b1", 0.97, "below_threshold")


def test_the_only_near_miss_of_each_joins_them_and_is_recorded():
    joined, clusters, pairs = join([SCHOOL, BENEFITS], [NEAR])
    assert (joined, clusters) == (1, {"a1": "a1", "b1": "a1"})
    assert pairs == [("a1", "b1", None, "near_miss")]


def test_typos_of_a_birth_date_join_and_another_birth_date_does_not():
    for other, joins in (("1988-01-02", 0), ("1989-02-02", 1), ("1988-02-12", 1), ("1988-03-02", 0),
                         ("1961-02-02", 0), (None, 0)):  # fmt: skip
        assert join([SCHOOL, ("b1", other, "T1")], [NEAR])[0] == joins, other


def test_a_score_under_the_floor_or_a_pair_already_matched_is_no_near_miss():
    assert join([SCHOOL, BENEFITS], [("a1", "b1", 0.69, "below_threshold")])[0] == 0
    assert join([SCHOOL, BENEFITS], [("a1", "b1", 0.995, "probabilistic")])[0] == 0


def test_a_cluster_with_two_near_misses_is_left_alone():
    sibling = ("c1", "1988-02-03", "T2")
    rows, scored = [SCHOOL, BENEFITS, sibling], [NEAR, ("a1", "c1", 0.95, "below_threshold")]
    joined, clusters, _ = join(rows, scored)
    assert joined == 0 and clusters == {"a1": "a1", "b1": "b1", "c1": "c1"}


def test_two_clusters_with_ssns_or_too_large_together_are_left_alone():
    assert join([("a1", "1988-02-02", "T9"), BENEFITS], [NEAR])[0] == 0
    rows = [SCHOOL, BENEFITS, ("b2", "1988-02-01", "T1")]
    assert join(rows, [NEAR], clusters={"b2": "b1"}, max_cluster_size=2)[0] == 0
    assert join(rows, [NEAR], clusters={"b2": "b1"}, max_cluster_size=3)[1] == {
        "a1": "a1",
        "b1": "a1",
        "b2": "a1",
    }


def test_counties_do_not_decide_a_near_miss():
    """People work outside the county they live in, and move: a near miss joins with or without a
    county in common (the pair's score already weighs what its records hold)."""
    school, benefits = (*SCHOOL[:3], ["19"]), (*BENEFITS[:3], ["19", "37"])
    assert join([school, benefits], [NEAR])[0] == 1
    assert join([school, (*BENEFITS[:3], ["37"])], [NEAR])[0] == 1
    assert join([school, (*BENEFITS[:3], [])], [NEAR])[0] == 1


def test_two_clusters_that_each_hold_a_record_of_one_person_keyed_source_stay_apart():
    # Two Medi-Cal records (two CINs) are two people, however near their best pair scored.
    medi_cal = [("a1", "1988-02-02", None, None, "dhcs"), ("b1", "1988-02-01", None, None, "dhcs")]
    assert join(medi_cal, [NEAR])[0] == 0
    assert join([medi_cal[0], ("b1", "1988-02-01", None, None, "cdss")], [NEAR])[0] == 1


def test_a_worker_who_had_no_ssn_is_no_near_miss_of_someone_with_one():
    worker = ("a1", "1988-02-02", None, None, "edd")  # a wage record whose employer reported no SSN
    assert join([worker, BENEFITS], [NEAR])[0] == 0
    assert join([worker, ("b1", "1988-02-01", None)], [NEAR])[0] == 1


def test_a_wage_cluster_whose_ssn_is_a_typo_of_the_other_sides_joins_it():
    # The employer transposed two digits: same digits in another order. Wage records carry no
    # birth date, so the SSNs stand in for it, although both sides carry one.
    wages = ("a1", None, "T1x", None, "edd", ("F2", "L2", "T1-sorted"))
    benefits = ("b1", "1988-02-01", "T1", None, "cdss", ("F1", "L1", "T1-sorted"))
    assert join([wages, benefits], [NEAR])[0] == 1
    assert join([(*wages[:5], ("F1", "L2", "S9")), benefits], [NEAR])[0] == 1  # the same first five
    assert join([(*wages[:5], ("F2", "L2", "S9")), benefits], [NEAR])[0] == 0  # nothing in common
    # a wage record already in a cluster with a birth date: that cluster's SSN tells them apart
    rows = [wages, benefits, ("a2", "1970-01-01", None, None, "cdss")]
    assert join(rows, [NEAR], clusters={"a2": "a1"})[0] == 0
