"""The checks of every silver table: row rules (quarantine) and great-expectations suites (fail / warn).

Every table gets, from its registry entry: the schema (ordered column list, fail), key uniqueness
(fail; in GX for person records, in the writer for event tables, see `expectations`), row-count
drift against its previous version (warn); every event table gets a record key and referential
integrity to person records (quarantine, checked in quality/gate.py), plausible dates (quarantine)
and unknown code rates per coded source column (fail above `quality.max_unknown_code_rate`; counted in
quality/gate.py from each row's `unknown_codes`, and for person records from the bronze rows they are
built from, see docs/quality.md). The table's own value checks are listed below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import great_expectations.expectations as gxe
from pyspark.sql import functions as F

from lakehouse import tables as T
from lakehouse.tables import Table
from quality.rules import RowRule, implausible_dates, missing_record

FAIL = "fail"
WARN = "warn"


def _meta(policy: str, check_id: str, note: str = "") -> dict:
    return {"policy": policy, "check_id": check_id, **({"note": note} if note else {})}


@dataclass(frozen=True)
class TableChecks:
    date_columns: tuple[str, ...] = ()
    extra_rules: tuple[RowRule, ...] = ()
    expectations: tuple = field(default_factory=tuple)  # callables: run_date -> GX expectation


RACE_GROUPS = [
    "American Indian or Alaska Native",
    "Asian",
    "Pacific Islander",
    "Filipino",
    "Hispanic or Latino",
    "Black or African American",
    "White",
    "Two or More Races",
    "Not reported",
]
AWARD_LEVELS = [
    "standard_diploma",
    "adult_education_diploma",
    "chspe",
    "certificate",
    "associate",
    "bachelor",
    "master",
    "doctoral",
    "credential_program",
]


def _in_set(column: str, values: list, policy: str = FAIL, mostly: float = 1.0):
    return lambda run_date: gxe.ExpectColumnValuesToBeInSet(
        column=column, value_set=values, mostly=mostly, meta=_meta(policy, f"{column}_in_set")
    )


def _between(column: str, low, high, policy: str = WARN, mostly: float = 1.0):
    return lambda run_date: gxe.ExpectColumnValuesToBeBetween(
        column=column, min_value=low, max_value=high, mostly=mostly, meta=_meta(policy, f"{column}_range")
    )


def _yrqtr_rule() -> RowRule:
    return RowRule(
        "yrqtr_valid",
        "invalid YRQTR: not a year 1990 or later and a quarter 1-4",
        lambda df: F.col("yrqtr").isNull() | (F.col("year") < 1990) | ~F.col("quarter").between(1, 4),
    )


CHECKS: dict[str, TableChecks] = {
    T.SILVER_PERSON_RECORDS.fqn: TableChecks(
        expectations=(
            lambda run_date: gxe.ExpectColumnValuesToBeBetween(
                column="birth_date",
                min_value=date(1900, 1, 1),
                max_value=run_date,
                meta=_meta(WARN, "birth_date_range"),
            ),
        )
    ),
    T.SILVER_K12_ENROLLMENTS.fqn: TableChecks(
        date_columns=("entry_date", "exit_date"), expectations=(_between("grade", 0, 12, FAIL),)
    ),
    T.SILVER_DEMOGRAPHICS.fqn: TableChecks(expectations=(_in_set("race_ethnicity", RACE_GROUPS),)),
    T.SILVER_COLLEGE_ENROLLMENTS.fqn: TableChecks(
        expectations=(
            _in_set("segment", ["CCC", "CSU", "UC", "AICCU"]),
            _between("units_attempted", 0, 40, WARN, mostly=0.99),
        )
    ),
    T.SILVER_COMPLETIONS.fqn: TableChecks(
        date_columns=("award_date",), expectations=(_in_set("award_level", AWARD_LEVELS),)
    ),
    T.SILVER_CREDENTIALS.fqn: TableChecks(
        date_columns=("issue_date",),
        expectations=(_in_set("preparing_segment", ["CSU", "UC", "AICCU", "CCC", "DISTRICT", "NONE"]),),
    ),
    T.SILVER_STAFF_ASSIGNMENTS.fqn: TableChecks(expectations=(_between("fte", 0, 1),)),
    T.SILVER_WAGES.fqn: TableChecks(
        extra_rules=(_yrqtr_rule(),), expectations=(_between("wages", 0, 5_000_000, WARN, mostly=0.999),)
    ),
    T.SILVER_BENEFITS.fqn: TableChecks(
        date_columns=("start_month", "end_month"), expectations=(_between("months", 1, 600),)
    ),
    T.SILVER_AID.fqn: TableChecks(expectations=(_between("amount", 0, 100_000),)),
    T.SILVER_SERVICES.fqn: TableChecks(
        date_columns=("start_date", "end_date"),
        expectations=(
            lambda run_date: gxe.ExpectColumnValuesToNotBeNull(
                column="program", mostly=0.99, meta=_meta(FAIL, "program_known")
            ),
        ),
    ),
}


def column_names(table: Table) -> list[str]:
    """Column names of a registry DDL schema (top-level commas only)."""
    names, depth, start = [], 0, 0
    ddl = table.schema or ""
    for i, ch in enumerate(ddl + ","):
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        elif ch == "," and depth == 0:
            names.append(ddl[start:i].strip().split()[0].strip("`"))
            start = i + 1
    return names


def row_rules(table: Table, *, run_date: date) -> list[RowRule]:
    checks = CHECKS.get(table.fqn, TableChecks())
    rules = [missing_record()]
    rules += implausible_dates(list(checks.date_columns), run_date=run_date)
    return rules + list(checks.extra_rules)


def expectations(table: Table, *, run_date: date, previous_rows: int | None, drift: float) -> list:
    """The GX suite of a silver table for this run."""
    suite = [
        gxe.ExpectTableColumnsToMatchOrderedList(
            column_list=column_names(table), meta=_meta(FAIL, "schema", "columns and order as registered")
        ),
    ]
    if table is T.SILVER_PERSON_RECORDS:
        # Event tables are keyed by (source_file, source_row), unique by construction from bronze and
        # checked again by the writer before its commit; a GX uniqueness check over every wage row
        # would cost more than the rest of the gate.
        suite.append(
            gxe.ExpectCompoundColumnsToBeUnique(column_list=list(table.keys), meta=_meta(FAIL, "key_unique"))
        )
    if previous_rows:
        suite.append(
            gxe.ExpectTableRowCountToBeBetween(
                min_value=int(previous_rows * (1 - drift)),
                max_value=int(previous_rows * (1 + drift)) + 1,
                meta=_meta(WARN, "row_count_drift", f"previous version had {previous_rows:,} rows"),
            )
        )
    return suite + [make(run_date) for make in CHECKS.get(table.fqn, TableChecks()).expectations]
