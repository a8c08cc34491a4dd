"""What must parse in a raw row before it lands, and what is only counted when it does not.

A row whose dates of events or numbers do not parse cannot say what happened: it is quarantined with
the reason. A birth date that does not parse says nothing about what happened, only less about who it
happened to: agencies key dates from paper and forms, and real extracts hold impossible ones (month 13,
day 32, a 30th of February). Such a value is missing data. The row lands as it is (bronze keeps the raw
text), silver reads the value as missing, and the landing report counts it per file and column.

After landing, the count-back holds bronze to the ledger over all loads: every file's landed version has
its raw rows in bronze exactly once (landed + quarantined = raw), and no other rows of it are anywhere.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.errors import TableNotFoundError
from lakehouse.sources.layouts import LAYOUTS, SPARK_DATE
from lakehouse.sources.spec import all_specs
from lakehouse.storage import Storage
from lakehouse.tables import BRONZE, BRONZE_FILES, BRONZE_QUARANTINE, Table

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


# ---- after landing: bronze against the ledger ------------------------------------------------------

HeldRows = dict[tuple[str, str, str], int]  # (table, file, load id) -> rows


@dataclass(frozen=True)
class LandedVersion:
    """What bronze must hold of one file: its landed version's rows, all of that version's load."""

    family: str | None
    load_id: str
    raw: int
    landed: int
    quarantined: int


def held_rows(storage: Storage, tables: Collection[Table], files: Collection[str] | None = None) -> HeldRows:
    """Rows per table, source file and load id in `tables` (those that exist), over all loads, in one
    Spark job: one scan of two columns per table, not a query per file. `files` keeps only those."""
    parts = []
    for table in tables:
        try:
            df = storage.read(table)
        except TableNotFoundError:
            continue
        file, load = ("file", "load_id") if table == BRONZE_QUARANTINE else ("_source_file", "_load_id")
        part = df.select(F.lit(table.fqn).alias("tbl"), F.col(file).alias("file"), F.col(load).alias("load"))
        parts.append(part if files is None else part.where(F.col("file").isin(*sorted(files))))
    if not parts:
        return {}
    counted = reduce(DataFrame.unionByName, parts).groupBy("tbl", "file", "load").count().collect()
    return {(r["tbl"], r["file"], r["load"]): r["count"] for r in counted}


def count_back(expected: Mapping[str, LandedVersion], held: HeldRows) -> list[str]:
    """One line per file whose rows in bronze differ from its landed version in the ledger: fewer or
    more rows of that version's load in its family table or in quarantine, or rows of any other load
    (a repeated append, an interrupted landing, an earlier version) anywhere. Empty when all agree."""
    by_file: dict[str, dict[tuple[str, str], int]] = {}
    for (table, file, load), n in held.items():
        by_file.setdefault(file, {})[table, load] = n
    problems = []
    for file in sorted(set(by_file) | set(expected)):
        got = by_file.get(file, {})
        want = expected.get(file)
        where = ", ".join(f"{n} in {t} (load {load})" for (t, load), n in sorted(got.items()))
        if want is None:
            problems.append(f"{file}: bronze holds {where}, but the ledger has no landed version of it")
            continue
        table = BRONZE[want.family].fqn if want.family in BRONZE else None
        landed = got.get((table, want.load_id), 0) if table else 0
        quarantined = got.get((BRONZE_QUARANTINE.fqn, want.load_id), 0)
        mine = {(table, want.load_id), (BRONZE_QUARANTINE.fqn, want.load_id)}
        other = sum(n for key, n in got.items() if key not in mine)
        if (landed, quarantined, other) != (
            want.landed,
            want.quarantined,
            0,
        ) or want.raw != landed + quarantined:
            problems.append(
                f"{file}: {want.raw} raw rows ({want.landed} landed + "
                f"{want.quarantined} quarantined, load {want.load_id}), but bronze holds {where or 'none'}"
            )
    return problems


def write_ledger(storage: Storage, rows: list[dict], columns: list[str], *, run_id: str, step: str) -> None:
    """The whole ledger `rows` (one per file version, small) as `bronze.files`' next version, in one
    idempotent commit; `merge` adds a column an older lake's ledger lacks."""
    frame = storage.spark.createDataFrame([tuple(r[c] for c in columns) for r in rows], BRONZE_FILES.schema)
    storage.write(frame, BRONZE_FILES, "overwrite", run_id=run_id, step=step, schema_mode="merge")
