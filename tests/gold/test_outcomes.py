"""Outcome rules on hand-made timelines: the window edges, censoring at the vintage (null, never false),
mid-year exits, re-entry, and people who vanish from the records."""

from __future__ import annotations

from functools import reduce

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.gold.outcomes import (
    college_enrollment_within,
    completion_within,
    employed_after_exit,
    employed_in_fiscal_year,
    employed_in_quarter_after_exit,
    first_college_within,
    teaching_after_placement,
    teaching_within,
)
from lakehouse.gold.timeline import WAGE_QUARTER
from tests.gold.frames import assert_frame, gold_inputs, timeline

RESULT = "person_id STRING, outcome BOOLEAN, value DOUBLE, value_year INT"
LABELLED = "rule STRING, person_id STRING, outcome BOOLEAN"
NORMAL_YEARS = {"CCC": 2, "CSU": 4, "UC": 4, "AICCU": 4}


def cohort(spark, *members: tuple[str, int]) -> DataFrame:
    return spark.createDataFrame(list(members), "person_id STRING, cohort_year INT")


def labelled(**results: DataFrame) -> DataFrame:
    """Several rule results as one frame: rule label, person, outcome."""
    parts = [r.select(F.lit(label).alias("rule"), "person_id", "outcome") for label, r in results.items()]
    return reduce(DataFrame.unionByName, parts)


def teach(person: str, year: int, district: str, fte: float = 1.0, teaching: bool = True) -> dict:
    return {
        "person_id": person, "period": year, "teaching": teaching,
        "teaching_district": district if teaching else None, "staff_fte": fte,
    }  # fmt: skip


def wages(person: str, yrqtr: int, amount: float) -> dict:
    return {"person_id": person, "period_type": WAGE_QUARTER, "period": yrqtr, "wages": amount}


def terms(person: str, year: int, *starts: tuple[str, str]) -> dict:
    """College terms of one academic year: (start date, segment) each."""
    return {
        "person_id": person,
        "period": year,
        "college_terms": [(start, segment, "X", "FA") for start, segment in starts],
    }


def award(person: str, year: int, level: str, segment: str = "CCC") -> dict:
    return {"person_id": person, "period": year, "awards": [(f"{year}-05-30", segment, level)]}


def test_placement_and_retention_with_reentry_vanishing_and_censoring(spark):
    t = timeline(
        spark,
        # A: placed in the cohort year, teaches in another district in year 3.
        teach("A", 2018, "D1"), teach("A", 2019, "D1"), teach("A", 2021, "D2"), teach("A", 2023, "D1"),
        # B: placed in Y+1 (left mid-year: 0.4 FTE still counts), out two years, back in placement + 3.
        teach("B", 2019, "D3", fte=0.4), teach("B", 2022, "D3"),
        # C: teaches in the cohort year and is never seen again.
        teach("C", 2018, "D1"),
        # D: first teaches in Y+2, too late to be placed. H: staff, but not a teacher.
        teach("D", 2020, "D1"),
        teach("H", 2018, "D1", teaching=False), teach("H", 2019, "D1", teaching=False),
        # E: cohort 2023, placed; 3 and 5 years after lie past the vintage. F: cohort 2024.
        teach("E", 2023, "D5"), teach("F", 2024, "D6"),
    )  # fmt: skip
    members = cohort(
        spark, ("A", 2018), ("B", 2018), ("C", 2018), ("D", 2018), ("H", 2018), ("E", 2023), ("F", 2024)
    )
    inputs = gold_inputs(spark, timeline_rows=t, vintage=2024)
    actual = labelled(
        placed=teaching_within(members, inputs, years=1),
        **{
            f"{'same_' if same else ''}{k}y": teaching_after_placement(
                members, inputs, years=k, same_district=same
            )
            for k in (1, 3, 5)
            for same in (False, True)
        },
    )
    expected = {
        #       A     B      C      D      H      E      F
        "placed": (True, True, True, False, False, True, None),
        "1y": (True, False, False, None, None, False, None),
        "3y": (True, True, False, None, None, None, None),
        "5y": (True, False, False, None, None, None, None),
        "same_1y": (True, False, False, None, None, False, None),
        "same_3y": (False, True, False, None, None, None, None),
        "same_5y": (True, False, False, None, None, None, None),
    }
    rows = [(rule, p, o) for rule, by in expected.items() for p, o in zip("ABCDHEF", by, strict=True)]
    assert_frame(actual, rows, LABELLED)


def test_placement_and_retention_give_no_value(spark):
    t = timeline(spark, teach("A", 2018, "D1"), teach("A", 2019, "D1"))
    inputs = gold_inputs(spark, timeline_rows=t, vintage=2024)
    members = cohort(spark, ("A", 2018))
    assert_frame(teaching_within(members, inputs, years=1), [("A", True, None, None)], RESULT)
    assert_frame(teaching_after_placement(members, inputs, years=1), [("A", True, None, None)], RESULT)


