"""Cohort rules: who is in a mart's cohort for year Y, with the attributes its breakdowns need.

A rule is `fn(inputs: GoldInputs) -> DataFrame[person_id, cohort_year, <breakdowns...>, <anchors...>]`,
one row per person (a person is in at most one cohort of a mart). Breakdown values are never null: a
missing attribute is the group "Unknown", so that every dimension's groups add up to the statewide
total (which disclosure control relies on).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.gold.timeline import ACADEMIC_YEAR, with_person_id
from lakehouse.silver.codes import map_code

UNKNOWN = "Unknown"
NOT_TEACHING = "Not teaching"
TEACHING_CREDENTIALS = ("preliminary", "intern")
LOW_INCOME_PROGRAMS = ("calfresh", "medi_cal")
WORKFORCE_PROGRAMS = ("wioa_adult", "wioa_dislocated_worker", "wioa_youth", "apprenticeship")
ENGLISH_LEARNER_STATUSES = ("english_learner", "reclassified_fluent")


@dataclass(frozen=True)
class GoldInputs:
    """What cohort and outcome rules read: the timeline, the crosswalk, the silver event tables rules need
    detail from, per-person attributes, the geography code maps and the data vintage."""

    timeline: DataFrame
    crosswalk: DataFrame
    silver: dict[str, DataFrame]  # silver table name -> frame (only those that exist)
    people: DataFrame  # person_id, gender, race_ethnicity
    geography: dict[str, dict[str, str]]  # institution_county, county_region
    vintage: int
    employment_threshold: float


def person_attributes(
    crosswalk: DataFrame, person_records: DataFrame, demographics: DataFrame | None
) -> DataFrame:
    """person_id, gender, race_ethnicity: each the value most of the person's records give (ties: the
    latest record). Gender comes from every source's person records, race/ethnicity from CALPADS
    student and staff demographics (the only sources that report it)."""
    genders = with_person_id(
        person_records.select("record_token", F.col("gender").alias("value"), F.lit(0).alias("year")),
        crosswalk,
    )
    people = _mode(genders, "gender")
    if demographics is None:
        return people.withColumn("race_ethnicity", F.lit(None).cast("string"))
    races = with_person_id(
        demographics.where(F.col("race_ethnicity") != "Not reported").select(
            "record_token", F.col("race_ethnicity").alias("value"), F.col("academic_year").alias("year")
        ),
        crosswalk,
    )
    return people.join(_mode(races, "race_ethnicity"), "person_id", "full")


def _mode(values: DataFrame, name: str) -> DataFrame:
    counted = (
        values.where(F.col("value").isNotNull())
        .groupBy("person_id", "value")
        .agg(F.count("*").alias("n"), F.max("year").alias("latest"))
    )
    return counted.groupBy("person_id").agg(F.max_by("value", F.struct("n", "latest", "value")).alias(name))


def _known(column: Column) -> Column:
    return F.coalesce(column, F.lit(UNKNOWN))


def _yes_no(flag: Column) -> Column:
    return F.when(flag, "Yes").otherwise("No")


def first_teaching_credential(inputs: GoldInputs) -> DataFrame:
    """Cohort Y: people whose first preliminary or intern credential was issued in academic year Y.
    Breakdowns describe that first credential; county is where it was prepared (a district intern
    program's CDS district code begins with its county code), teaching_county where the person went
    on to teach."""
    creds = inputs.silver["credentials"].where(F.col("credential_kind").isin(*TEACHING_CREDENTIALS))
    owned = with_person_id(creds.where(F.col("issue_date").isNotNull()), inputs.crosswalk)
    first = owned.groupBy("person_id").agg(
        F.min_by(
            F.struct(
                "academic_year", "credential_kind", "subject", "preparing_institution", "preparing_segment"
            ),
            F.struct("issue_date", "document_token"),
        ).alias("c")
    )
    segment = F.col("c.preparing_segment")
    institution = F.col("c.preparing_institution")
    county = F.when(segment == "DISTRICT", F.substring(institution, 1, 2)).otherwise(
        map_code(institution, inputs.geography["institution_county"])
    )
    cohort = first.select(
        "person_id",
        F.col("c.academic_year").alias("cohort_year"),
        _known(F.col("c.credential_kind")).alias("credential_type"),
        _known(F.col("c.subject")).alias("subject"),
        _known(institution).alias("preparing_institution"),
        _known(segment).alias("segment"),
        _known(county).alias("county"),
        _known(map_code(county, inputs.geography["county_region"])).alias("region"),
    )
    return _with_people(_with_teaching_county(cohort, inputs), inputs.people)


def _with_teaching_county(cohort: DataFrame, inputs: GoldInputs) -> DataFrame:
    """`teaching_county`: where the person first taught in or after the cohort year, the county of that
    year's district (a CDS district code begins with its county code); "Not teaching" for someone who
    has not taught since. For anyone placed (teaching in the cohort year or the next), this is the
    county of the placement district, whatever window the catalog gives placement."""
    teaching = inputs.timeline.where((F.col("period_type") == ACADEMIC_YEAR) & F.col("teaching"))
    first = (
        cohort.select("person_id", "cohort_year")
        .join(teaching.select("person_id", "period", "teaching_district"), "person_id")
        .where(F.col("period") >= F.col("cohort_year"))
        .groupBy("person_id")
        .agg(F.min_by("teaching_district", "period").alias("_district"), F.max(F.lit(True)).alias("_taught"))
    )
    county = F.when(F.col("_taught").isNull(), F.lit(NOT_TEACHING)).otherwise(
        _known(F.substring("_district", 1, 2))
    )
    return (
        cohort.join(first, "person_id", "left")
        .withColumn("teaching_county", county)
        .drop("_district", "_taught")
    )


def _with_people(cohort: DataFrame, people: DataFrame) -> DataFrame:
    joined = cohort.join(people, "person_id", "left")
    return joined.withColumn("race_ethnicity", _known(F.col("race_ethnicity"))).withColumn(
        "gender", _known(F.col("gender"))
    )


def high_school_graduates(inputs: GoldInputs) -> DataFrame:
    """Cohort Y: standard-diploma graduates of academic year Y (the first such year, if a record says
    twice). Breakdowns: race/ethnicity, gender, low income (CalFresh or Medi-Cal in any of the four
    high-school years), English learner (ever EL or reclassified), foster, homeless, disability (ever
    flagged in CALPADS), and the district of the last K-12 enrollment up to graduation."""
    t = inputs.timeline.where(F.col("period_type") == ACADEMIC_YEAR)
    grads = (
        t.where(F.col("hs_completion") == "standard_diploma")
        .groupBy("person_id")
        .agg(F.min("period").alias("cohort_year"))
    )
    k12 = t.where(F.col("k12_district").isNotNull()).join(grads, "person_id")
    k12 = k12.where(F.col("period") <= F.col("cohort_year"))
    district = k12.groupBy("person_id").agg(F.max_by("k12_district", "period").alias("district"))
    in_high_school = (F.col("period") > F.col("cohort_year") - 4) & (F.col("period") <= F.col("cohort_year"))
    low_income = (
        t.join(grads, "person_id")
        .where(in_high_school)
        .select("person_id", F.explode("benefit_programs").alias("program"))
        .where(F.col("program").isin(*LOW_INCOME_PROGRAMS))
        .select("person_id", F.lit(True).alias("low_income"))
        .distinct()
    )
    flags = _student_flags(inputs)
    cohort = (
        grads.join(district, "person_id", "left")
        .join(low_income, "person_id", "left")
        .join(flags, "person_id", "left")
        .select(
            "person_id",
            "cohort_year",
            _yes_no(F.coalesce("low_income", F.lit(False))).alias("low_income"),
            *[
                _yes_no(F.coalesce(n, F.lit(False))).alias(n)
                for n in ("english_learner", "foster", "homeless", "disability")
            ],
            _known(F.col("district")).alias("district"),
        )
    )
    return _with_people(cohort, inputs.people)


def _student_snapshot() -> Column:
    """A CALPADS student snapshot (SINF) carries at least one program flag; a staff one (SDEM) none."""
    flags = ("ela_status", "foster", "homeless", "disability")
    return reduce(lambda a, b: a | b, [F.col(f).isNotNull() for f in flags])


def _student_flags(inputs: GoldInputs) -> DataFrame:
    demographics = inputs.silver.get("demographics")
    names = ("english_learner", "foster", "homeless", "disability")
    if demographics is None:
        return inputs.people.select("person_id", *[F.lit(None).cast("boolean").alias(n) for n in names])
    owned = with_person_id(demographics.where(_student_snapshot()), inputs.crosswalk)
    return owned.groupBy("person_id").agg(
        F.max(F.col("ela_status").isin(*ENGLISH_LEARNER_STATUSES)).alias("english_learner"),
        F.max("foster").alias("foster"),
        F.max("homeless").alias("homeless"),
        F.max("disability").alias("disability"),
    )


def workforce_program_exits(inputs: GoldInputs) -> DataFrame:
    """Cohort Y: people whose first exit from a workforce program (WIOA adult, dislocated worker or
    youth; apprenticeship) fell in program year Y (July to June, labelled by its ending year).
    Breakdowns: the program, race/ethnicity, gender. Anchor: `exit_date`, which the WIOA-style
    quarterly outcomes count from."""
    services = inputs.silver["services"].where(
        F.col("program").isin(*WORKFORCE_PROGRAMS) & F.col("end_date").isNotNull()
    )
    exits = with_person_id(services.select("record_token", "program", "end_date"), inputs.crosswalk)
    first = exits.groupBy("person_id").agg(F.min_by(F.struct("end_date", "program"), "end_date").alias("x"))
    exit_date = F.col("x.end_date")
    cohort = first.select(
        "person_id",
        (F.year(exit_date) + F.when(F.month(exit_date) >= 7, 1).otherwise(0))
        .cast("int")
        .alias("cohort_year"),
        _known(F.col("x.program")).alias("program"),
        exit_date.alias("exit_date"),
    )
    return _with_people(cohort, inputs.people)


COHORTS = {
    "first_teaching_credential": first_teaching_credential,
    "high_school_graduates": high_school_graduates,
    "workforce_program_exits": workforce_program_exits,
}
# The silver tables each cohort rule cannot do without: a mart whose are missing is skipped.
COHORT_SOURCES = {
    "first_teaching_credential": ("credentials",),
    "high_school_graduates": ("k12_enrollments", "completions"),
    "workforce_program_exits": ("services",),
}
