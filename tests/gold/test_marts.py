"""The cohort engine on a small teacher-pipeline mart: `among` populations, then cells per dimension
whose groups add up to the statewide cell."""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from pyspark.sql import functions as F

from lakehouse.gold.catalog import load_catalog
from lakehouse.gold.cohorts import COHORTS
from lakehouse.gold.marts import CELL_COLUMNS, STATEWIDE, cohort_outcomes, metric_cells
from lakehouse.gold.outcomes import OUTCOMES
from lakehouse.gold.pooling import (
    ALL_YEARS,
    OTHER,
    ROLLING,
    Pool,
    cohort_pools,
    is_pooled,
    pooled_cells,
    small_groups,
    with_small_groups_merged,
)
from lakehouse.gold.timeline import WAGE_QUARTER
from lakehouse.privacy.pools import pool_order
from tests.gold.frames import assert_frame, gold_inputs, people, silver, timeline

MART_YML = """
marts:
  teachers:
    cohort: first_teaching_credential
    cohort_definition: First preliminary or intern credential in year Y.
    breakdowns: [credential_type, gender, teaching_county]
    breakdowns_among: {teaching_county: {placed: true}}
    metrics:
      - {name: placed, outcome: teaching_within, window: {years: 1}}
      - {name: retained_1y, outcome: teaching_after_placement, window: {years: 1}, among: {placed: true}}
      - {name: employed_not_teaching, outcome: employed_in_fiscal_year, window: {years: 1},
         among: {placed: false}}
      - {name: wage_not_teaching, kind: median, value: employed_not_teaching,
         among: {employed_not_teaching: true}}
"""
# Fiscal 2021 = (100 + 100) / 2, base fiscal 2022 = (100 + 150) / 2: wages of fiscal 2021 times 1.25.
CPI = {2020: 100.0, 2021: 100.0, 2022: 150.0}


@pytest.fixture(scope="module")
def mart(tmp_path_factory):
    conf = tmp_path_factory.mktemp("conf")
    (conf / "metrics.yml").write_text(MART_YML)
    return load_catalog(conf, cohorts=COHORTS, outcomes=OUTCOMES).mart("teachers")


@pytest.fixture(scope="module")
def inputs(spark):
    def cred(token, kind, issued, year):
        return {
            "record_token": token, "credential_kind": kind, "issue_date": issued, "academic_year": year,
            "preparing_institution": "SJSU", "preparing_segment": "CSU", "subject": "Mathematics",
        }  # fmt: skip

    credentials = silver(
        spark, "credentials",
        cred("t1", "intern", "2019-09-01", 2020), cred("t2", "intern", "2019-10-01", 2020),
        cred("t3", "preliminary", "2020-01-10", 2020), cred("t4", "preliminary", "2020-02-10", 2020),
        cred("t5", "preliminary", "2020-03-10", 2020), cred("t6", "preliminary", "2021-09-01", 2022),
    )  # fmt: skip

    def teach(person, year, district):
        return {"person_id": person, "period": year, "teaching": True, "teaching_district": district}

    def wages(person, yrqtr, amount):
        return {"person_id": person, "period_type": WAGE_QUARTER, "period": yrqtr, "wages": amount}

    t = timeline(
        spark,
        teach("P1", 2020, "D1"), teach("P1", 2021, "D1"), wages("P1", 20203, 500),  # placed: not asked
        teach("P2", 2021, "D2"),  # placed in Y+1, gone the year after
        wages("P3", 20203, 1000), wages("P3", 20204, 1000),
        wages("P4", 20211, 4000),
        wages("P6", 20223, 100),
    )  # fmt: skip
    return gold_inputs(
        spark,
        timeline_rows=t,
        owners={f"t{i}": f"P{i}" for i in range(1, 7)},
        silver_tables={"credentials": credentials},
        people_rows=people(spark, ("P1", "F", None), ("P2", "M", None), ("P3", "F", None), ("P4", "M", None)),
        vintage=2022,
    )


@pytest.fixture(scope="module")
def wide(mart, inputs):
    """cohort_outcomes, computed once for the module's tests."""
    return cohort_outcomes(mart, inputs).localCheckpoint()


@pytest.fixture(scope="module")
def cells(mart, wide):
    return metric_cells(mart, wide, cpi=CPI, cpi_base_year=2022).localCheckpoint()


def test_cohort_outcomes_apply_among(wide):
    assert_frame(
        wide,
        [
            ("P1", 2020, "intern", "F", True, True, None, None),
            ("P2", 2020, "intern", "M", True, False, None, None),
            ("P3", 2020, "preliminary", "F", False, None, True, 2000.0),
            ("P4", 2020, "preliminary", "M", False, None, True, 4000.0),
            ("P5", 2020, "preliminary", "Unknown", False, None, False, None),
            # Cohort 2022: placement is censored, so nobody is known to be "not placed" either.
            ("P6", 2022, "preliminary", "Unknown", None, None, None, None),
        ],
        "person_id STRING, cohort_year INT, credential_type STRING, gender STRING, placed BOOLEAN, "
        "retained_1y BOOLEAN, employed_not_teaching BOOLEAN, employed_not_teaching__value DOUBLE",
    )


