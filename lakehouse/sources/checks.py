"""What must parse in a raw row before it lands, and what is only counted when it does not.

A row whose dates of events or numbers do not parse cannot say what happened: it is quarantined with
the reason. A birth date that does not parse says nothing about what happened, only less about who it
happened to: agencies key dates from paper and forms, and real extracts hold impossible ones (month 13,
day 32, a 30th of February). Such a value is missing data. The row lands as it is (bronze keeps the raw
text), silver reads the value as missing, and the landing report counts it per file and column.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.sources.layouts import LAYOUTS, SPARK_DATE
from lakehouse.sources.spec import all_specs

DATE_SHAPES = {
    "%Y%m%d": r"^[0-9]{8}$",
    "%m/%d/%Y": r"^[0-9]{2}/[0-9]{2}/[0-9]{4}$",
    "%Y-%m-%d": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    "%Y%m": r"^[0-9]{6}$",
}
NUMBER_SHAPE = r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)$"


def is_identity_date(column: str) -> bool:
    """A birth date column (`BIRTH_DATE`, `SB03_BIRTH_DATE`, `DOB`, `birth_date`, `dob`)."""
    name = column.upper()
    return "BIRTH" in name or name == "DOB"


def parse_date(value: Column, fmt: str) -> Column:
    """A raw date in the agency's format, or null. The shape first: try_to_date takes signs and extra
    year digits ('-19810104'), and some such values even overflow in the JVM; only a value of the
    right shape is parsed at all."""
    return F.when(value.rlike(DATE_SHAPES[fmt]), F.try_to_date(value, SPARK_DATE[fmt]))


def _field(family: str, column: str) -> Column:
    index = [n for n, _ in LAYOUTS[family].columns].index(column)
    return F.trim(F.col("fields")[index])


def _checks(family: str, numeric: tuple[str, ...], dates: dict[str, str]) -> list[Column]:
    """One `reason` expression per event date or number column of a family, on the `fields` array."""
    checks = []
    for column, fmt in dates.items():
        if is_identity_date(column):
            continue
        value = _field(family, column)
        bad = (value != "") & parse_date(value, fmt).isNull()
        message = F.concat(F.lit(f"unparseable date in {column}: '"), value, F.lit(f"' (expected {fmt})"))
        checks.append(F.when(bad, message))
    for column in numeric:
        value = _field(family, column)
        # A plain decimal: try_cast('double') alone would take NaN, Infinity and '12d'.
        bad = (value != "") & ~value.rlike(NUMBER_SHAPE)
        checks.append(F.when(bad, F.concat(F.lit(f"unparseable number in {column}: '"), value, F.lit("'"))))
    return checks


def _unparseable(family: str, dates: dict[str, str]) -> Column | None:
    """The identity date columns of a row whose value is there but does not parse (array of names)."""
    flags = []
    for column, fmt in dates.items():
        if is_identity_date(column):
            value = _field(family, column)
            flags.append(F.when((value != "") & parse_date(value, fmt).isNull(), F.lit(column)))
    return F.array_compact(F.array(*flags)) if flags else None


def with_reasons(rows: DataFrame) -> DataFrame:
    """All families checked in one pass: `reason` keeps the cutting problem or gets the first bad
    value; `unparseable` lists the row's identity values that are missing data instead."""
    reason = unparseable = None
    for spec in all_specs():
        for family in spec.families():
            when = F.col("family") == family
            checks = _checks(family, spec.numeric.get(family, ()), spec.dates(family))
            if checks:
                value = F.coalesce(*checks)
                reason = F.when(when, value) if reason is None else reason.when(when, value)
            soft = _unparseable(family, spec.dates(family))
            if soft is not None:
                unparseable = F.when(when, soft) if unparseable is None else unparseable.when(when, soft)
    empty = F.array().cast("array<string>")
    flagged = empty if unparseable is None else F.coalesce(unparseable, empty)
    return rows.withColumn("reason", F.coalesce(F.col("reason"), reason)).withColumn("unparseable", flagged)


def validate(rows: DataFrame, family: str, numeric: tuple[str, ...], dates: dict[str, str]) -> DataFrame:
    """One family's rows with `reason` set where an event date or a number does not parse."""
    checks = _checks(family, numeric, dates)
    df = rows.where(F.col("family") == family)
    return df.withColumn("reason", F.coalesce(F.col("reason"), *checks)) if checks else df
