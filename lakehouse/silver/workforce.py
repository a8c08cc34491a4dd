"""Educator and workforce silver tables: `silver.credentials` (CTC), `silver.staff_assignments` (CALPADS
SASS) and `silver.wages` (EDD DE 9C quarterly wages with the employer's industry and county)."""

from __future__ import annotations

from pyspark.sql import DataFrame
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
    row_order,
    union_families,
)
from lakehouse.silver.tokens import hmac_sha256


def build_credentials(bronze: Bronze, *, codes: CodeMaps, key: bytes) -> DataFrame | None:
    """One row per credential document: kind, term, basis, subject, preparing institution and segment.

    The preparing segment comes from the recommending entity: a college code maps to its segment, a
    seven-digit district code means a district (LEA) intern program, and a blank one a direct
    application to the CTC (NONE).
    """

    def credentials(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        entity = blank_to_null(F.col("RECOMMENDING_ENTITY"))
        is_district = entity.rlike(r"^[0-9]{7}$")
        segment = (
            F.when(entity.isNull(), F.lit("NONE"))
            .when(is_district, F.lit("DISTRICT"))
            .otherwise(c.map("RECOMMENDING_ENTITY", "institution_segment", F.when(~is_district, entity)))
        )
        issued = F.try_to_date("ISSUE_DATE", "yyyy-MM-dd")
        # A district intern program's county (the first two digits of its code) is a county code.
        c.check("RECOMMENDING_ENTITY", "county_name", F.when(is_district, F.substring(entity, 1, 2)))
        c.check("SUBJECT", "ctc_subject")
        return df.select(
            *event_columns("CREDENTIALS", key),
            # A CTC document number leads to a name through the state's public educator search:
            # outside the restricted zone only its keyed token, which still tells documents apart.
            hmac_sha256(F.concat(F.lit("ctc-doc:"), blank_to_null(F.col("DOC_NUMBER"))), key).alias(
                "document_token"
            ),
            c.map("CREDENTIAL_KIND", "ctc_credential_kind").alias("credential_kind"),
            c.map("CREDENTIAL_TERM", "ctc_credential_term").alias("credential_term"),
            c.map("BASIS", "ctc_basis").alias("basis"),
            blank_to_null(F.col("SUBJECT")).alias("subject"),
            entity.alias("preparing_institution"),
            segment.alias("preparing_segment"),
            issued.alias("issue_date"),
            academic_year_of(issued).alias("academic_year"),
            *provenance_columns(c),
        )

    return union_families(bronze, {"CREDENTIALS": credentials})


def build_staff_assignments(bronze: Bronze, *, codes: CodeMaps, key: bytes) -> DataFrame | None:
    """One row per staff assignment and year: school, job class (12 = teacher), FTE, credential type."""

    def sass(df: DataFrame) -> DataFrame:
        c = Coder(codes)
        job_class = c.map("JOB_CLASS_CODE", "calpads_job_class")
        c.check("SCHOOL_CDS", "county_name", F.substring(F.trim("SCHOOL_CDS"), 1, 2))
        return df.select(
            *event_columns("SASS", key),
            ending_year(F.col("ACADEMIC_YEAR")).alias("academic_year"),
            F.col("SCHOOL_CDS").alias("school_cds"),
            F.substring("SCHOOL_CDS", 1, 7).alias("district_code"),
            F.substring("SCHOOL_CDS", 1, 2).alias("county_code"),
            blank_to_null(F.col("JOB_CLASS_CODE")).alias("job_class_code"),
            job_class.alias("job_class"),
            (F.trim("JOB_CLASS_CODE") == "12").alias("is_teacher"),
            (F.col("FTE_PERCENT").try_cast("double") / 100).alias("fte"),
            blank_to_null(F.col("CREDENTIAL_TYPE_CODE")).alias("credential_type_code"),
            c.map("CREDENTIAL_TYPE_CODE", "calpads_staff_credential_type").alias("credential_type"),
            *provenance_columns(c),
        )

    return union_families(bronze, {"SASS": sass})


def latest_employers(employers: DataFrame, codes: CodeMaps) -> DataFrame:
    """One row per employer account: the latest file's industry (NAICS sector) and county, and which of
    the two is an unknown code (`employer_unknown_codes`, carried onto each of its wage rows)."""
    order = row_order(F.col("_source_file"), F.col("_row_number"))
    latest = F.max_by(
        F.struct(F.trim("NAICS2").alias("NAICS2"), F.trim("COUNTY_CODE").alias("COUNTY_CODE")), order
    )
    c = Coder(codes)
    c.check("NAICS2", "naics_sector")
    c.check("COUNTY_CODE", "county_name")
    return (
        employers.groupBy(F.trim("EMPLOYER_ACCOUNT").alias("employer_account"))
        .agg(latest.alias("e"))
        .select("employer_account", "e.NAICS2", "e.COUNTY_CODE")
        .select(
            "employer_account",
            F.col("NAICS2").alias("naics2"),
            F.col("COUNTY_CODE").alias("employer_county_code"),
            c.unknown().alias("employer_unknown_codes"),
        )
    )


def build_wages(bronze: Bronze, *, codes: CodeMaps, key: bytes) -> DataFrame | None:
    """One row per worker, employer and quarter (YRQTR): wages, with the employer's sector and county."""
    if "DE9C" not in bronze:
        return None
    c = Coder(codes)
    yrqtr = F.trim("YRQTR").try_cast("int")
    wages = bronze["DE9C"].select(
        *event_columns("DE9C", key),
        F.trim("EMPLOYER_ACCOUNT").alias("employer_account"),
        yrqtr.alias("yrqtr"),
        (yrqtr / 10).cast("int").alias("year"),
        (yrqtr % 10).alias("quarter"),
        F.col("TOTAL_SUBJECT_WAGES").try_cast("decimal(12,2)").alias("wages"),
        *provenance_columns(c),
    )
    if "EMPLOYERS" in bronze:
        employers = latest_employers(bronze["EMPLOYERS"], codes)
    else:
        employers = wages.sparkSession.createDataFrame(
            [],
            "employer_account STRING, naics2 STRING, employer_county_code STRING, "
            "employer_unknown_codes ARRAY<STRING>",
        )
    joined = wages.join(employers, "employer_account", "left")
    employer_codes = F.coalesce("employer_unknown_codes", F.array().cast("array<string>"))
    return joined.select(
        "source",
        "record_token",
        "employer_account",
        "yrqtr",
        "year",
        "quarter",
        "wages",
        "naics2",
        "employer_county_code",
        F.concat("unknown_codes", employer_codes).alias("unknown_codes"),
        "source_file",
        "source_row",
    )
