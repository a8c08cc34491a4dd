"""Unanchored clusters (wage records: a name, a middle initial, the reported SSN) join the one cluster
their name points to, and only then."""

from __future__ import annotations

from datetime import date

import duckdb

from lakehouse.identity.attach import load_county_neighbors
from lakehouse.identity.features import nickname_table
from lakehouse.identity.link import attach_unique_names
from lakehouse.identity.pair_guards import drop_too_young_for_wages
from tests.conftest import ROOT
from tests.identity.duck import add_clusters_and_pairs
from tests.identity.linkage_rows import soundex

ROOTS = nickname_table()
COLUMNS = (
    "record_token VARCHAR, source VARCHAR, first_name VARCHAR, first_roots VARCHAR[], first_soundex VARCHAR, "
    "middle_initial VARCHAR, last_name VARCHAR, last_names VARCHAR[], last_soundex VARCHAR, "
    "birth_date VARCHAR, ssn_token VARCHAR, ssid VARCHAR, seid VARCHAR, cin VARCHAR, wages_from VARCHAR, "
    "counties VARCHAR[]"
)


def record(
    token, source, name, *, birth=None, ssn=None, ssid=None, cin=None, wages_from=None, counties=None
) -> tuple:
    """A linkage-input row; `name` is 'FIRST LAST' or 'FIRST M LAST' (with a middle initial);
    `wages_from` the last day of a wage record's first quarter."""
    words = name.split()
    first, last = words[0], words[-1]
    middle = words[1] if len(words) == 3 else None
    return (
        token,
        source,
        first,
        ROOTS.get(first, [first]),
        soundex(first),
        middle,
        last,
        [last],
        soundex(last),
        birth,
        ssn,
        ssid,
        None,
        cin,
        wages_from,
        counties,
    )


def attach(
    rows: list[tuple],
    *,
    max_cluster_size: int = 80,
    clusters: dict[str, str] | None = None,
    as_of: date | None = None,
    county_neighbors: dict[str, list[str]] | None = None,
    namesakes_first: bool = True,
) -> dict:
    """Run the attachment on `rows` (each record its own cluster unless `clusters` says otherwise);
    returns record_token -> cluster_id afterwards."""
    con = duckdb.connect()
    con.execute(f"CREATE TABLE linkage_input ({COLUMNS})")
    con.executemany(f"INSERT INTO linkage_input VALUES ({', '.join('?' * 16)})", rows)
    add_clusters_and_pairs(con, [r[0] for r in rows], clusters)
    attach_unique_names(
        con,
        max_cluster_size=max_cluster_size,
        as_of=as_of,
        county_neighbors=county_neighbors,
        namesakes_first=namesakes_first,
    )
    return dict(con.execute("SELECT record_token, cluster_id FROM clusters").fetchall())


# A cluster that has carried an SSN somewhere: dhcs is a source that records SSNs.
SSN_SOURCE = record("m0", "dhcs", "OTHER PERSON", birth="1970-01-01", ssn="t0", cin="C0")


def test_a_worker_without_ssn_joins_the_one_cluster_with_a_rare_name_and_not_a_common_one():
    rows = [
        record("k1", "calpads", "ANA RUIZ", birth="2001-01-01", ssid="S1"),  # Ana Ruiz's K-12 record
        record("w1", "edd", "ANA RUIZ"),  # her wage record, made-up SSN: no token
        record("k2", "calpads", "JOSE CRUZ", birth="2000-02-02", ssid="S2"),  # two Jose Cruz
        record("k3", "calpads", "JOSE CRUZ", birth="1999-03-03", ssid="S3"),
        record("w2", "edd", "JOSE CRUZ"),  # ambiguous: stays alone
        record("w3", "edd", "LI WANG"),  # no candidate
    ]
    clusters = attach(rows)
    assert clusters == {"k1": "k1", "w1": "k1", "k2": "k2", "k3": "k3", "w2": "w2", "w3": "w3"}


def test_a_worker_without_ssn_is_never_attached_to_someone_who_has_one():
    rows = [
        SSN_SOURCE,
        record("d1", "dhcs", "MARIA LOPEZ", birth="1980-05-05", ssn="t1", cin="C1"),  # has an SSN
        record("k1", "calpads", "MARIA LOPEZ", birth="1990-06-06", ssid="S1"),  # never had one recorded
        record("w1", "edd", "MARIA LOPEZ"),
        record("d2", "dhcs", "OMAR KHAN", birth="1975-01-01", ssn="t2", cin="C2"),
        record("w2", "edd", "OMAR KHAN"),  # the only Omar Khan has an SSN: not him
    ]
    clusters = attach(rows)
    assert (clusters["w1"], clusters["w2"]) == ("k1", "w2")


