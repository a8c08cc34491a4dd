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


RI_RULE = "record_in_person_records"
RI_REASON = "no matching person record (referential integrity)"


def orphan_tokens(
    flagged: DataFrame, known_tokens: DataFrame, column: str = "record_token", *, by: str | None = None
) -> DataFrame:
    """Distinct record tokens of `flagged` (per `by`, when given) that `known_tokens` lacks. Referential
    integrity is checked on distinct tokens (far fewer than rows: a worker has dozens of wage rows), so
    the usual case, no orphan at all, costs one aggregate and no row-level join."""
    keys = [by, column] if by else [column]
    tokens = flagged.select(*keys).where(F.col(column).isNotNull()).distinct()
    return tokens.join(known_tokens.select(column).distinct(), column, "left_anti")
