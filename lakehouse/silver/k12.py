"""K-12 silver tables: `silver.k12_enrollments` (CALPADS SENR) and `silver.demographics` (CALPADS SINF
for students, SDEM for staff): typed, coded, unknown codes listed per row, keyed by record token."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.silver.codes import CodeMaps
from lakehouse.silver.events import (
    Bronze,
    Coder,
    blank_to_null,
    ending_year,
    event_columns,
    provenance_columns,
    union_families,
)
from lakehouse.silver.standardize import standardize_gender


def build_k12_enrollments(bronze: Bronze, *, codes: CodeMaps, key: bytes) -> DataFrame | None:
    """SENR rows -> one enrollment event each: year, school, grade, entry/exit, exit and completion."""

    def senr(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        _check_county(c, "SCHOOL_CDS")
        return df.select(
            *event_columns("SENR", key),
            ending_year(F.col("ACADEMIC_YEAR")).alias("academic_year"),
            F.col("SCHOOL_CDS").alias("school_cds"),
            F.substring("SCHOOL_CDS", 1, 7).alias("district_code"),
            F.substring("SCHOOL_CDS", 1, 2).alias("county_code"),
            c.map("GRADE_LEVEL", "calpads_grade_level").try_cast("int").alias("grade"),
            F.try_to_date("ENROLL_START_DATE", "yyyyMMdd").alias("entry_date"),
            F.try_to_date("ENROLL_EXIT_DATE", "yyyyMMdd").alias("exit_date"),
            blank_to_null(F.col("EXIT_CODE")).alias("exit_code"),
            c.map("EXIT_CODE", "calpads_exit_code").alias("exit_category"),
            blank_to_null(F.col("COMPLETION_STATUS")).alias("completion_status"),
            c.map("COMPLETION_STATUS", "calpads_completion_status").alias("completion"),
            *provenance_columns(c),
        )

    return union_families(bronze, {"SENR": senr})


def _race_ethnicity(c: Coder) -> Column:
    """CALPADS reporting group: Hispanic first, then two or more races, then the single race."""
    first, second = blank_to_null(F.col("RACE_CODE_1")), blank_to_null(F.col("RACE_CODE_2"))
    single = c.map("RACE_CODE_1", "calpads_race")
    c.check("RACE_CODE_2", "calpads_race")
    c.check("HISPANIC_IND", "calpads_yes_no", F.upper(F.trim("HISPANIC_IND")))
    return (
        F.when(F.upper(F.trim("HISPANIC_IND")) == "Y", F.lit("Hispanic or Latino"))
        .when(first.isNull(), F.lit("Not reported"))
        .when(second.isNotNull(), F.lit("Two or More Races"))
        .otherwise(single)
    )


def _flag(c: Coder, column: str) -> Column:
    return c.map(column, "calpads_yes_no").cast("boolean")


def _gender(c: Coder, column: str) -> Column:
    """M, F or X (`standardize_gender`), the reported code checked against conf/codes `gender`."""
    c.check(column, "gender", F.upper(F.trim(column)))
    return standardize_gender(F.col(column))


def _check_county(c: Coder, column: str) -> None:
    """A CDS school or district code begins with its two-digit county code: checked as a county."""
    c.check(column, "county_name", F.substring(F.trim(column), 1, 2))


def build_demographics(bronze: Bronze, *, codes: CodeMaps, key: bytes) -> DataFrame | None:
    """SINF and SDEM rows -> one demographic snapshot per record and year (students carry program flags)."""

    def sinf(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        ela = c.map("ELA_STATUS", "calpads_ela_status")
        _check_county(c, "SCHOOL_CDS")
        return df.select(
            *event_columns("SINF", key),
            ending_year(F.col("ACADEMIC_YEAR")).alias("academic_year"),
            F.substring("SCHOOL_CDS", 1, 7).alias("district_code"),
            _race_ethnicity(c).alias("race_ethnicity"),
            _gender(c, "GENDER").alias("gender"),
            ela.alias("ela_status"),
            (ela == "english_learner").alias("english_learner"),
            _flag(c, "HOMELESS_IND").alias("homeless"),
            _flag(c, "FOSTER_IND").alias("foster"),
            _flag(c, "DISABILITY_IND").alias("disability"),
            *provenance_columns(c),
        )

    def sdem(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        none = F.lit(None).cast("boolean")
        _check_county(c, "DISTRICT_CODE")
        return df.select(
            *event_columns("SDEM", key),
            ending_year(F.col("ACADEMIC_YEAR")).alias("academic_year"),
            F.col("DISTRICT_CODE").alias("district_code"),
            _race_ethnicity(c).alias("race_ethnicity"),
            _gender(c, "GENDER").alias("gender"),
            F.lit(None).cast("string").alias("ela_status"),
            *[none.alias(n) for n in ("english_learner", "homeless", "foster", "disability")],
            *provenance_columns(c),
        )

    return union_families(bronze, {"SINF": sinf, "SDEM": sdem})