def test_no_attachment_puts_two_records_of_one_person_keyed_source_in_a_cluster():
    # An aid application without a birth date, linked to a wage record: unanchored. The one
    # namesake has an aid application of its own (another CSAC id): another person.
    rows = [
        record("c1", "csac", "ANA RUIZ"),
        record("w1", "edd", "ANA RUIZ"),
        record("k1", "calpads", "ANA RUIZ", birth="2001-01-01", ssid="S1"),
        record("c2", "csac", "ANA RUIZ", birth="2001-01-01"),
    ]
    assert attach(rows, clusters={"w1": "c1", "c2": "k1"})["c1"] == "c1"
    assert attach(rows[:3], clusters={"w1": "c1"})["c1"] == "k1"


def test_a_worker_without_ssn_whose_name_is_a_variant_joins_the_one_close_candidate():
    rows = [
        record("k1", "calpads", "JOSE GARZA", birth="2001-01-01", ssid="S1"),
        record("w1", "edd", "PEPE GARZA"),  # a Spanish nickname
        record("k2", "calpads", "KATHERINE OSULLIVAN", birth="1995-01-01", ssid="S2"),
        record("w2", "edd", "KATHERINE OSULIVAN"),  # one letter dropped
        record("k3", "calpads", "DANIEL MORA", birth="2000-01-01", ssid="S3"),
        record("k4", "calpads", "DANIELA MORA", birth="2000-01-01", ssid="S4"),  # his twin
        record("w3", "edd", "DANIEL MORA"),  # the exact name decides
        record("w4", "edd", "DANIELL MORA"),  # close to both twins: stays alone
    ]
    clusters = attach(rows)
    assert [clusters[w] for w in ("w1", "w2", "w3", "w4")] == ["k1", "k2", "k3", "w4"]


def test_names_are_compared_within_blocks_of_a_first_and_a_last_name_key():
    """A slip in a first letter changes the initial and the Soundex code; the name with that letter
    deleted is the key the two spellings share. Names changed in sound and spelling both share no key
    and are not compared, even though the close-name rule would take them."""
    rows = [
        record("k1", "calpads", "CARLOS RUIZ", birth="2001-01-01", ssid="S1"),
        record("w1", "edd", "KARLOS RUIZ"),  # first letter changed: ARLOS with R200
        record("k2", "calpads", "ANA NGUYEN", birth="1999-01-01", ssid="S2"),
        record("w2", "edd", "ANA GNUYEN"),  # first two letters swapped: A500 with GUYEN / NUYEN
        record("k3", "calpads", "KATHERINE BAKER", birth="1998-01-01", ssid="S3"),
        record("w3", "edd", "CATHERINE PAKER"),  # both first letters changed: no key in common
    ]
    clusters = attach(rows)
    assert [clusters[w] for w in ("w1", "w2", "w3")] == ["k1", "k2", "w3"]


def test_close_names_decide_only_for_a_worker_with_no_namesake_that_counts():
    """A namesake that counts decides, so close names are looked for only where there is none: a
    namesake whose middle initial differs does not count, and then the close-named one is the worker.
    Weighing every worker's close names gives the same attachments."""
    rows = [
        record("k1", "calpads", "MARIA LOPEZ", birth="2001-01-01", ssid="S1"),
        record("k2", "calpads", "MARIA LOPES", birth="2000-01-01", ssid="S2"),
        record("w1", "edd", "MARIA LOPEZ"),  # its namesake decides, the close name is not weighed
        record("k3", "calpads", "TOMAS A REYES", birth="1999-01-01", ssid="S3"),
        record("k4", "calpads", "THOMAS B REYES", birth="1998-01-01", ssid="S4"),
        record("w2", "edd", "TOMAS B REYES"),  # the namesake's initial differs: the close name decides
        record("k5", "calpads", "LUIS ORTIZ", birth="1997-01-01", ssid="S5"),
        record("w3", "edd", "LUIS ORTIS"),  # no namesake at all
    ]
    first = attach(rows)
    assert [first[w] for w in ("w1", "w2", "w3")] == ["k1", "k4", "k5"]
    assert attach(rows, namesakes_first=False) == first


