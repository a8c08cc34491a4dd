"""The gold gate: what must hold before anything is published. Every check is `fail`.

- rates within [0, 1], medians not negative;
- totals reconcile: within every metric, cohort year and breakdown the groups add up to the statewide
  cell, and no statewide denominator exceeds the cohort's size;
- disclosure: the independent audit of lakehouse.privacy finds no published small count and no
  suppressed count that totals and sibling cells would reveal;
- no direct identifier in any gold or published table: no column named like one (names, SSN, SSID,
  SEID, CIN, birth date, ZIP, source record keys or tokens), and no published value shaped like one
  (an SSN, a 10-digit SSID, a date).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

from lakehouse.privacy import Relation, audit
from lakehouse.tables import Table
from quality.results import CheckResult

GOLD_GATE = "gold->published"
IDENTIFIER_COLUMNS = re.compile(
    r"(^|_)(first_name|middle_name|last_name|name_\d|ssn|ssid|seid|cin|birth_date|dob|zip|street|"
    r"source_record_key|record_token)($|_)",
    re.IGNORECASE,
)
IDENTIFIER_VALUES = re.compile(r"^(\d{3}-?\d{2}-?\d{4}|\d{10}|\d{4}-\d{2}-\d{2}|\d{8})$")


def _result(table: str, check: str, expectation: str, problems: list[str], checked: int) -> CheckResult:
    return CheckResult(
        gate=GOLD_GATE,
        table_name=table,
        check_id=check,
        expectation=expectation,
        column_name=None,
        policy="fail",
        success=not problems,
        element_count=checked,
        unexpected_count=len(problems),
        unexpected_percent=round(100 * len(problems) / checked, 4) if checked else 0.0,
        examples=problems[:10],
        message="" if not problems else f"{len(problems)} problem(s); first: {problems[0]}",
    )


def check_values(cells: pd.DataFrame, table: str) -> CheckResult:
    rates = cells[(cells["kind"] == "rate") & ~cells["value"].between(0, 1)]
    medians = cells[(cells["kind"] == "median") & (cells["value"] < 0)]
    problems = [_where(r) + f": value {r['value']}" for _, r in pd.concat([rates, medians]).iterrows()]
    return _result(
        table, "values_in_range", "rates_within_0_1_and_medians_not_negative", problems, len(cells)
    )


def check_totals(cells: pd.DataFrame, cohort_sizes: dict[int, int], table: str) -> CheckResult:
    """Groups add up to statewide (denominators and numerators); statewide never exceeds the cohort."""
    problems = []
    statewide = cells[cells["dimension"] == "statewide"].set_index(["metric", "cohort_year"])
    parts = cells[cells["dimension"] != "statewide"].copy()
    parts["numerator"] = parts["numerator"].fillna(0)
    sums = parts.groupby(["metric", "cohort_year", "dimension"])[["denominator", "numerator"]].sum()
    for (metric, year, dimension), row in sums.iterrows():
        total = statewide.loc[(metric, year)] if (metric, year) in statewide.index else None
        if total is None:
            problems.append(f"{metric} {year}: no statewide cell")
            continue
        for field in ("denominator", "numerator"):
            expected = 0 if pd.isna(total[field]) else int(total[field])
            if int(row[field]) != expected:
                problems.append(
                    f"{metric} {year} by {dimension}: {field}s add up to {int(row[field])}, not {expected}"
                )
    for (metric, year), row in statewide.iterrows():
        size = cohort_sizes.get(int(year), 0)
        if int(row["denominator"]) > size:
            problems.append(f"{metric} {year}: denominator {int(row['denominator'])} > cohort size {size}")
    return _result(
        table, "totals_reconcile", "groups_add_up_to_statewide_and_cohort_size", problems, len(cells)
    )


def check_disclosure(
    published: pd.DataFrame, relations: list[Relation], threshold: int, table: str
) -> CheckResult:
    problems = audit(published, threshold=threshold, relations=relations)
    return _result(table, "disclosure_audit", "no_small_or_recoverable_cell", problems, len(published))


def check_identifiers(tables: list[Table], published_files: list[Path]) -> CheckResult:
    """No identifier-like column in gold or published tables, no identifier-like value in published files."""
    problems = []
    for table in tables:
        for column in [c.strip().split(" ")[0].strip("`") for c in (table.schema or "").split(",")]:
            if IDENTIFIER_COLUMNS.search(column):
                problems.append(f"{table.fqn}: column '{column}' looks like a direct identifier")
    cells = 0
    for path in published_files:
        with path.open(newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            problems += [
                f"{path.name}: column '{c}' looks like a direct identifier"
                for c in header
                if IDENTIFIER_COLUMNS.search(c)
            ]
            for line, row in enumerate(reader, start=2):
                for column, value in zip(header, row, strict=False):
                    cells += 1
                    if column != "cohort_year" and IDENTIFIER_VALUES.match(value):
                        problems.append(f"{path.name} row {line}, {column}: value shaped like an identifier")
    return _result("published", "no_direct_identifiers", "no_identifier_columns_or_values", problems, cells)


def _where(row: pd.Series) -> str:
    return f"{row['metric']} {row['cohort_year']} {row['dimension']}={row['group']}"
