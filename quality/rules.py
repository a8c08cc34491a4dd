"""Row-level quality rules (policy: quarantine), applied in one Spark pass.

A rule is a name, a reason template and a condition that is true for a bad row. `with_reasons` adds
one array column with the reasons of every rule a row breaks, so a table's rows are checked in a
single projection (no per-rule job), then split into rows to promote and rows to hold back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

REASONS = "_quality_reasons"


@dataclass(frozen=True)
class RowRule:
    """`condition(df)` is a Column that is true where the row is bad; `reason` explains it to a human."""

    name: str
    reason: str
    condition: Callable[[DataFrame], Column]


def with_reasons(df: DataFrame, rules: list[RowRule]) -> DataFrame:
    """Adds `_quality_reasons`: the reasons of every rule the row breaks (empty when it breaks none)."""
    if not rules:
        return df.withColumn(REASONS, F.array().cast("array<string>"))
    flags = [F.when(rule.condition(df), F.lit(rule.reason)) for rule in rules]
    return df.withColumn(REASONS, F.array_compact(F.array(*flags)))


def filter_passed(flagged: DataFrame) -> DataFrame:
    return flagged.filter(F.size(REASONS) == 0).drop(REASONS)


def filter_held_back(flagged: DataFrame) -> DataFrame:
    return flagged.filter(F.size(REASONS) > 0)


# ---- rules every event table shares ----------------------------------------------------------------


def missing_record(column: str = "record_token") -> RowRule:
    return RowRule(
        "record_key_present",
        "no source record key: the row cannot be tied to a person record",
        lambda df: F.col(column).isNull(),
    )


def implausible_dates(
    columns: list[str], *, run_date: date, earliest: date = date(1900, 1, 1)
) -> list[RowRule]:
    """A date before `earliest` or more than a year after the run date is a keying error, not an event."""
    latest = run_date + timedelta(days=366)
    return [
        RowRule(
            f"{column}_plausible",
            f"implausible {column}: outside {earliest.isoformat()}..{latest.isoformat()}",
            lambda df, column=column: (F.col(column) < F.lit(earliest)) | (F.col(column) > F.lit(latest)),
        )
        for column in columns
    ]


KNOWN = "_quality_known_record"


def with_known_records(df: DataFrame, known_tokens: DataFrame, column: str = "record_token") -> DataFrame:
    """Adds a boolean `_quality_known_record`: does the row's record token exist in person records?
    (A left join on the distinct tokens: referential integrity checked in the same pass.)"""
    tokens = (
        known_tokens.select(F.col(column).alias("_known_token")).distinct().withColumn(KNOWN, F.lit(True))
    )
    joined = df.join(tokens, df[column] == tokens["_known_token"], "left").drop("_known_token")
    return joined.withColumn(KNOWN, F.coalesce(F.col(KNOWN), F.lit(False)))


def unknown_record(column: str = "record_token") -> RowRule:
    return RowRule(
        "record_in_person_records",
        "no matching person record (referential integrity)",
        lambda df: F.col(column).isNotNull() & ~F.col(KNOWN),
    )
