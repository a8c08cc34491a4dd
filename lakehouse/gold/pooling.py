"""Pooled cohorts: small groups published the way agencies publish them, several cohort years together.

A pooled cohort holds the members of cohort years `first` to `last`: every rolling window of
`window_years` consecutive years, and all years together. Its cells are aggregated from the members
themselves (a member counts in every pool that holds their cohort year), so its counts are the sums
of the per-year counts and its medians are medians of the pooled members, never averages of
published values. A pooled cell carries its label (`first-last`, e.g. "2016-2018") where a per-year
cell carries its year; lakehouse.privacy reads the label and protects the pools and the years
together (lakehouse/privacy/pools.py).

Why pool: a group too small to publish in one year (a county's new teachers, a district's foster
youth) often is large enough over three or more, and a rate over several cohorts is what a reader
comparing groups needs; the cost is that a pooled rate mixes years, which its label says.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.gold.catalog import Mart
from lakehouse.gold.marts import metric_cells
from lakehouse.privacy.pools import pool_years

ROLLING, ALL_YEARS = "window", "all"


@dataclass(frozen=True)
class Pool:
    first: int
    last: int
    span: str  # ROLLING or ALL_YEARS

    @property
    def label(self) -> str:
        return f"{self.first}-{self.last}"


def cohort_pools(years, window_years: int) -> tuple[Pool, ...]:
    """Every rolling window of `window_years` between the first and the last cohort year (a year
    without members still counts as a year of its windows), then all years together; a window that
    is all the years is only the all-years pool. None for fewer than two cohort years or no window."""
    years = sorted({int(y) for y in years})
    if window_years < 2 or len(years) < 2:
        return ()
    first, last = years[0], years[-1]
    windows = [
        Pool(end - window_years + 1, end, ROLLING)
        for end in range(first + window_years - 1, last + 1)
        if (end - window_years + 1, end) != (first, last)
    ]
    return (*windows, Pool(first, last, ALL_YEARS))


OTHER = "Other (small groups)"


def small_groups(mart: Mart, people: DataFrame, threshold: int) -> dict[str, list[str]]:
    """Per breakdown, the groups with fewer than `threshold` cohort members over all cohort years (one
    small aggregate per breakdown: a group count each, never a record)."""
    found = {}
    for dimension in mart.breakdowns:
        counts = people.groupBy(F.col(dimension).cast("string").alias("g")).count().collect()
        found[dimension] = sorted(r["g"] for r in counts if r["count"] < threshold and r["g"] is not None)
    return found


def with_small_groups_merged(people: DataFrame, small: dict[str, list[str]]) -> DataFrame:
    """`people` with each breakdown's small groups (`small_groups`) relabelled OTHER. No pool holds
    more of a group than all years do, so a small group would be suppressed in every pool; merged,
    its members still count in the breakdown, whose groups keep adding up to the statewide row (a
    group left out instead would give its count away as the difference)."""
    for dimension, groups in small.items():
        if groups:
            value = F.col(dimension).cast("string")
            people = people.withColumn(dimension, F.when(value.isin(groups), F.lit(OTHER)).otherwise(value))
    return people


def pooled_cells(
    mart: Mart, people: DataFrame, pools: tuple[Pool, ...], *, cpi: dict[int, float], cpi_base_year: int
) -> DataFrame:
    """The cells of every pool: `metric_cells` of the members each pool holds, with `cohort_year`
    the pool's label (a string) instead of a year."""
    spark = people.sparkSession
    frame = spark.createDataFrame(
        [(p.label, p.first, p.last) for p in pools], "pool STRING, pool_first INT, pool_last INT"
    )
    inside = F.col("cohort_year").between(F.col("pool_first"), F.col("pool_last"))
    pooled = (
        people.join(F.broadcast(frame), inside)
        .withColumn("cohort_year", F.col("pool"))
        .drop("pool", "pool_first", "pool_last")
    )
    return metric_cells(mart, pooled, cpi=cpi, cpi_base_year=cpi_base_year)


def is_pooled(cells: pd.DataFrame) -> pd.Series:
    """Per row of a cells frame: a pooled cohort (its `cohort_year` is a `first-last` label)."""
    return cells["cohort_year"].map(lambda y: pool_years(y) is not None).astype(bool)
