"""Outcome rules: for each cohort member, did the outcome happen within its window, and its value.

A rule is `fn(cohort, inputs, **window)` returning person_id, outcome BOOLEAN, value DOUBLE and
value_year INT, one row per cohort member. `outcome` is null when the window reaches past the data
vintage (censored: the person leaves the denominator instead of counting as a failure) or when the
rule does not apply to the person (e.g. retention of someone never placed). `value` is the amount a
median metric summarizes (annual wages), null when there is none, and `value_year` the fiscal year
it was earned in. `OUTCOMES` maps each rule name to its function and the window keys it accepts,
which the catalog checks.
"""

from __future__ import annotations

import math

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.gold.cohorts import GoldInputs
from lakehouse.gold.timeline import ACADEMIC_YEAR
from lakehouse.gold.wages import annual_wages, employed, with_wages_after_exit

NON_AWARDS = ("credential_program",)  # completed teacher-preparation programs are not degrees


def _academic(inputs: GoldInputs) -> DataFrame:
    return inputs.timeline.where(F.col("period_type") == ACADEMIC_YEAR)


def _result(
    df: DataFrame, observed: Column, outcome: Column, value: Column | None = None, year: Column | None = None
) -> DataFrame:
    value = F.lit(None) if value is None else value
    return df.select(
        "person_id",
        F.when(observed, F.coalesce(outcome, F.lit(False))).alias("outcome"),
        F.when(observed & outcome, value).cast("double").alias("value"),
        (F.lit(None) if year is None else year).cast("int").alias("value_year"),
    )


def _teaching(inputs: GoldInputs) -> DataFrame:
    return _academic(inputs).where(F.col("teaching")).select("person_id", "period", "teaching_district")


def placement(cohort: DataFrame, inputs: GoldInputs, *, years: int = 1) -> DataFrame:
    """person_id, placement_year, placement_district: the first year of teaching in [Y, Y + years]."""
    teaching = _teaching(inputs).join(cohort.select("person_id", "cohort_year"), "person_id")
    teaching = teaching.where(F.col("period").between(F.col("cohort_year"), F.col("cohort_year") + years))
    return teaching.groupBy("person_id").agg(
        F.min("period").alias("placement_year"),
        F.min_by("teaching_district", "period").alias("placement_district"),
    )


def teaching_within(cohort: DataFrame, inputs: GoldInputs, *, years: int = 1) -> DataFrame:
    """Teaching (job class 12) in a California public school in the cohort year or the `years` after."""
    placed = placement(cohort, inputs, years=years)
    df = cohort.join(placed, "person_id", "left")
    observed = F.col("cohort_year") + years <= inputs.vintage
    return _result(df, observed, F.col("placement_year").isNotNull())


def teaching_after_placement(
    cohort: DataFrame,
    inputs: GoldInputs,
    *,
    years: int,
    same_district: bool = False,
    placement_years: int = 1,
) -> DataFrame:
    """Teaching `years` after the placement year (in the placement district if `same_district`)."""
    placed = placement(cohort, inputs, years=placement_years)
    later = _teaching(inputs).select(
        "person_id",
        (F.col("period") - years).alias("placement_year"),
        F.col("teaching_district").alias("later"),
    )
    df = cohort.join(placed, "person_id", "left").join(later, ["person_id", "placement_year"], "left")
    outcome = F.col("later").isNotNull()
    if same_district:
        outcome = F.col("later") == F.col("placement_district")
    observed = F.col("placement_year").isNotNull() & (F.col("placement_year") + years <= inputs.vintage)
    return _result(df, observed, outcome)


def _employment(df: DataFrame, inputs: GoldInputs, year: Column) -> DataFrame:
    """Employment and annual wages in fiscal year `year` (a column of df), censored past the vintage."""
    wages = annual_wages(inputs.timeline).withColumnRenamed("fiscal_year", "_fy")
    df = df.withColumn("_fy", year).join(wages, ["person_id", "_fy"], "left")
    observed = F.col("_fy") <= inputs.vintage
    outcome = employed(F.col("annual_wages"), inputs.employment_threshold)
    return _result(df, observed, outcome, F.col("annual_wages"), F.col("_fy"))


def employed_in_fiscal_year(cohort: DataFrame, inputs: GoldInputs, *, years: int = 1) -> DataFrame:
    """Any UI wages (at least the employment threshold) in fiscal year Y + `years`, and their sum."""
    return _employment(cohort, inputs, F.col("cohort_year") + years)


def _terms(inputs: GoldInputs) -> DataFrame:
    return (
        _academic(inputs)
        .select("person_id", "period", F.explode("college_terms").alias("t"))
        .select("person_id", F.col("period").alias("term_year"), "t.start", "t.segment")
    )


def college_enrollment_within(cohort: DataFrame, inputs: GoldInputs, *, months: int) -> DataFrame:
    """A college term starting from July 1 of the graduation year through `months` months later."""
    start = F.make_date(F.col("cohort_year"), F.lit(7), F.lit(1))
    end = F.date_sub(F.add_months(start, months), 1)
    df = cohort.select("person_id", "cohort_year").withColumn("_start", start).withColumn("_end", end)
    terms = _terms(inputs).join(df, "person_id").where(F.col("start").between(F.col("_start"), F.col("_end")))
    enrolled = terms.select("person_id", F.lit(True).alias("enrolled")).distinct()
    df = df.join(enrolled, "person_id", "left")
    observed = F.col("_end") <= F.make_date(F.lit(inputs.vintage), F.lit(6), F.lit(30))
    return _result(df, observed, F.col("enrolled"))


SEGMENTS = ("CCC", "CSU", "UC", "AICCU")  # the segments the institution codes map to
OTHER = "other"


