"""The gold gate blocks publication on out-of-range values, totals that do not reconcile, a disclosure
the audit finds, and anything that looks like a direct identifier."""

from __future__ import annotations

import pandas as pd

from lakehouse.privacy import suppress
from lakehouse.tables import GOLD_PERSON_TIMELINE, Table
from quality.gold_gate import check_disclosure, check_identifiers, check_totals, check_values


def _cells(rows: list[tuple]) -> pd.DataFrame:
    columns = ["metric", "cohort_year", "dimension", "group", "kind", "denominator", "numerator", "value"]
    df = pd.DataFrame(rows, columns=columns)
    df["value"] = df["numerator"] / df["denominator"]
    return df


GOOD = [
    ("placed", 2020, "statewide", "All", "rate", 100, 60, None),
    ("placed", 2020, "gender", "F", "rate", 70, 45, None),
    ("placed", 2020, "gender", "M", "rate", 30, 15, None),
]


def test_a_consistent_mart_passes_every_check():
    cells = _cells(GOOD)
    assert check_values(cells, "t").success
    assert check_totals(cells, {2020: 100}, "t").success
    assert check_disclosure(suppress(cells), [], 11, "t").success


def test_rate_above_one_blocks():
    cells = _cells(GOOD)
    cells.loc[1, "value"] = 1.2
    result = check_values(cells, "t")
    assert (result.success, result.unexpected_count, result.blocks) == (False, 1, True)
    assert result.examples == ["placed 2020 gender=F: value 1.2"]


def test_groups_that_do_not_add_up_block():
    rows = [GOOD[0], GOOD[1], ("placed", 2020, "gender", "M", "rate", 29, 15, None)]
    result = check_totals(_cells(rows), {2020: 100}, "t")
    assert not result.success
    assert result.examples == ["placed 2020 by gender: denominators add up to 99, not 100"]


def test_statewide_larger_than_the_cohort_blocks():
    result = check_totals(_cells(GOOD), {2020: 90}, "t")
    assert result.examples == ["placed 2020: denominator 100 > cohort size 90"]


def test_an_unsuppressed_small_cell_blocks():
    rows = [
        ("placed", 2020, "statewide", "All", "rate", 100, 60, None),
        ("placed", 2020, "gender", "F", "rate", 95, 57, None),
        ("placed", 2020, "gender", "M", "rate", 5, 3, None),
    ]
    published = suppress(_cells(rows))
    published[["denominator_suppressed", "numerator_suppressed", "value_suppressed"]] = False
    result = check_disclosure(published, [], 11, "t")
    assert not result.success and result.unexpected_count >= 1


def test_identifier_columns_and_values_block(tmp_path):
    leaky = Table(layer="gold", name="leaky", schema="person_id STRING, ssn_token STRING, birth_date DATE")
    published = tmp_path / "t.csv"
    published.write_text("cohort_year,group,count\n2020,123-45-6789,12\n2020,F,2001-02-03\n2020,M,15\n")
    result = check_identifiers([GOLD_PERSON_TIMELINE, leaky], [published])
    assert not result.success
    assert result.examples == [
        "gold.leaky: column 'ssn_token' looks like a direct identifier",
        "gold.leaky: column 'birth_date' looks like a direct identifier",
        "t.csv row 2, group: value shaped like an identifier",
        "t.csv row 3, count: value shaped like an identifier",
    ]