def test_middle_initials_must_not_differ():
    rows = [
        record("k1", "calpads", "RAUL Y DIAZ", birth="2001-01-01", ssid="S1"),
        record("w1", "edd", "RAUL X DIAZ"),
        record("w2", "edd", "RAUL Y DIAZ"),
    ]
    clusters = attach(rows)
    assert (clusters["w1"], clusters["w2"]) == ("w1", "k1")


def test_a_wage_cluster_with_an_ssn_joins_only_a_cluster_never_asked_for_one():
    rows = [
        SSN_SOURCE,
        # a K-12 student who later worked: K-12 records carry no SSN, his wage records do
        record("k1", "calpads", "TOM HALE", birth="2001-01-01", ssid="S1"),
        record("w1", "edd", "TOM HALE", ssn="t1"),
        record("w2", "edd", "TOM HALE", ssn="t1"),
        # a Medi-Cal record without the SSN dhcs usually records: could be another Eva Stone
        record("d1", "dhcs", "EVA STONE", birth="1980-01-01", cin="C1"),
        record("w3", "edd", "EVA STONE", ssn="t3"),
        # a nickname is not enough for a worker with an SSN
        record("k2", "calpads", "ROBERT KING", birth="2002-01-01", ssid="S2"),
        record("w4", "edd", "BOB KING", ssn="t4"),
    ]
    clusters = attach(rows, clusters={"w2": "w1"})
    assert [clusters[t] for t in ("w1", "w2", "w3", "w4")] == ["k1", "k1", "w3", "w4"]


def test_a_cluster_a_worker_without_ssn_joins_takes_no_wage_cluster_with_an_ssn():
    # Two wage clusters point to the one Tom Hale of the K-12 records: one whose employer reported
    # no SSN (a worker who had none) and one with an SSN. One worker cannot be both.
    rows = [
        SSN_SOURCE,
        record("k1", "calpads", "TOM HALE", birth="2001-01-01", ssid="S1"),
        record("w1", "edd", "TOM HALE"),
        record("w2", "edd", "TOM HALE", ssn="t1"),
    ]
    assert [attach(rows)[t] for t in ("w1", "w2")] == ["k1", "w2"]
    assert attach([rows[0], rows[1], rows[3]])["w2"] == "k1"  # alone, the SSN's cluster joins


def test_an_attachment_that_would_pass_the_size_limit_is_left_out():
    rows = [
        record("k1", "calpads", "ANA RUIZ", birth="2001-01-01", ssid="S1"),
        record("k2", "cdss", "ANA RUIZ", birth="2001-01-01"),
        record("w1", "edd", "ANA RUIZ"),
    ]
    assert attach(rows, max_cluster_size=2, clusters={"k2": "k1"})["w1"] == "w1"
    assert attach(rows, max_cluster_size=3, clusters={"k2": "k1"})["w1"] == "k1"


def test_the_attachment_is_recorded_as_a_pair():
    con = duckdb.connect()
    con.execute(f"CREATE TABLE linkage_input ({COLUMNS})")
    con.executemany(
        f"INSERT INTO linkage_input VALUES ({', '.join('?' * 16)})",
        [record("k1", "calpads", "ANA RUIZ", birth="2001-01-01", ssid="S1"), record("w1", "edd", "ANA RUIZ")],
    )
    con.execute("CREATE TABLE clusters AS SELECT record_token, record_token AS cluster_id FROM linkage_input")
    con.execute(
        "CREATE TABLE pairs (record_token_l VARCHAR, record_token_r VARCHAR, match_probability DOUBLE, "
        "method VARCHAR)"
    )
    con.execute("INSERT INTO pairs VALUES ('k1', 'w1', 0.4, 'below_threshold')")
    assert attach_unique_names(con, max_cluster_size=80) == 1
    assert con.execute("SELECT * FROM pairs").fetchall() == [("k1", "w1", None, "unique_name")]


def test_with_a_run_date_a_child_is_no_candidate_for_wages():
    rows = [
        record("k1", "cde_elc", "NARE MANSOUR", birth="2017-05-27"),  # a child in 2025
        record("k2", "calpads", "NARE MANSOUR", birth="1990-01-01", ssid="S2"),  # an adult
        record("w1", "edd", "NARE MANSOUR"),
    ]
    assert attach(rows)["w1"] == "w1"  # two candidates
    assert attach(rows, as_of=date(2025, 12, 31))["w1"] == "k2"  # the child never had wages
    # one birth-date typo that makes a person look young does not rule them out
    typo = record("k3", "cdss", "NARE MANSOUR", birth="2019-01-01")
    assert attach([*rows[1:], typo], clusters={"k3": "k2"}, as_of=date(2025, 12, 31))["w1"] == "k2"


