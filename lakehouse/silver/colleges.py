"""College silver tables: `silver.college_enrollments` (term enrollments of CCC, CSU, UC and independent
colleges) and `silver.completions` (high-school diplomas, certificates, degrees, credential programs).

Years are academic years by their ending year (2019 = 2018-19). Each segment spells terms its own way:
CCC as YY + a term digit (FA of calendar 2018 is '187', in 2018-19), CSU as '2019FA' (already the
academic year), UC and independents as an academic-year label plus a term.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.silver.codes import CodeMaps
from lakehouse.silver.events import (
    Bronze,
    Coder,
    academic_year_of,
    blank_to_null,
    ending_year,
    event_columns,
    provenance_columns,
    union_families,
)

ENROLLMENT_COLUMNS = (
    "segment",
    "institution",
    "academic_year",
    "term",
    "level",
    "units_attempted",
    "units_earned",
)


def _ccc_year(term: Column, term_name: Column) -> Column:
    yy = F.substring(F.trim(term), 1, 2).try_cast("int")
    calendar = F.when(yy >= 50, yy + 1900).otherwise(yy + 2000)
    return calendar + F.when(term_name == "FA", 1).otherwise(0)


def _enrollment(family: str, c: Coder, key: bytes, institution: str, **values: Column) -> list[Column]:
    institution_col = F.trim(F.col(institution))
    values = {
        "segment": c.map(institution, "institution_segment"),
        "institution": institution_col,
        "level": F.lit("undergraduate"),
        "units_earned": F.lit(None).cast("double"),
        **values,
    }
    return [
        *event_columns(family, key),
        *[values[name].alias(name) for name in ENROLLMENT_COLUMNS],
        *provenance_columns(c),
    ]


def build_college_enrollments(bronze: Bronze, *, codes: CodeMaps, key: bytes) -> DataFrame | None:
    """One row per student term: segment, institution, year, term, level and units."""

    def sx(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        term = c.map("GI03_TERM", "ccc_term_code", F.substring(F.trim("GI03_TERM"), 3, 1))
        return df.select(
            *_enrollment(
                "SX",
                c,
                key,
                "GI01_DISTRICT_COLLEGE",
                academic_year=_ccc_year(F.col("GI03_TERM"), term),
                term=term,
                units_attempted=F.col("SX03_UNITS_ATTEMPTED").try_cast("double"),
                units_earned=F.col("SX04_UNITS_EARNED").try_cast("double"),
            )
        )

    def erss(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        return df.select(
            *_enrollment(
                "ERSS",
                c,
                key,
                "CAMPUS",
                academic_year=F.substring("TERM", 1, 4).try_cast("int"),
                term=c.map("TERM", "term_code", F.substring("TERM", 5, 2)),
                level=c.map("LEVEL", "csu_level"),
                units_attempted=F.col("UNITS").try_cast("double"),
            )
        )

    def uc(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        return df.select(
            *_enrollment(
                "enrollment",
                c,
                key,
                "campus",
                academic_year=ending_year(F.col("academic_year")),
                term=c.map("term", "term_code"),
                units_attempted=F.col("units").try_cast("double"),
            )
        )

    def aiccu(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        return df.select(
            *_enrollment(
                "AICCU_ENROLLMENT",
                c,
                key,
                "INSTITUTION_ID",
                academic_year=ending_year(F.col("ACADEMIC_YEAR")),
                term=c.map("TERM", "term_code"),
                units_attempted=F.col("CREDITS").try_cast("double"),
            )
        )

    return union_families(bronze, {"SX": sx, "ERSS": erss, "enrollment": uc, "AICCU_ENROLLMENT": aiccu})


def _cip(c: Coder, column: str) -> Column:
    """The CIP program code as sent, checked: well formed ("NN.NNNN") and of a known two-digit series."""
    code = F.trim(column)
    c.check(
        column,
        "cip_series",
        F.when(code.rlike(r"^[0-9]{2}\.[0-9]{4}$"), F.substring(code, 1, 2)).otherwise(code),
    )
    return blank_to_null(F.col(column))


COMPLETION_COLUMNS = ("segment", "institution", "award_level", "award_code", "cip", "award_date")


def _completion(
    family: str, c: Coder, key: bytes, institution: str, code: str, code_map: str, day: Column, **values
) -> list[Column]:
    if "segment" not in values:
        values["segment"] = c.map(institution, "institution_segment")
    values = {
        "institution": F.trim(F.col(institution)),
        "award_level": c.map(code, code_map),
        "award_code": blank_to_null(F.col(code)),
        "cip": F.lit(None).cast("string"),
        "award_date": day,
        **values,
    }
    return [
        *event_columns(family, key),
        *[values[name].alias(name) for name in COMPLETION_COLUMNS],
        academic_year_of(day).alias("academic_year"),
        *provenance_columns(c),
    ]


def build_completions(bronze: Bronze, *, codes: CodeMaps, key: bytes) -> DataFrame | None:
    """One row per diploma, award, degree or completed credential program, with level, CIP and date."""

    def senr(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        exit_day = F.try_to_date("ENROLL_EXIT_DATE", "yyyyMMdd")
        return df.filter(F.trim("EXIT_CODE") == "E230").select(
            *_completion(
                "SENR",
                c,
                key,
                "SCHOOL_CDS",
                "COMPLETION_STATUS",
                "calpads_completion_status",
                exit_day,
                segment=F.lit("K12"),
            )
        )

    def sp(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        day = F.try_to_date("SP04_AWARD_DATE", "yyyyMMdd")
        return df.select(
            *_completion(
                "SP", c, key, "GI01_DISTRICT_COLLEGE", "SP02_AWARD", "ccc_award", day,
                cip=_cip(c, "SP01_PROGRAM_CIP"),
            )
        )  # fmt: skip

    def ersd(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        day = F.try_to_date("DEGREE_DATE", "yyyyMMdd")
        return df.select(
            *_completion("ERSD", c, key, "CAMPUS", "DEGREE", "csu_degree", day, cip=_cip(c, "CIP"))
        )

    def erst(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        day = F.try_to_date("COMPLETION_DATE", "yyyyMMdd")
        completed = df.filter(F.upper(F.trim("COMPLETED")) == "Y")
        return completed.select(
            *_completion("ERST", c, key, "CAMPUS", "PROGRAM", "csu_credential_program", day)
        )

    def uc(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        day = F.try_to_date("conferred", "yyyy-MM-dd")
        return df.select(
            *_completion("degrees", c, key, "campus", "degree", "uc_degree", day, cip=_cip(c, "cip"))
        )

    def aiccu(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        day = F.try_to_date("AWARD_DATE", "yyyy-MM-dd")
        return df.select(
            *_completion(
                "AICCU_DEGREES", c, key, "INSTITUTION_ID", "DEGREE_LEVEL", "aiccu_degree_level", day,
                cip=_cip(c, "CIP"),
            )
        )  # fmt: skip

    builders = {"SENR": senr, "SP": sp, "ERSD": ersd, "ERST": erst, "degrees": uc, "AICCU_DEGREES": aiccu}
    return union_families(bronze, builders)
