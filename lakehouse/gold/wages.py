"""The wage module: fiscal-year sums of UI wage quarters, CPI adjustment, employment thresholds, and
WIOA-style employment in the second and fourth quarter after exit.

Annual wages = the four quarters of a fiscal year (Q3 and Q4 of calendar year Y-1, Q1 and
Q2 of year Y, for fiscal year Y); employed in a quarter = wages of at least $1 (the threshold is in
the metric catalog). Wages are summed over every employer of the quarter.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.errors import SettingsError
from lakehouse.gold.timeline import WAGE_QUARTER


def fiscal_year(yrqtr: Column) -> Column:
    """The fiscal year (July to June, labelled by its ending year) of a YRQTR such as 20233 -> 2024."""
    year, quarter = F.floor(yrqtr / 10), yrqtr % 10
    return (year + F.when(quarter >= 3, 1).otherwise(0)).cast("int")


def quarter_index(yrqtr: Column) -> Column:
    """Quarters counted from year 0, so that `quarter_index(q) + k` is k quarters later."""
    return (F.floor(yrqtr / 10) * 4 + yrqtr % 10 - 1).cast("int")


def quarter_of(day: Column) -> Column:
    """The YRQTR a date falls in."""
    return (F.year(day) * 10 + F.quarter(day)).cast("int")


def annual_wages(timeline: DataFrame) -> DataFrame:
    """person_id, fiscal_year, annual_wages (sum of the fiscal year's quarters, every employer), quarters
    (how many of its quarters had any wage record)."""
    quarters = timeline.where(F.col("period_type") == WAGE_QUARTER)
    return quarters.groupBy("person_id", fiscal_year(F.col("period")).alias("fiscal_year")).agg(
        F.sum("wages").cast("decimal(14,2)").alias("annual_wages"),
        F.count("*").cast("int").alias("quarters"),
    )


def employed(wages: Column, threshold: float) -> Column:
    """Employed = wages at or above the threshold (by default $1); no wage record at all is not employed."""
    return F.coalesce(wages, F.lit(0)) >= F.lit(threshold)


def load_cpi(conf_dir: str | Path) -> dict[int, float]:
    """Calendar-year CPI-U annual averages from conf/cpi.yml."""
    path = Path(conf_dir) / "cpi.yml"
    try:
        raw = (yaml.safe_load(path.read_text()) or {}).get("cpi_u") or {}
        return {int(year): float(value) for year, value in raw.items()}
    except (OSError, yaml.YAMLError, ValueError, TypeError) as exc:
        raise SettingsError(f"{path}: cannot read the CPI table: {exc}") from None


def fiscal_year_cpi(cpi: dict[int, float], year: int) -> float:
    """A fiscal year's price level: the mean of the two calendar years it spans."""
    missing = [y for y in (year - 1, year) if y not in cpi]
    if missing:
        raise SettingsError(f"conf/cpi.yml has no CPI for {missing}: add it to adjust fiscal year {year}")
    return (cpi[year - 1] + cpi[year]) / 2


def in_base_year_dollars(amount: Column, year: Column, cpi: dict[int, float], base_year: int) -> Column:
    """`amount` earned in fiscal year `year`, stated in dollars of fiscal year `base_year`.
    Years the CPI table does not cover give null (and the gold gate reports them)."""
    base = fiscal_year_cpi(cpi, base_year)
    factors = {y: base / fiscal_year_cpi(cpi, y) for y in sorted(cpi) if y - 1 in cpi}
    lookup = F.create_map(*[F.lit(v) for kv in factors.items() for v in kv])
    return F.round(amount.cast("double") * F.element_at(lookup, year.cast("int")), 2)


def with_wages_after_exit(exits: DataFrame, timeline: DataFrame, *, quarters: int, prefix: str) -> DataFrame:
    """`exits` (person_id, exit_date, ...) with the wages of the `quarters`-th quarter after the exit
    quarter (every employer; null without a record) as `<prefix>_wages`, that quarter's fiscal year as
    `<prefix>_year`, and `<prefix>_observed`: false when that quarter lies past the last quarter with
    any wage data (a recent exit is censored, not unemployed)."""
    index, wages = f"{prefix}_index", f"{prefix}_wages"
    worked = timeline.where(F.col("period_type") == WAGE_QUARTER).select(
        "person_id", quarter_index(F.col("period")).alias(index), F.col("wages").alias(wages)
    )
    last = worked.agg(F.max(index).alias("_last_quarter"))
    df = exits.withColumn(index, quarter_index(quarter_of(F.col("exit_date"))) + quarters)
    df = df.join(worked, ["person_id", index], "left").crossJoin(F.broadcast(last))
    yrqtr = F.floor(F.col(index) / 4) * 10 + F.col(index) % 4 + 1
    return df.select(
        *exits.columns,
        F.col(wages),
        fiscal_year(yrqtr).alias(f"{prefix}_year"),
        (F.col(index) <= F.col("_last_quarter")).alias(f"{prefix}_observed"),
    )


def wioa_employment(exits: DataFrame, timeline: DataFrame, *, threshold: float) -> DataFrame:
    """WIOA-style outcomes for program exits (person_id, program, exit_date): employed in the 2nd and the
    4th quarter after the exit quarter, and the earnings of the 2nd quarter (censored, null, past the
    last quarter of wage data)."""
    out = exits
    for k in (2, 4):
        out = with_wages_after_exit(out, timeline, quarters=k, prefix=f"q{k}")
        out = out.withColumn(
            f"employed_q{k}", F.when(F.col(f"q{k}_observed"), employed(F.col(f"q{k}_wages"), threshold))
        )
    return out.select(
        *exits.columns,
        "employed_q2",
        "employed_q4",
        F.when(F.col("employed_q2"), F.col("q2_wages")).alias("earnings_q2"),
    )
