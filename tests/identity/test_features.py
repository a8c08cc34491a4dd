"""What events add to the linkage input: when wages began (`wages_from`), which counties (`counties`)."""

from __future__ import annotations

from chispa import assert_df_equality

from lakehouse.identity.features import record_counties, wages_from


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