def first_college_within(cohort: DataFrame, inputs: GoldInputs, *, months: int, segment: str) -> DataFrame:
    """Enrolled within `months` as `college_enrollment_within`, and the first term in that window was at
    `segment`: one of SEGMENTS, or "other" for any other or unmapped institution. Every enrolled
    member has exactly one first term, so the segments' parts add up to the enrolled (the catalog's
    `parts` tells disclosure control so). Two first terms on one day: the segment first in
    alphabetical order."""
    if segment != OTHER and segment not in SEGMENTS:
        raise ValueError(f"segment must be one of {', '.join(SEGMENTS)} or {OTHER!r}, not {segment!r}")
    start = F.make_date(F.col("cohort_year"), F.lit(7), F.lit(1))
    end = F.date_sub(F.add_months(start, months), 1)
    df = cohort.select("person_id", "cohort_year").withColumn("_start", start).withColumn("_end", end)
    terms = _terms(inputs).join(df, "person_id").where(F.col("start").between(F.col("_start"), F.col("_end")))
    known = F.coalesce(F.col("segment"), F.lit("")).isin(*SEGMENTS)
    code = F.when(known, F.col("segment")).otherwise(F.lit(OTHER))
    first = terms.groupBy("person_id").agg(F.min(F.struct(F.col("start"), code.alias("s"))).alias("f"))
    df = df.join(first.select("person_id", F.col("f.s").alias("first_segment")), "person_id", "left")
    observed = F.col("_end") <= F.make_date(F.lit(inputs.vintage), F.lit(6), F.lit(30))
    return _result(df, observed, F.coalesce(F.col("first_segment") == segment, F.lit(False)))


def completion_within(
    cohort: DataFrame, inputs: GoldInputs, *, normal_years: dict, factor: float = 1.5
) -> DataFrame:
    """A certificate, associate or bachelor's (community-college start) or a bachelor's (four-year start)
    within `factor` times the normal time of the first college attended after graduation."""
    first = (
        _terms(inputs)
        .join(cohort.select("person_id", "cohort_year"), "person_id")
        .where(F.col("start") >= F.make_date(F.col("cohort_year"), F.lit(7), F.lit(1)))
        .groupBy("person_id")
        .agg(F.min_by(F.struct("term_year", "segment"), "start").alias("f"))
        .select(
            "person_id", F.col("f.term_year").alias("first_year"), F.col("f.segment").alias("first_segment")
        )
    )
    windows = {seg: math.ceil(n * factor) - 1 for seg, n in normal_years.items()}
    window = F.element_at(
        F.create_map(*[F.lit(v) for kv in windows.items() for v in kv]), F.col("first_segment")
    )
    levels = F.when(
        F.col("first_segment") == "CCC", F.array(*map(F.lit, ("certificate", "associate", "bachelor")))
    )
    levels = levels.otherwise(F.array(F.lit("bachelor")))
    awards = _academic(inputs).select("person_id", "period", F.explode("awards").alias("a"))
    df = cohort.select("person_id").join(first, "person_id", "left")
    df = df.withColumn("_window", window).withColumn("_levels", levels)
    done = (
        df.join(awards, "person_id")
        .where(F.col("period").between(F.col("first_year"), F.col("first_year") + F.col("_window")))
        .where(F.array_contains(F.col("_levels"), F.col("a.award_level")))
        .select("person_id", F.lit(True).alias("completed"))
        .distinct()
    )
    df = df.join(done, "person_id", "left")
    observed = F.col("first_year").isNotNull() & (F.col("first_year") + F.col("_window") <= inputs.vintage)
    return _result(df, observed, F.col("completed"))


def employed_after_exit(cohort: DataFrame, inputs: GoldInputs, *, years: int) -> DataFrame:
    """Employment and annual wages in the fiscal year `years` after the last year of enrollment or award
    (the graduation year for those who never enrolled)."""
    academic = _academic(inputs)
    last_term = F.size("college_terms") > 0
    last_award = F.exists("awards", lambda a: ~a["award_level"].isin(*NON_AWARDS))
    school = academic.where(last_term | last_award).groupBy("person_id").agg(F.max("period").alias("_last"))
    df = cohort.select("person_id", "cohort_year").join(school, "person_id", "left")
    exit_year = F.greatest(F.col("cohort_year"), F.coalesce(F.col("_last"), F.col("cohort_year")))
    return _employment(df, inputs, exit_year + years)


def employed_in_quarter_after_exit(cohort: DataFrame, inputs: GoldInputs, *, quarters: int) -> DataFrame:
    """WIOA style: UI wages (at least the employment threshold) in the `quarters`-th quarter after the
    quarter of `exit_date`, and that quarter's earnings; censored past the last quarter of wage data."""
    df = with_wages_after_exit(
        cohort.select("person_id", "exit_date"), inputs.timeline, quarters=quarters, prefix="_after"
    )
    outcome = employed(F.col("_after_wages"), inputs.employment_threshold)
    return _result(df, F.col("_after_observed"), outcome, F.col("_after_wages"), F.col("_after_year"))


OUTCOMES = {
    "teaching_within": (teaching_within, ("years",)),
    "teaching_after_placement": (teaching_after_placement, ("years", "same_district", "placement_years")),
    "employed_in_fiscal_year": (employed_in_fiscal_year, ("years",)),
    "college_enrollment_within": (college_enrollment_within, ("months",)),
    "first_college_within": (first_college_within, ("months", "segment")),
    "completion_within": (completion_within, ("normal_years", "factor")),
    "employed_after_exit": (employed_after_exit, ("years",)),
    "employed_in_quarter_after_exit": (employed_in_quarter_after_exit, ("quarters",)),
}