def test_a_scored_match_of_a_wage_record_with_a_child_is_undone():
    con = duckdb.connect()
    con.execute(f"CREATE TABLE linkage_input ({COLUMNS})")
    rows = [
        record("k1", "cde_elc", "NARE MANSOUR", birth="2017-05-27"),
        record("k2", "calpads", "NARE MANSOUR", birth="2011-12-31", ssid="S2"),  # 14 on the run date
        record("w1", "edd", "NARE MANSOUR"),
    ]
    con.executemany(f"INSERT INTO linkage_input VALUES ({', '.join('?' * 16)})", rows)
    con.execute(
        """CREATE TABLE pairs AS SELECT * FROM (VALUES ('k1', 'w1', 0.995, 'probabilistic'),
        ('k2', 'w1', 0.995, 'probabilistic'), ('k1', 'k2', 1.0, 'deterministic'))
        AS t(record_token_l, record_token_r, match_probability, method)"""
    )
    assert drop_too_young_for_wages(con, as_of=None) == 0
    assert drop_too_young_for_wages(con, as_of=date(2025, 12, 31)) == 1
    assert sorted(con.execute("SELECT record_token_l, record_token_r, method FROM pairs").fetchall()) == [
        ("k1", "k2", "deterministic"),
        ("k1", "w1", "below_threshold"),
        ("k2", "w1", "probabilistic"),
    ]


def test_a_child_at_the_time_of_the_wages_is_no_candidate_even_if_grown_up_now():
    rows = [
        record("k1", "calpads", "NARE MANSOUR", birth="2000-03-01", ssid="S1"),  # 8 in 2008, 25 in 2025
        record("k2", "cdss", "NARE MANSOUR", birth="1980-01-01"),  # an adult in 2008
        record("w1", "edd", "NARE MANSOUR", wages_from="2008-06-30"),
    ]
    assert attach(rows, as_of=date(2025, 12, 31))["w1"] == "k2"  # by the run date both could have worked
    later = record("w1", "edd", "NARE MANSOUR", wages_from="2016-06-30")  # k1 was 16 by then
    assert attach([*rows[:2], later], as_of=date(2025, 12, 31))["w1"] == "w1"  # two candidates


def test_a_scored_match_with_someone_too_young_when_the_wages_were_earned_is_undone():
    con = duckdb.connect()
    con.execute(f"CREATE TABLE linkage_input ({COLUMNS})")
    rows = [
        record("k1", "calpads", "NARE MANSOUR", birth="2000-03-01", ssid="S1"),
        record("w1", "edd", "NARE MANSOUR", wages_from="2008-06-30"),
        record("w2", "edd", "NARE MANSOUR", wages_from="2014-03-31"),  # 14 years and 30 days
    ]
    con.executemany(f"INSERT INTO linkage_input VALUES ({', '.join('?' * 16)})", rows)
    con.execute(
        """CREATE TABLE pairs AS SELECT * FROM (VALUES ('k1', 'w1', 0.995, 'probabilistic'),
        ('k1', 'w2', 0.995, 'probabilistic'))
        AS t(record_token_l, record_token_r, match_probability, method)"""
    )
    assert drop_too_young_for_wages(con, as_of=None) == 1  # the record's own quarter needs no run date
    assert con.execute("SELECT record_token_r, method FROM pairs ORDER BY 1").fetchall() == [
        ("w1", "below_threshold"),
        ("w2", "probabilistic"),
    ]


def test_a_sole_namesake_is_the_worker_wherever_it_lived_and_a_local_one_is_preferred():
    """Counties are evidence, not a condition: people work outside their county and move."""
    rows = [
        record("k1", "calpads", "ANA RUIZ", birth="1990-01-01", ssid="S1", counties=["19"]),
        record("w1", "edd", "ANA RUIZ", counties=["37"]),  # wages in another county only
    ]
    assert attach(rows) == {"k1": "k1", "w1": "k1"}
    # two namesakes: the one who has lived or worked where the wages were is the worker
    local = record("k2", "cdss", "ANA RUIZ", birth="1988-05-05", counties=["37"])
    assert attach([*rows, local]) == {"k1": "k1", "k2": "k2", "w1": "k2"}