def test_employed_in_the_fiscal_year_after_the_cohort_year(spark):
    t = timeline(
        spark,
        wages("W1", 20203, 500), wages("W1", 20212, 600),  # fiscal 2021 = 20203..20212
        wages("W2", 20213, 700),  # fiscal 2022: outside the window
        wages("W4", 20223, 100),
        wages("W5", 20204, 0.5),  # below the $1 threshold
        wages("W6", 20221, 50), wages("W6", 20222, 50),
        wages("W7", 20194, 900),  # worked before the cohort year, then vanished
    )  # fmt: skip
    members = cohort(
        spark,
        ("W1", 2020),
        ("W2", 2020),
        ("W3", 2020),
        ("W4", 2022),
        ("W5", 2020),
        ("W6", 2021),
        ("W7", 2020),
    )
    inputs = gold_inputs(spark, timeline_rows=t, vintage=2022)
    assert_frame(
        employed_in_fiscal_year(members, inputs, years=1),
        [
            ("W1", True, 1100.0, 2021),
            ("W2", False, None, 2021),
            ("W3", False, None, 2021),  # no wage record at all: not employed, the window is observed
            ("W4", None, None, 2023),  # fiscal 2023 lies past the vintage: censored
            ("W5", False, None, 2021),
            ("W6", True, 100.0, 2022),
            ("W7", False, None, 2021),
        ],
        RESULT,
    )


def test_college_enrollment_within_16_months_and_8_years(spark):
    t = timeline(
        spark,
        terms("S1", 2022, ("2021-08-15", "CCC")),  # fall of Y+2: starts before October 31 of Y+1
        terms("S2", 2020, ("2020-06-15", "CCC")),  # summer of the graduation year: before July 1
        terms("S3", 2022, ("2022-01-05", "CCC")),  # winter of Y+2: too late for 16 months
        terms("S4", 2021, ("2021-06-15", "CCC")),
        terms("S6", 2023, ("2022-08-15", "UC")),
        terms("S7", 2024, ("2023-08-15", "CSU")),
        terms("L1", 2024, ("2024-01-05", "CSU")),
        terms("L2", 2024, ("2024-06-15", "CCC")),
        terms("L3", 2025, ("2024-08-15", "CCC")),
        terms("L4", 2018, ("2017-08-15", "CCC")),
    )  # fmt: skip
    members = cohort(
        spark,
        *[(p, 2020) for p in ("S1", "S2", "S3", "S4", "S5")],
        ("S6", 2022), ("S7", 2023), ("L1", 2016), ("L2", 2016), ("L3", 2016), ("L4", 2017),
    )  # fmt: skip
    inputs = gold_inputs(spark, timeline_rows=t, vintage=2024)
    actual = labelled(
        m16=college_enrollment_within(members, inputs, months=16),
        m96=college_enrollment_within(members, inputs, months=96),
    )
    expected = {
        # 16 months from July 1 of Y is observed once academic year Y + 2 is in (S7: not yet).
        "m16": {"S1": True, "S2": False, "S3": False, "S4": True, "S5": False, "S6": True, "S7": None,
                "L1": False, "L2": False, "L3": False, "L4": True},
        # 8 years: through June 30 of Y + 8 (only the 2016 cohort is observed at vintage 2024).
        "m96": {"S1": None, "S2": None, "S3": None, "S4": None, "S5": None, "S6": None, "S7": None,
                "L1": True, "L2": True, "L3": False, "L4": None},
    }  # fmt: skip
    assert_frame(actual, [(rule, p, o) for rule, by in expected.items() for p, o in by.items()], LABELLED)


