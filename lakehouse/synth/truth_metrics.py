"""Aggregate the per-person true outcomes into `_truth/metrics.csv`, cell by cell.

One row per (metric, cohort year, dimension, group): denominator (people whose outcome is observed),
numerator, rate, and for wage metrics the median annual wage of those employed. Dimensions are the
breakdowns of docs/domain.md, one at a time, plus `statewide`.
"""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.synth.truth import (
    PATHWAYS_COLUMNS,
    PATHWAYS_FILE,
    TEACHER_COLUMNS,
    TEACHER_FILE,
    WORKFORCE_COLUMNS,
    WORKFORCE_FILE,
)

TEACHER_DIMENSIONS = (
    "credential_type",
    "subject",
    "preparing_institution",
    "segment",
    "county",
    "region",
    "race_ethnicity",
    "gender",
    "teaching_county",
)
TEACHER_RATES = (
    "placed",
    "retained_1y",
    "retained_3y",
    "retained_5y",
    "retained_same_district_1y",
    "retained_same_district_3y",
    "retained_same_district_5y",
    "employed_not_teaching",
)
TEACHER_WAGES = (("employed_not_teaching", "wage_not_teaching"),)
# Breakdowns only some people have: where the placed teach has cells of the metrics among the placed.
ONLY_FOR = {"teaching_county": tuple(m for m in TEACHER_RATES if m.startswith("retained_"))}
PATHWAY_DIMENSIONS = (
    "race_ethnicity",
    "gender",
    "low_income",
    "english_learner",
    "foster",
    "homeless",
    "disability",
    "district",
)
PATHWAY_RATES = (
    "enrolled_16mo",
    "enrolled_8yr",
    "enrolled_16mo_ccc",
    "enrolled_16mo_csu",
    "enrolled_16mo_uc",
    "enrolled_16mo_aiccu",
    "enrolled_16mo_other",
    "completed_100pct",
    "completed_150pct",
    "completed_200pct",
    "employed_1y",
    "employed_3y",
    "employed_5y",
)
PATHWAY_WAGES = (("employed_1y", "wages_1y"), ("employed_3y", "wages_3y"), ("employed_5y", "wages_5y"))
WORKFORCE_DIMENSIONS = ("program", "race_ethnicity", "gender")
WORKFORCE_RATES = ("employed_q2", "employed_q4")
WORKFORCE_WAGES = (("employed_q2", "earnings_q2"),)
# The marts the truth covers: (mart, people file, its columns, rate metrics, (employed, wage) pairs,
# dimensions).
MARTS = (
    ("teacher_pipeline", TEACHER_FILE, TEACHER_COLUMNS, TEACHER_RATES, TEACHER_WAGES, TEACHER_DIMENSIONS),
    ("student_pathways", PATHWAYS_FILE, PATHWAYS_COLUMNS, PATHWAY_RATES, PATHWAY_WAGES, PATHWAY_DIMENSIONS),
    ("workforce_programs", WORKFORCE_FILE, WORKFORCE_COLUMNS, WORKFORCE_RATES, WORKFORCE_WAGES,
     WORKFORCE_DIMENSIONS),
)  # fmt: skip
CENT = Decimal("0.01")
HEADER = (
    "mart",
    "metric",
    "cohort_year",
    "dimension",
    "group",
    "denominator",
    "numerator",
    "rate",
    "median_wage",
)


def to_cents(amount: float) -> float:
    """A median of amounts in cents, rounded to the cent, ties up: the median of an even count is
    halfway between two amounts, e.g. 10773.025. Python's `round` would round the float's binary
    value instead (10773.02499999...), which makes a tie go down or up by accident."""
    return float(Decimal(repr(amount)).quantize(CENT, ROUND_HALF_UP))


def _people(lines: DataFrame, file: str, columns: tuple[str, ...]) -> DataFrame:
    schema = ", ".join(f"`{c}` STRING" for c in columns)
    rows = lines.where(F.col("file") == file).select(F.from_csv("line", schema).alias("r")).select("r.*")
    return rows.withColumn("statewide", F.lit("All"))


def _cells(people: DataFrame, mart: str, rates, wages, dimensions) -> list[tuple]:
    """Every cell of every metric in one aggregation: people are repeated once per dimension."""
    dims = F.explode(
        F.array(
            *[
                F.struct(F.lit(d).alias("dimension"), F.col(d).alias("group"))
                for d in ("statewide", *dimensions)
            ]
        )
    ).alias("cell")
    long = people.select("*", dims).select("*", "cell.dimension", "cell.group")
    aggs = []
    for metric in rates:
        observed = F.col(metric) != ""
        aggs += [
            F.count(F.when(observed, 1)).alias(f"{metric}__d"),
            F.sum(F.when(observed, F.col(metric).cast("int"))).alias(f"{metric}__n"),
        ]
    for employed, wage in wages:
        paid = F.col(employed) == "1"
        aggs += [
            F.count(F.when(paid, 1)).alias(f"{wage}__d"),
            F.percentile(F.when(paid, F.col(wage).cast("double")), 0.5).alias(f"{wage}__m"),
        ]
    out = []
    for r in long.groupBy("cohort_year", "dimension", "group").agg(*aggs).collect():
        key = (r["cohort_year"], r["dimension"], r["group"])
        allowed = ONLY_FOR.get(r["dimension"])
        for metric in rates:
            d, n = r[f"{metric}__d"], r[f"{metric}__n"]
            if d and (allowed is None or metric in allowed):
                out.append((mart, metric, *key, d, n, round(n / d, 6), ""))
        for _, wage in wages:
            if r[f"{wage}__d"] and (allowed is None or wage in allowed):
                out.append((mart, wage, *key, r[f"{wage}__d"], "", "", to_cents(r[f"{wage}__m"])))
    return out


def write_true_metrics(spark: SparkSession, lines: DataFrame, truth_dir: Path) -> Path:
    rows = []
    for mart, file, columns, rates, wages, dimensions in MARTS:
        rows += _cells(_people(lines, file, columns), mart, rates, wages, dimensions)
    target = truth_dir / "metrics.csv"
    truth_dir.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(sorted(rows, key=lambda r: tuple(str(x) for x in r[:5])))
    return target