def test_metric_cells_count_every_dimension_and_statewide(cells):
    def rate(metric, dimension, group, d, n):
        return ("teachers", metric, "rate", 2020, dimension, group, d, n, n / d, None)

    def median(dimension, group, d, value):
        return (
            "teachers",
            "wage_not_teaching",
            "median",
            2020,
            dimension,
            group,
            d,
            None,
            value,
            value * 1.25,
        )

    expected = [
        rate("placed", STATEWIDE, "All", 5, 2),
        rate("placed", "credential_type", "intern", 2, 2),
        rate("placed", "credential_type", "preliminary", 3, 0),
        rate("placed", "gender", "F", 2, 1),
        rate("placed", "gender", "M", 2, 1),
        rate("placed", "gender", "Unknown", 1, 0),
        rate("retained_1y", STATEWIDE, "All", 2, 1),
        rate("retained_1y", "credential_type", "intern", 2, 1),
        rate("retained_1y", "gender", "F", 1, 1),
        rate("retained_1y", "gender", "M", 1, 0),
        # Where the placed teach breaks down retention among the placed, and no other metric.
        rate("retained_1y", "teaching_county", "D1", 1, 1),
        rate("retained_1y", "teaching_county", "D2", 1, 0),
        rate("employed_not_teaching", STATEWIDE, "All", 3, 2),
        rate("employed_not_teaching", "credential_type", "preliminary", 3, 2),
        rate("employed_not_teaching", "gender", "F", 1, 1),
        rate("employed_not_teaching", "gender", "M", 1, 1),
        rate("employed_not_teaching", "gender", "Unknown", 1, 0),
        median(STATEWIDE, "All", 2, 3000.0),
        median("credential_type", "preliminary", 2, 3000.0),
        median("gender", "F", 1, 2000.0),
        median("gender", "M", 1, 4000.0),
    ]
    assert_frame(cells, expected, CELL_COLUMNS)


def test_groups_of_every_dimension_add_up_to_statewide(mart, cells):
    keys = ["metric", "cohort_year"]
    sums = (
        cells.where(F.col("dimension") != STATEWIDE)
        .groupBy(*keys, "dimension")
        .agg(F.sum("denominator").alias("denominator"), F.sum("numerator").alias("numerator"))
    )
    statewide = cells.where(F.col("dimension") == STATEWIDE).select(*keys, "denominator", "numerator")
    totals = sorted(tuple(r) for r in statewide.collect())
    # Every metric has a statewide 2020 cell (medians count people, with no numerator).
    assert totals == [
        ("employed_not_teaching", 2020, 3, 2),
        ("placed", 2020, 5, 2),
        ("retained_1y", 2020, 2, 1),
        ("wage_not_teaching", 2020, 2, None),
    ]
    assert_frame(
        sums,
        [
            (*total, d)
            for total in totals
            for d in mart.breakdowns
            if mart.breaks_down(mart.metric(total[0]), d)
        ],
        "metric STRING, cohort_year INT, denominator BIGINT, numerator BIGINT, dimension STRING",
    )


# Pooled cohorts (lakehouse/gold/pooling.py): which pools, and cells computed from the pooled members
# (counts the sums of the years', medians over the pooled members).


def test_cohort_pools_are_rolling_windows_then_all_years():
    assert cohort_pools([2016, 2017, 2019], 3) == (
        Pool(2016, 2018, ROLLING),
        Pool(2017, 2019, ROLLING),
        Pool(2016, 2019, ALL_YEARS),
    )
    assert cohort_pools([2016, 2018], 3) == (Pool(2016, 2018, ALL_YEARS),)  # one window is all years
    assert cohort_pools([2016], 3) == () and cohort_pools([2016, 2020], 0) == ()
    labels = ["2017-2019", "2016-2019", "2016-2018", 2018, 2016]
    assert sorted(labels, key=pool_order) == [2016, 2018, "2016-2018", "2017-2019", "2016-2019"]


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    keys = ["metric", "cohort_year", "dimension", "group"]
    return frame.sort_values(keys).reset_index(drop=True)


def test_pooled_cells_are_the_cells_of_the_pooled_members(mart, wide, cells):
    """Cohorts 2020 (five people) and 2022 (one, censored): a pool of one cohort year has that year's
    cells; the pool of both has counts summed over them."""
    pools = cohort_pools([2020, 2022], 2)
    assert [p.label for p in pools] == ["2020-2021", "2021-2022", "2020-2022"]
    pooled = pooled_cells(mart, wide, pools, cpi=CPI, cpi_base_year=2022).toPandas()
    assert is_pooled(pooled).all()
    yearly = cells.toPandas()
    for label, year in (("2020-2021", 2020), ("2021-2022", 2022)):
        expected = yearly[yearly["cohort_year"] == year].assign(cohort_year=label)
        assert_frame_equal(_sorted(pooled[pooled["cohort_year"] == label]), _sorted(expected))
    both = pooled[pooled["cohort_year"] == "2020-2022"].set_index(["metric", "dimension", "group"])
    sums = yearly.groupby(["metric", "dimension", "group"])[["denominator", "numerator"]].sum(min_count=1)
    assert_frame_equal(
        both[["denominator", "numerator"]].sort_index(), sums.loc[both.index].sort_index(), check_dtype=False
    )
    assert set(both.index) == set(sums.index)
    rate = both[both["kind"] == "rate"]
    assert (rate["value"] == rate["numerator"] / rate["denominator"]).all()


def test_small_groups_are_merged_before_pooling(mart, wide):
    """Six members: intern 2, preliminary 4; F, M and Unknown 2 each; teaching in D1 and D2 one each,
    four not teaching. At 3, intern, every gender and both counties are small; merged, each breakdown
    still counts all six."""
    small = small_groups(mart, wide, 3)
    assert small == {
        "credential_type": ["intern"],
        "gender": ["F", "M", "Unknown"],
        "teaching_county": ["D1", "D2"],
    }
    merged = with_small_groups_merged(wide, small)
    counts = {r["credential_type"]: r["count"] for r in merged.groupBy("credential_type").count().collect()}
    assert counts == {OTHER: 2, "preliminary": 4}
    assert {r["gender"] for r in merged.select("gender").collect()} == {OTHER}