def test_completion_within_150_percent_of_normal_time(spark):
    fall = {y: f"{y - 1}-08-15" for y in range(2020, 2026)}
    t = timeline(
        spark,
        terms("C1", 2021, (fall[2021], "CCC")), award("C1", 2023, "associate"),  # first year + 2: in
        terms("C2", 2021, (fall[2021], "CCC")), award("C2", 2024, "associate"),  # first year + 3: out
        terms("C3", 2021, (fall[2021], "CSU")), award("C3", 2026, "bachelor", "CSU"),  # + 5: in
        # A four-year start counts only a bachelor's, and only through first year + 5.
        terms("C4", 2021, (fall[2021], "CSU")), award("C4", 2022, "associate"),
        terms("C14", 2021, (fall[2021], "AICCU")), award("C14", 2027, "bachelor", "AICCU"),
        terms("C5", 2021, (fall[2021], "CCC")), award("C5", 2022, "certificate"),
        # A completed teacher-preparation program is not an award.
        terms("C13", 2021, (fall[2021], "CCC")), award("C13", 2022, "credential_program", "CSU"),
        # Dual enrollment before graduation is not the first college: UC is (window 5, not 2).
        terms("C6", 2020, ("2020-01-15", "CCC")), terms("C6", 2021, (fall[2021], "UC")),
        award("C6", 2026, "bachelor", "UC"),
        terms("C8", 2022, (fall[2022], "CSU")),  # + 5 = 2027 lies past the vintage
        terms("C9", 2024, (fall[2024], "CCC")),  # + 2 = 2026: observed, nothing earned
        terms("C10", 2025, (fall[2025], "CCC")),  # + 2 = 2027: censored
        terms("C11", 2021, (fall[2021], "CCC")), award("C11", 2023, "bachelor"),  # a CCC bachelor's
        # An associate earned in high school (before the first college year) does not count.
        terms("C12", 2021, (fall[2021], "CCC")), award("C12", 2020, "associate"),
    )  # fmt: skip
    members = cohort(
        spark,
        *[(p, 2020) for p in ("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C11", "C12", "C13", "C14")],
        ("C8", 2021), ("C9", 2023), ("C10", 2024),
    )  # fmt: skip
    inputs = gold_inputs(spark, timeline_rows=t, vintage=2026)
    expected = {
        "C1": True, "C2": False, "C3": True, "C4": False, "C5": True, "C6": True, "C7": None,
        "C8": None, "C9": False, "C10": None, "C11": True, "C12": False, "C13": False, "C14": False,
    }  # fmt: skip
    assert_frame(
        completion_within(members, inputs, normal_years=NORMAL_YEARS, factor=1.5),
        [(p, o, None, None) for p, o in expected.items()],
        RESULT,
    )


def test_time_to_degree_at_100_and_200_percent_of_normal_time(spark):
    fall = "2020-08-15"
    t = timeline(
        spark,
        terms("T1", 2021, (fall, "CCC")), award("T1", 2022, "associate"),  # first year + 1
        terms("T2", 2021, (fall, "CCC")), award("T2", 2024, "certificate"),  # + 3
        terms("T3", 2021, (fall, "UC")), award("T3", 2024, "bachelor", "UC"),  # + 3
        terms("T4", 2021, (fall, "CSU")), award("T4", 2028, "bachelor", "CSU"),  # + 7
        terms("T5", 2021, (fall, "CSU")), award("T5", 2029, "bachelor", "CSU"),  # + 8
    )  # fmt: skip
    members = cohort(spark, *[(p, 2020) for p in ("T1", "T2", "T3", "T4", "T5")])
    inputs = gold_inputs(spark, timeline_rows=t, vintage=2030)
    actual = labelled(
        normal=completion_within(members, inputs, normal_years=NORMAL_YEARS, factor=1),
        double=completion_within(members, inputs, normal_years=NORMAL_YEARS, factor=2),
    )
    expected = {
        # Normal time: 2 years at a community college (first year + 1), 4 at a four-year (+ 3).
        "normal": {"T1": True, "T2": False, "T3": True, "T4": False, "T5": False},
        # Twice normal: 4 years (+ 3) and 8 years (+ 7).
        "double": {"T1": True, "T2": True, "T3": True, "T4": True, "T5": False},
    }
    assert_frame(actual, [(rule, p, o) for rule, by in expected.items() for p, o in by.items()], LABELLED)


def test_first_college_within_16_months_by_segment(spark):
    t = timeline(
        spark,
        terms("F1", 2021, ("2020-08-15", "CCC")),
        terms("F2", 2021, ("2021-01-05", "UC"), ("2021-03-01", "CCC")),  # the earliest term counts
        terms("F3", 2021, ("2020-09-01", None)),  # an institution no code maps to a segment
        terms("F4", 2021, ("2020-08-20", "CSU"), ("2020-08-20", "CCC")),  # one day: alphabetical order
        terms("F5", 2020, ("2020-06-15", "CCC")), terms("F5", 2021, ("2020-08-20", "CSU")),  # dual enrollment
        terms("F7", 2024, ("2023-08-15", "CCC")),  # cohort 2023: 16 months not yet observed
        terms("F8", 2022, ("2022-01-05", "AICCU")),  # after the 16 months
        terms("F9", 2021, ("2020-09-01", "AICCU")),
    )  # fmt: skip
    members = cohort(
        spark, *[(p, 2020) for p in ("F1", "F2", "F3", "F4", "F5", "F6", "F8", "F9")], ("F7", 2023)
    )
    inputs = gold_inputs(spark, timeline_rows=t, vintage=2024)
    segments = {"CCC": "ccc", "CSU": "csu", "UC": "uc", "AICCU": "aiccu", "other": "other"}
    actual = labelled(
        **{
            label: first_college_within(members, inputs, months=16, segment=s)
            for s, label in segments.items()
        }
    )
    first = {
        "F1": "ccc",
        "F2": "uc",
        "F3": "other",
        "F4": "ccc",
        "F5": "csu",
        "F6": None,
        "F8": None,
        "F9": "aiccu",
    }
    expected = [(label, p, f == label) for label in segments.values() for p, f in first.items()]
    expected += [(label, "F7", None) for label in segments.values()]
    assert_frame(actual, expected, LABELLED)