def test_among_local_namesakes_a_worker_without_ssn_joins_the_one_with_the_same_middle_initial():
    rows = [
        record("k1", "calpads", "ANA M RUIZ", birth="1990-01-01", ssid="S1", counties=["19"]),
        record("k2", "cdss", "ANA RUIZ", birth="1985-01-01", counties=["19"]),  # initial unknown
        record("w1", "edd", "ANA M RUIZ", counties=["19"]),
        record("w2", "edd", "ANA RUIZ", counties=["19"]),  # no initial: still two candidates
        record("k3", "cdss", "LUIS RUBIO", birth="1980-01-01", counties=["19"]),
        record("k4", "dhcs", "LUIS RUBIO", birth="1975-01-01", cin="C4", counties=["19"]),
        record("k5", "cdss", "LUIS S RUBIO", birth="1970-01-01", counties=["19"]),
        record("w3", "edd", "ULIS S RUBIO", counties=["19"]),  # a typo: three close namesakes
    ]
    clusters = attach(rows)
    assert [clusters[t] for t in ("w1", "w2", "w3")] == ["k1", "w2", "k5"]
    two_m = [*rows[:2], record("k6", "cdss", "ANA M RUIZ", birth="1970-01-01", counties=["19"]), rows[2]]
    assert attach(two_m)["w1"] == "w1"


def test_among_namesakes_the_one_who_lived_where_the_employer_is_is_the_worker():
    rows = [
        record("k1", "calpads", "ANA RUIZ", birth="1990-01-01", ssid="S1", counties=["19"]),
        record("k2", "cdss", "ANA RUIZ", birth="1985-01-01", counties=["37", "19"]),
        record("k3", "cdss", "ANA RUIZ", birth="1970-01-01", counties=["01"]),
        record("w1", "edd", "ANA RUIZ", counties=["01"]),  # only k3 lived in Alameda
        record("w2", "edd", "ANA RUIZ", counties=["19"]),  # k1 and k2 both lived in Los Angeles
        record("w3", "edd", "ANA RUIZ", counties=["10"]),  # nobody lived in Fresno
    ]
    clusters = attach(rows)
    assert [clusters[t] for t in ("w1", "w2", "w3")] == ["k3", "w2", "w3"]


def test_among_namesakes_none_of_them_local_the_one_from_a_bordering_county_is_the_worker():
    """A commuter: wages in Orange (30) and Los Angeles-area namesakes. With no namesake in Orange, the
    one who lived in a county bordering it is the worker, when only one did; the real map's borders
    (conf/codes/geography.yml) decide which counties those are."""
    neighbors = load_county_neighbors(ROOT / "conf")
    assert "19" in neighbors["30"] and "01" not in neighbors["30"]  # Los Angeles borders Orange
    rows = [
        record("k1", "calpads", "ANA RUIZ", birth="1990-01-01", ssid="S1", counties=["19"]),  # Los Angeles
        record("k2", "cdss", "ANA RUIZ", birth="1985-01-01", counties=["01"]),  # Alameda
        record("w1", "edd", "ANA RUIZ", counties=["30"]),  # Orange
        record("w2", "edd", "ANA RUIZ", counties=["19"]),  # a local namesake: the county decides
        record("x1", "calpads", "LUIS RUBIO", birth="1990-01-01", ssid="S2", counties=["19"]),
        record("x2", "cdss", "LUIS RUBIO", birth="1985-01-01", counties=["36"]),  # San Bernardino
        record("w3", "edd", "LUIS RUBIO", counties=["30"]),  # two namesakes next door: left alone
        record("y1", "edd", "EVA SOTO", ssn="t9", counties=["30"]),  # an SSN on the wages
        record("y2", "calpads", "EVA SOTO", birth="1990-01-01", ssid="S3", counties=["19"]),
        record("y3", "cdss", "EVA SOTO", birth="1984-01-01", counties=["10"]),  # Fresno
    ]
    clusters = attach(rows, county_neighbors=neighbors)
    assert [clusters[t] for t in ("w1", "w2", "w3", "y1")] == ["k1", "k1", "w3", "y2"]
    # Without the map, counties decide only where a namesake is local.
    clusters = attach(rows)
    assert [clusters[t] for t in ("w1", "w2", "w3", "y1")] == ["w1", "k1", "w3", "y1"]


