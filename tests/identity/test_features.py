"""What the linkage input adds to person records: when wages began (`wages_from`), which counties
(`counties`), the roots a first name may stand for (`first_roots`)."""

from __future__ import annotations

from chispa import assert_df_equality
from pyspark.sql import functions as F

from lakehouse.identity.features import (
    _with_diminutive_roots,
    first_roots,
    nickname_roots,
    nickname_table,
    record_counties,
    wages_from,
)


def test_wages_from_is_the_last_day_of_the_first_quarter_with_wages(spark):
    wages = spark.createDataFrame(
        [("t1", 20083), ("t1", 20071), ("t1", 20124), ("t2", 20164), ("t3", 20242)],
        "record_token STRING, yrqtr INT",
    )
    expected = spark.createDataFrame(
        [("t1", "2007-03-31"), ("t2", "2016-12-31"), ("t3", "2024-06-30")],
        "record_token STRING, wages_from STRING",
    )
    assert_df_equality(wages_from(wages), expected, ignore_row_order=True, ignore_nullable=True)


def test_counties_are_every_county_a_records_events_name(spark):
    schools = spark.createDataFrame(
        [("k1", "19"), ("k1", "19"), ("k1", "37")], "record_token STRING, county_code STRING"
    )
    wages = spark.createDataFrame(
        [("w1", "01"), ("w1", None), ("w2", None)], "record_token STRING, employer_county_code STRING"
    )
    expected = spark.createDataFrame(
        [("k1", ["19", "37"]), ("w1", ["01"])], "record_token STRING, counties ARRAY<STRING>"
    )
    got = record_counties([(schools, "county_code"), (wages, "employer_county_code")])
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


NAMES = ["ANITA", "JUANITO", "ROSITA", "ANA", "TOPHER", "CHRISTOPHER", "MARI", "ALEX", "RITA", "ZZYZX"]


def test_first_roots_know_common_nicknames_and_spanish_diminutives():
    table = nickname_table()
    share = lambda a, b: bool(set(first_roots(a, table)) & set(first_roots(b, table)))  # noqa: E731
    pairs = [("ANITA", "ANA"), ("JUANITO", "JUAN"), ("ROSITA", "ROSA"), ("TOPHER", "CHRISTOPHER"),
             ("LIAM", "WILLIAM"), ("MARI", "MARIA"), ("ALEX", "ALEJANDRO"), ("BILL", "WILLIAM")]  # fmt: skip
    for short, formal in pairs:
        assert share(short, formal), (short, formal)
    # formal names do not meet through a nickname they both have, and RITA (too short) is no diminutive
    for a, b in [("ALEJANDRO", "ALEJANDRA"), ("MAURICE", "MOHAMMED"), ("RITA", "RA"), ("JUAN", "JUANA")]:
        assert not share(a, b), (a, b)


def test_spark_computes_first_roots_as_the_python_link_command_does(spark):
    """`c2c link` computes the roots in Python, the pipeline in Spark: the two must agree."""
    table = nickname_table()
    names = spark.createDataFrame([(n,) for n in NAMES], "first_name STRING")
    joined = names.join(nickname_roots(spark), F.col("first_name") == F.col("name"), "left")
    got = joined.select(
        "first_name",
        _with_diminutive_roots(F.coalesce("roots", F.array("first_name")), F.col("first_name")).alias(
            "roots"
        ),
    )
    expected = spark.createDataFrame(
        [(n, first_roots(n, table)) for n in NAMES], "first_name STRING, roots ARRAY<STRING>"
    )
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)
