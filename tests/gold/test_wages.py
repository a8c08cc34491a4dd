"""The wage module: fiscal years and quarter arithmetic of YRQTR keys, annual sums over employers,
the employment threshold, CPI adjustment and WIOA-style employment after an exit."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import functions as F

from lakehouse.errors import SettingsError
from lakehouse.gold.timeline import WAGE_QUARTER, build_person_timeline
from lakehouse.gold.wages import (
    annual_wages,
    employed,
    fiscal_year,
    fiscal_year_cpi,
    in_base_year_dollars,
    load_cpi,
    quarter_index,
    quarter_of,
    wioa_employment,
)
from tests.gold.frames import assert_frame, crosswalk, rows_frame, silver, timeline

ROOT = Path(__file__).resolve().parents[2]


def quarters(spark, *rows):
    """Timeline wage-quarter rows from (person, yrqtr, wages)."""
    return timeline(
        spark, *[{"person_id": p, "period_type": WAGE_QUARTER, "period": q, "wages": w} for p, q, w in rows]
    )


def test_fiscal_year_and_quarter_arithmetic_of_yrqtr(spark):
    keys = spark.createDataFrame([(q,) for q in (20231, 20232, 20233, 20234, 20241, 20242)], "yrqtr INT")
    actual = keys.select(
        "yrqtr",
        fiscal_year(F.col("yrqtr")).alias("fiscal_year"),
        (quarter_index(F.col("yrqtr")) - quarter_index(F.lit(20233))).alias("after_20233"),
    )
    assert_frame(
        actual,
        [(20231, 2023, -2), (20232, 2023, -1), (20233, 2024, 0), (20234, 2024, 1), (20241, 2024, 2),
         (20242, 2024, 3)],
        "yrqtr INT, fiscal_year INT, after_20233 INT",
    )  # fmt: skip


def test_quarter_of_a_date(spark):
    days = rows_frame(
        spark, "day DATE", [{"day": d} for d in ("2023-01-01", "2023-06-30", "2023-07-01", "2023-12-31")]
    )
    assert_frame(
        days.select("day", quarter_of(F.col("day")).alias("yrqtr")),
        [("2023-01-01", 20231), ("2023-06-30", 20232), ("2023-07-01", 20233), ("2023-12-31", 20234)],
        "day DATE, yrqtr INT",
    )


def test_annual_wages_sum_the_fiscal_years_quarters_over_every_employer(spark):
    def wage(token, yrqtr, amount, employer="E1"):
        return {"record_token": token, "employer_account": employer, "yrqtr": yrqtr, "wages": amount}

    t = build_person_timeline(
        crosswalk=crosswalk(spark, {"w1": "P1", "w2": "P2"}),
        wages=silver(
            spark, "wages",
            wage("w1", 20233, 1000), wage("w1", 20233, 500, "E2"), wage("w1", 20234, 1000),
            wage("w1", 20241, 250.25), wage("w1", 20242, 250.25), wage("w1", 20243, 300),
            wage("w2", 20232, 100),
        ),
    )  # fmt: skip
    assert_frame(
        annual_wages(t),
        [("P1", 2024, 3000.5, 4), ("P1", 2025, 300, 1), ("P2", 2023, 100, 1)],
        "person_id STRING, fiscal_year INT, annual_wages DECIMAL(14,2), quarters INT",
    )


def test_employed_means_wages_at_or_above_the_threshold(spark):
    amounts = rows_frame(spark, "wages DECIMAL(14,2)", [{"wages": w} for w in (None, 0, 0.99, 1, 5)])
    actual = amounts.select(
        "wages",
        employed(F.col("wages"), 1).alias("at_1"),
        employed(F.col("wages"), 5.0).alias("at_5"),
    )
    assert_frame(
        actual,
        [(None, False, False), (0, False, False), (0.99, False, False), (1, True, False), (5, True, True)],
        "wages DECIMAL(14,2), at_1 BOOLEAN, at_5 BOOLEAN",
    )


CPI = {2021: 100.0, 2022: 110.0, 2023: 120.0, 2024: 130.0}


def test_fiscal_year_cpi_is_the_mean_of_its_two_calendar_years():
    assert fiscal_year_cpi(CPI, 2024) == 125.0
    assert fiscal_year_cpi(CPI, 2022) == 105.0
    with pytest.raises(SettingsError, match=r"no CPI for \[2020\].*fiscal year 2021"):
        fiscal_year_cpi(CPI, 2021)
    with pytest.raises(SettingsError, match=r"no CPI for \[2025\]"):
        fiscal_year_cpi(CPI, 2025)


def test_wages_in_base_year_dollars(spark):
    amounts = spark.createDataFrame(
        [(1150.0, 2023), (1050.0, 2022), (1000.0, 2024), (1000.0, 2021), (None, 2023)],
        "amount DOUBLE, year INT",
    )
    actual = amounts.select(
        "amount", "year", in_base_year_dollars(F.col("amount"), F.col("year"), CPI, 2024).alias("real")
    )
    # Base fiscal year 2024 = 125; fiscal 2023 = 115, 2022 = 105; 2021 needs calendar 2020: not covered.
    assert_frame(
        actual,
        [(1150.0, 2023, 1250.0), (1050.0, 2022, 1250.0), (1000.0, 2024, 1000.0), (1000.0, 2021, None),
         (None, 2023, None)],
        "amount DOUBLE, year INT, real DOUBLE",
    )  # fmt: skip


def test_a_base_year_the_cpi_table_does_not_cover_is_a_settings_error():
    with pytest.raises(SettingsError, match=r"no CPI for \[2025\]"):
        in_base_year_dollars(F.lit(1.0), F.lit(2024), CPI, 2025)


def test_load_cpi_reads_conf_and_reports_a_bad_file(tmp_path):
    cpi = load_cpi(ROOT / "conf")
    assert (cpi[2023], cpi[2024]) == (304.702, 313.689)
    (tmp_path / "cpi.yml").write_text("cpi_u:\n  2024: lots\n")
    with pytest.raises(SettingsError, match="cpi.yml: cannot read the CPI table"):
        load_cpi(tmp_path)
    with pytest.raises(SettingsError, match="cannot read the CPI table"):
        load_cpi(tmp_path / "missing")


def test_wioa_employment_in_the_second_and_fourth_quarter_after_exit(spark):
    t = quarters(
        spark,
        ("W1", 20234, 2000), ("W1", 20242, 0),  # exit 20232: q2 = 20234, q4 = 20242
        ("W2", 20243, 0.5),  # exit 20241: q2 = 20243 below $1; q4 = 20251 lies past the data
        ("W4", 20244, 100),  # exit 20234: q2 = 20242 no record; q4 = 20244, the last quarter of data
    )  # fmt: skip
    exits = rows_frame(
        spark,
        "person_id STRING, program STRING, exit_date DATE",
        [
            {"person_id": "W1", "program": "wioa_adult", "exit_date": "2023-05-10"},
            {"person_id": "W2", "program": "wioa_adult", "exit_date": "2024-02-01"},
            {"person_id": "W3", "program": "wioa_youth", "exit_date": "2024-12-31"},  # both past the data
            {"person_id": "W4", "program": "wioa_youth", "exit_date": "2023-12-31"},
            {"person_id": "W5", "program": "wioa_youth", "exit_date": "2023-01-15"},  # no wages at all
        ],
    )
    assert_frame(
        wioa_employment(exits, t, threshold=1),
        [
            ("W1", "wioa_adult", "2023-05-10", True, False, 2000),
            ("W2", "wioa_adult", "2024-02-01", False, None, None),
            ("W3", "wioa_youth", "2024-12-31", None, None, None),
            ("W4", "wioa_youth", "2023-12-31", False, True, None),
            ("W5", "wioa_youth", "2023-01-15", False, False, None),
        ],
        "person_id STRING, program STRING, exit_date DATE, employed_q2 BOOLEAN, employed_q4 BOOLEAN, "
        "earnings_q2 DECIMAL(14,2)",
    )