def test_a_worker_without_ssn_whose_name_is_a_variant_joins_the_one_close_candidate_where_they_work():
    rows = [
        record("k1", "calpads", "MIGUEL AGUILAR", birth="1990-01-01", ssid="S1", counties=["37"]),
        record("k2", "cdss", "MIGUEL AGUILAR", birth="1980-01-01", counties=["19"]),
        record("w1", "edd", "MIVUEL AGUILAR", counties=["37"]),  # a typo; only k1 lived in San Diego
        record("w2", "edd", "MIGUELL AGUILAR", counties=["10"]),  # close to both, neither in Fresno
        record("k3", "calpads", "ROSA MEZA", birth="1991-01-01", ssid="S3", counties=["19"]),
        record("k4", "calpads", "ROSA MEZA", birth="1992-01-01", ssid="S4", counties=["19"]),
        record("w3", "edd", "ROSSA MEZA", counties=["19"]),  # close to two in Los Angeles: alone
    ]
    clusters = attach(rows)
    assert [clusters[t] for t in ("w1", "w2", "w3")] == ["k1", "w2", "w3"]


def test_a_wage_cluster_with_an_ssn_joins_a_namesake_asked_for_one_only_where_the_employer_is():
    rows = [
        record("c1", "cdss", "ANA RUIZ", birth="1990-01-01", counties=["19"]),  # CalFresh, SSN left blank
        record("c2", "cdss", "LUZ PENA", birth="1980-01-01", ssn="T9"),  # CDSS does record SSNs
        record("w1", "edd", "ANA RUIZ", ssn="T1", counties=["19"]),
        record("w2", "edd", "ANA RUIZ", ssn="T2", counties=["01"]),
    ]
    clusters = attach(rows)
    assert (clusters["w1"], clusters["w2"]) == ("c1", "w2")
    # among several namesakes with no SSN, the only local one
    more = [*rows[:3], record("k1", "calpads", "ANA RUIZ", birth="1995-01-01", ssid="S1", counties=["37"])]
    assert attach(more)["w1"] == "c1"


def test_a_wage_cluster_with_an_ssn_picks_the_one_local_namesake_on_a_first_job():
    """Several local namesakes: wages that began inside the data go to the one who was at most
    FIRST_JOB_AGE then (a graduate's first job); wages seen from the data's first year do not, since
    they may have begun long before."""
    namesakes = [
        record("k1", "calpads", "JOSE LOPEZ", birth="1997-05-01", ssid="S1", counties=["19"]),  # 18 in 2015
        record("k2", "calpads", "JOSE LOPEZ", birth="1970-02-01", ssid="S2", counties=["19"]),
        record("k3", "calpads", "JOSE LOPEZ", birth="1985-02-01", ssid="S3", counties=["19"]),
    ]
    first_quarter = record("w0", "edd", "LUZ PENA", ssn="T0", wages_from="2008-03-31", counties=["01"])
    new_worker = record("w1", "edd", "JOSE LOPEZ", ssn="T1", wages_from="2015-09-30", counties=["19"])
    assert attach([*namesakes, first_quarter, new_worker])["w1"] == "k1"
    # two namesakes on a first job: neither
    twin_age = record("k4", "calpads", "JOSE LOPEZ", birth="1996-11-01", ssid="S4", counties=["19"])
    assert attach([*namesakes, twin_age, first_quarter, new_worker])["w1"] == "w1"
    # wages seen from the data's first year: no telling when they began
    old_worker = record("w2", "edd", "JOSE LOPEZ", ssn="T2", wages_from="2008-06-30", counties=["19"])
    early = record("k5", "calpads", "JOSE LOPEZ", birth="1990-01-01", ssid="S5", counties=["19"])
    assert attach([*namesakes[1:], early, first_quarter, old_worker])["w2"] == "w2"


def test_a_wage_cluster_with_an_ssn_and_a_typo_joins_the_one_close_named_local_first_jobber():
    """No one holds the wage cluster's exact name: the one local close-named namesake (a typo in the
    K-12 record) joins if that namesake was at most FIRST_JOB_AGE when the wages began, else none."""
    first_quarter = record("w0", "edd", "LUZ PENA", ssn="T0", wages_from="2008-03-31", counties=["01"])
    wages = record("w1", "edd", "JESSICA HOANG", ssn="T1", wages_from="2016-03-31", counties=["19"])
    student = record("k1", "calpads", "JESSICA HQANG", birth="1998-02-01", ssid="S1", counties=["19"])
    assert attach([first_quarter, wages, student])["w1"] == "k1"
    older = record("k2", "calpads", "JESSICA HQANG", birth="1975-02-01", ssid="S2", counties=["19"])
    assert attach([first_quarter, wages, older])["w1"] == "w1"
    # a second close-named local namesake, however old: no telling
    assert attach([first_quarter, wages, student, older])["w1"] == "w1"
