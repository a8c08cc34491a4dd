"""`silver.k12_enrollments`: CALPADS SENR rows as typed, coded enrollment events (keyed by SSID)."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.silver.codes import CodeMaps, map_code, unknown_code


def build_k12_enrollments(senr: DataFrame, *, codes: CodeMaps) -> DataFrame:
    exits, completions, grades = (
        codes["calpads_exit_code"],
        codes["calpads_completion_status"],
        codes["calpads_grade_level"],
    )
    unknown = F.array_compact(
        F.array(
            F.when(unknown_code(F.col("EXIT_CODE"), exits), F.lit("EXIT_CODE")),
            F.when(unknown_code(F.col("COMPLETION_STATUS"), completions), F.lit("COMPLETION_STATUS")),
            F.when(unknown_code(F.col("GRADE_LEVEL"), grades), F.lit("GRADE_LEVEL")),
        )
    )
    return senr.select(
        F.lit("calpads").alias("source"),
        F.col("SSID").alias("source_record_key"),
        (F.substring("ACADEMIC_YEAR", 1, 4).try_cast("int") + 1).alias("academic_year"),
        F.col("SCHOOL_CDS").alias("school_cds"),
        F.substring("SCHOOL_CDS", 1, 7).alias("district_code"),
        F.substring("SCHOOL_CDS", 1, 2).alias("county_code"),
        map_code(F.col("GRADE_LEVEL"), grades).try_cast("int").alias("grade"),
        F.try_to_date("ENROLL_START_DATE", "yyyyMMdd").alias("entry_date"),
        F.try_to_date("ENROLL_EXIT_DATE", "yyyyMMdd").alias("exit_date"),
        F.col("EXIT_CODE").alias("exit_code"),
        map_code(F.col("EXIT_CODE"), exits).alias("exit_category"),
        F.when(F.trim("COMPLETION_STATUS") != "", F.trim("COMPLETION_STATUS")).alias("completion_status"),
        map_code(F.col("COMPLETION_STATUS"), completions).alias("completion"),
        unknown.alias("unknown_codes"),
        F.col("_source_file").alias("source_file"),
        F.col("_row_number").alias("source_row"),
    )