def test_employment_after_the_last_enrollment_or_award(spark):
    fall_spring = (("2019-08-15", "CCC"), ("2020-01-15", "CCC"))
    t = timeline(
        spark,
        wages("X1", 20183, 1000), wages("X1", 20224, 200),  # never enrolled: exit = graduation year
        # X2 leaves mid-year after the fall of 2021, with an associate that year.
        terms("X2", 2020, *fall_spring), terms("X2", 2021, ("2020-08-15", "CCC")),
        award("X2", 2021, "associate"), wages("X2", 20221, 3000),
        # X3: a credential program completed later is not an exit year.
        terms("X3", 2019, ("2018-08-15", "CSU")), award("X3", 2023, "credential_program", "CSU"),
        wages("X3", 20234, 800),
        terms("X4", 2019, ("2018-08-15", "CSU")), award("X4", 2023, "bachelor", "CSU"),
        wages("X4", 20233, 2500),
        terms("X5", 2024, ("2023-08-15", "CCC")), wages("X5", 20243, 700),  # exit 2024: fiscal 2025
        terms("X6", 2019, ("2018-08-15", "CCC")),  # vanishes after 2019
        terms("X7", 2017, ("2016-08-15", "CCC")), wages("X7", 20191, 400),  # dual enrollment only
    )  # fmt: skip
    members = cohort(spark, *[(f"X{i}", 2018) for i in range(1, 8)])
    inputs = gold_inputs(spark, timeline_rows=t, vintage=2024)
    assert_frame(
        employed_after_exit(members, inputs, years=1),
        [
            ("X1", True, 1000.0, 2019),
            ("X2", True, 3000.0, 2022),
            ("X3", False, None, 2020),
            ("X4", True, 2500.0, 2024),
            ("X5", None, None, 2025),
            ("X6", False, None, 2020),
            ("X7", True, 400.0, 2019),
        ],
        RESULT,
    )
    assert_frame(
        employed_after_exit(members, inputs, years=5),
        [
            ("X1", True, 200.0, 2023),
            ("X2", None, None, 2026),
            ("X3", True, 800.0, 2024),
            ("X4", None, None, 2028),
            ("X5", None, None, 2029),
            ("X6", False, None, 2024),
            ("X7", False, None, 2023),
        ],
        RESULT,
    )


def test_employment_in_the_second_and_fourth_quarter_after_a_program_exit(spark):
    t = timeline(
        spark,
        wages("X1", 20234, 2000), wages("X1", 20242, 0),  # exit in 20232: q2 = 20234, q4 = 20242
        wages("X2", 20243, 0.5),  # exit in 20241: q2 = 20243 below $1; q4 = 20251 lies past the data
        wages("X4", 20244, 100),  # exit in 20234: q2 = 20242 no record; q4 = 20244, the last quarter
    )  # fmt: skip
    members = spark.createDataFrame(
        [("X1", 2023, "2023-05-10"), ("X2", 2024, "2024-02-01"), ("X3", 2025, "2024-12-31"),
         ("X4", 2024, "2023-12-31"), ("X5", 2023, "2023-01-15")],
        "person_id STRING, cohort_year INT, exit_date STRING",
    ).withColumn("exit_date", F.to_date("exit_date"))  # fmt: skip
    inputs = gold_inputs(spark, timeline_rows=t)
    assert_frame(
        employed_in_quarter_after_exit(members, inputs, quarters=2),
        [
            ("X1", True, 2000.0, 2024),  # 20234 is in fiscal year 2024
            ("X2", False, None, 2025),
            ("X3", None, None, 2025),  # q2 = 20252: past the data, censored
            ("X4", False, None, 2024),
            ("X5", False, None, 2024),  # no wages at all, the quarter (20233, fiscal 2024) observed
        ],
        RESULT,
    )
    assert_frame(
        employed_in_quarter_after_exit(members, inputs, quarters=4),
        [
            ("X1", False, None, 2024),
            ("X2", None, None, 2025),
            ("X3", None, None, 2026),
            ("X4", True, 100.0, 2025),
            ("X5", False, None, 2024),
        ],
        RESULT,
    )
