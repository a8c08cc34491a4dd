"""Silver tables: the person records (restricted) and the de-identified event tables keyed by a record
token, plus the rows a quarantine rule held back.
"""

from __future__ import annotations

from lakehouse.tables.registry import Table, register

__all__ = [
    "SILVER_AID",
    "SILVER_BENEFITS",
    "SILVER_COLLEGE_ENROLLMENTS",
    "SILVER_COMPLETIONS",
    "SILVER_CREDENTIALS",
    "SILVER_DEMOGRAPHICS",
    "SILVER_K12_ENROLLMENTS",
    "SILVER_PERSON_RECORDS",
    "SILVER_QUARANTINE",
    "SILVER_SERVICES",
    "SILVER_STAFF_ASSIGNMENTS",
    "SILVER_WAGES",
]

SILVER_PERSON_RECORDS = register(
    Table(
        layer="silver",
        name="person_records",
        schema=(
            "source STRING, source_record_key STRING, record_token STRING, first_name STRING, "
            "middle_name STRING, last_name STRING, last_name_1 STRING, last_name_2 STRING, birth_date DATE, "
            "gender STRING, ssn_token STRING, ssn_first5_token STRING, ssn_last4_token STRING, "
            "ssn_sorted_token STRING, "
            "ssid STRING, seid STRING, cin STRING, zip STRING, has_identity BOOLEAN, first_file STRING, "
            "last_file STRING"
        ),
        keys=("source", "source_record_key"),
        restricted=True,
        description="One row per source person record: standardized identity, SSN as an HMAC token.",
        sensitive=(
            *((c, "direct") for c in ("source_record_key", "first_name", "middle_name", "last_name")),
            *((c, "direct") for c in ("last_name_1", "last_name_2", "birth_date", "ssid", "seid", "cin")),
            ("zip", "quasi"),
        ),
    )
)


def _events(name: str, columns: str, description: str, partition_by: tuple[str, ...] = ()) -> Table:
    """A de-identified silver event table: record token, its own columns, unknown codes, provenance."""
    return register(
        Table(
            layer="silver",
            name=name,
            schema=(
                f"source STRING, record_token STRING, {columns}, unknown_codes ARRAY<STRING>, "
                "source_file STRING, source_row BIGINT"
            ),
            keys=("source_file", "source_row"),
            partition_by=partition_by,
            description=description,
        )
    )


SILVER_K12_ENROLLMENTS = _events(
    "k12_enrollments",
    "academic_year INT, school_cds STRING, district_code STRING, county_code STRING, grade INT, "
    "entry_date DATE, exit_date DATE, exit_code STRING, exit_category STRING, completion_status STRING, "
    "completion STRING",
    "K-12 enrollment events (CALPADS SENR), codes mapped; unknown codes listed per row.",
    partition_by=("academic_year",),
)
SILVER_DEMOGRAPHICS = _events(
    "demographics",
    "academic_year INT, district_code STRING, race_ethnicity STRING, gender STRING, ela_status STRING, "
    "english_learner BOOLEAN, homeless BOOLEAN, foster BOOLEAN, disability BOOLEAN",
    "Demographic snapshots per record and year: students (SINF, with program flags) and staff (SDEM).",
)
SILVER_COLLEGE_ENROLLMENTS = _events(
    "college_enrollments",
    "segment STRING, institution STRING, academic_year INT, term STRING, level STRING, "
    "units_attempted DOUBLE, units_earned DOUBLE",
    "Term enrollments at community colleges, CSU, UC and independent colleges.",
    partition_by=("segment",),
)
SILVER_COMPLETIONS = _events(
    "completions",
    "segment STRING, institution STRING, award_level STRING, award_code STRING, cip STRING, "
    "award_date DATE, academic_year INT",
    "High-school diplomas, college awards and degrees (CIP, level), completed credential programs.",
)
SILVER_CREDENTIALS = _events(
    "credentials",
    "document_token STRING, credential_kind STRING, credential_term STRING, basis STRING, "
    "subject STRING, preparing_institution STRING, preparing_segment STRING, issue_date DATE, "
    "academic_year INT",
    "Teaching credentials issued by the CTC, with the preparing institution and its segment.",
)
SILVER_STAFF_ASSIGNMENTS = _events(
    "staff_assignments",
    "academic_year INT, school_cds STRING, district_code STRING, county_code STRING, "
    "job_class_code STRING, job_class STRING, is_teacher BOOLEAN, fte DOUBLE, "
    "credential_type_code STRING, credential_type STRING",
    "Staff assignments per year (CALPADS SASS): school, job class (12 = teacher), FTE, credential type.",
)
SILVER_WAGES = _events(
    "wages",
    "employer_account STRING, yrqtr INT, year INT, quarter INT, wages DECIMAL(12,2), naics2 STRING, "
    "employer_county_code STRING",
    "Quarterly UI wages (EDD DE 9C) per worker and employer, with the employer's sector and county.",
    partition_by=("year",),
)
SILVER_BENEFITS = _events(
    "benefits",
    "program STRING, county_code STRING, aid_code STRING, eligibility_group STRING, start_month DATE, "
    "end_month DATE, months INT",
    "Benefit spells: CalFresh, CalWORKs (CDSS) and Medi-Cal eligibility (DHCS).",
)
SILVER_AID = _events(
    "aid",
    "award_year INT, aid_type STRING, amount DECIMAL(10,2), institution STRING",
    "Student aid: FAFSA/CADAA applications and Cal Grant payments (CSAC), CSU aid records.",
)
SILVER_SERVICES = _events(
    "services",
    "program STRING, provider STRING, county_code STRING, service_year INT, start_date DATE, "
    "end_date DATE, outcome STRING, credential_attained BOOLEAN, days INT",
    "Program participation: early learning (CDE), rehabilitation (DOR), developmental services (DDS), WIOA.",
)

SILVER_QUARANTINE = register(
    Table(
        layer="silver",
        name="quarantine",
        schema=(
            "table_name STRING, source_file STRING, source_row BIGINT, reason STRING, record STRING, "
            "run_id STRING"
        ),
        keys=("table_name", "source_file", "source_row"),
        partition_by=("table_name",),
        restricted=True,  # held-back person records carry names and birth dates
        description="Silver rows held back by a quarantine rule, with the rule and the row as JSON.",
        sensitive=(("record", "direct"),),
    )
)
