"""`gold.person_timeline`: one row per person and period, across every segment, keyed by person id only.

Two kinds of period: the academic year (July to June, labelled by its ending year) for school,
college, credentials, teaching, benefits and services, and the wage quarter (YRQTR) for UI wages.
Events reach the timeline through the identity crosswalk (`record_token -> person_id`); an event whose
record no person owns is left out (the silver gate already quarantines events without a person
record, so this only happens when identity lags behind silver).

All events go into one union with a common wide shape, one join with the crosswalk and one
group-by, so the timeline costs the same two shuffles however many sources feed it.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

# The columns are declared with the table (lakehouse/tables/gold.py); TIMELINE_COLUMNS is re-exported.
from lakehouse.tables.gold import TIMELINE_COLUMNS as TIMELINE_COLUMNS
from lakehouse.tables.gold import TIMELINE_FIELDS

ACADEMIC_YEAR = "academic_year"
WAGE_QUARTER = "wage_quarter"

# Used while building, not kept: orders several enrollments of one year.
WORKING_FIELDS = (("_k12_entry", "DATE"),)

# Academic calendar convention (the segments' published calendars, to the half month): a fall term
# starts in August of the academic year's first calendar year; winter and spring in January, summer in
# June of its ending year. Windows such as "within 16 months" are measured from these dates.
TERM_START = {"FA": (-1, 8, 15), "WI": (0, 1, 5), "SP": (0, 1, 15), "SU": (0, 6, 15)}


def term_start(academic_year: Column, term: Column) -> Column:
    """The start date of a college term from its academic year and term code (FA/WI/SP/SU)."""
    expr = None
    for code, (offset, month, day) in TERM_START.items():
        start = F.make_date(academic_year + F.lit(offset), F.lit(month), F.lit(day))
        expr = F.when(term == code, start) if expr is None else expr.when(term == code, start)
    return expr


def with_person_id(events: DataFrame, crosswalk: DataFrame) -> DataFrame:
    """Replace `record_token` by the person who owns the record (inner join: unowned events drop out)."""
    owners = crosswalk.select("record_token", "person_id")
    return events.join(owners, "record_token").drop("record_token")


def _shape(df: DataFrame, period_type: str, period: Column, **values: Column) -> DataFrame:
    """One event as a timeline-shaped row: every timeline column, null where this source says nothing."""
    cols = [F.col("record_token"), F.lit(period_type).alias("period_type")]
    cols.append(period.cast("int").alias("period"))
    for name, kind in TIMELINE_FIELDS[3:] + WORKING_FIELDS:
        cols.append((values[name] if name in values else F.lit(None)).cast(kind).alias(name))
    return df.select(*cols)


def build_person_timeline(
    *,
    crosswalk: DataFrame,
    k12_enrollments: DataFrame | None = None,
    completions: DataFrame | None = None,
    college_enrollments: DataFrame | None = None,
    credentials: DataFrame | None = None,
    staff_assignments: DataFrame | None = None,
    wages: DataFrame | None = None,
    benefits: DataFrame | None = None,
    services: DataFrame | None = None,
    aid: DataFrame | None = None,
) -> DataFrame:
    """Every event of every person placed in its period; a missing source simply contributes nothing."""
    ay = ACADEMIC_YEAR
    parts: list[DataFrame] = []

    def add(events: DataFrame | None, period_type: str, period: str | Column, **values: Column) -> None:
        if events is not None:
            parts.append(
                _shape(events, period_type, F.col(period) if isinstance(period, str) else period, **values)
            )

    add(
        k12_enrollments, ay, "academic_year",
        k12_district=F.col("district_code"), k12_grade=F.col("grade"), k12_exit=F.col("exit_category"),
        _k12_entry=F.col("entry_date"),
    )  # fmt: skip
    if completions is not None:
        k12 = F.col("segment").eqNullSafe("K12")
        diplomas = completions.where(k12)
        awards = completions.where(~k12)  # an award of an unmapped institution (null segment) stays
        add(diplomas, ay, "academic_year", hs_completion=F.col("award_level"))
        award = F.struct(
            F.col("award_date").alias("award_date"), "segment", F.col("award_level").alias("award_level")
        )
        add(awards, ay, "academic_year", awards=F.array(award))
    if college_enrollments is not None:
        term = F.struct(
            term_start(F.col("academic_year"), F.col("term")).alias("start"), "segment", "institution", "term"
        )
        add(college_enrollments, ay, "academic_year", college_terms=F.array(term))
    add(credentials, ay, "academic_year", credentials=F.array(F.col("credential_kind")))
    if staff_assignments is not None:
        teachers = F.col("is_teacher")
        add(
            staff_assignments, ay, "academic_year",
            teaching=teachers, teaching_district=F.when(teachers, F.col("district_code")),
            staff_fte=F.col("fte"),
        )  # fmt: skip
    add(wages, WAGE_QUARTER, "yrqtr", wages=F.col("wages"), employers=F.lit(1))
    # A benefit spell belongs to every academic year it touches.
    spell_years = F.sequence(
        _academic_year(F.col("start_month")), _academic_year(F.coalesce("end_month", "start_month"))
    )
    if benefits is not None:
        spells = benefits.withColumn("_year", F.explode(spell_years))
        add(spells, ay, "_year", benefit_programs=F.array(F.col("program")))
    add(services, ay, "service_year", service_programs=F.array(F.col("program")))
    add(aid, ay, "award_year", aid_amount=F.col("amount"))
    if not parts:
        raise ValueError("build_person_timeline: no source tables given")
    union = parts[0]
    for p in parts[1:]:
        union = union.unionByName(p)
    # One join with the crosswalk for all sources at once, not one per source.
    union = with_person_id(union, crosswalk)
    return union.groupBy("person_id", "period_type", "period").agg(*_period_aggregates())


def _academic_year(day: Column) -> Column:
    return F.year(day) + F.when(F.month(day) >= 7, 1).otherwise(0)


def _set(name: str) -> Column:
    """The distinct non-null elements of an array column across the period's events, sorted."""
    return F.array_sort(F.array_distinct(F.flatten(F.collect_list(F.coalesce(name, F.array()))))).alias(name)


def _period_aggregates() -> list[Column]:
    # Several enrollments in one year (a move mid-year): the last one's district and exit, the highest
    # grade. A standard diploma wins over another completion of the same year (two linked records).
    last = F.struct("k12_grade", "_k12_entry")
    completions = F.collect_set("hs_completion")
    return [
        F.max_by("k12_district", last).alias("k12_district"),
        F.max("k12_grade").alias("k12_grade"),
        F.max_by("k12_exit", last).alias("k12_exit"),
        F.when(F.array_contains(completions, "standard_diploma"), F.lit("standard_diploma"))
        .otherwise(F.array_min(completions))
        .alias("hs_completion"),
        _set("college_terms"),
        _set("awards"),
        _set("credentials"),
        F.max("teaching").alias("teaching"),
        F.min("teaching_district").alias("teaching_district"),
        F.sum("staff_fte").alias("staff_fte"),
        _set("benefit_programs"),
        _set("service_programs"),
        F.sum("aid_amount").cast("decimal(12,2)").alias("aid_amount"),
        F.sum("wages").cast("decimal(14,2)").alias("wages"),
        F.sum("employers").cast("int").alias("employers"),
    ]
