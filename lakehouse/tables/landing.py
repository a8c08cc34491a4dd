"""Tables of landing and standardization: run log, bronze, silver, quality results."""

from __future__ import annotations

import re

from lakehouse.sources.layouts import LAYOUTS
from lakehouse.tables.registry import Table, register

# ---- ops -------------------------------------------------------------------------------------------

OPS_RUNS = register(
    Table(
        layer="ops",
        name="runs",
        schema=(
            "run_id STRING, job STRING, env STRING, engine STRING, started_at TIMESTAMP, "
            "finished_at TIMESTAMP, status STRING, detail STRING"
        ),
        keys=("run_id", "job"),
        description="One row per job run: what ran, where, on which engine, and how it ended.",
    )
)


# ---- bronze: one table per agency file family, every raw column kept as landed (STRING) ----------

BRONZE_METADATA = (
    "_source_file STRING, _row_number BIGINT, _load_id STRING, _ingested_at TIMESTAMP, _record_hash STRING"
)


def bronze_table_name(family: str) -> str:
    return f"{LAYOUTS[family].source}_{family.lower()}"


# Raw columns by what they say of a person: names, birth dates, SSNs, agency person ids and record
# keys identify; a ZIP code or a document number narrows down. Everything else (codes, dates of
# events, amounts) is "none".
_DIRECT_RAW = re.compile(
    r"NAME|BIRTH|^DOB$|SSN$|SSID$|^SEID$|^CIN$|^UCI$|CHILD_ID|STUDENT_ID|^CSU_ID$|^CSAC_ID$|UNIQUE_ID|"
    r"^CASE_NUMBER$|^PERSON_NUMBER$|^LOCAL_STAFF_ID$|MIDDLE_INITIAL",
    re.IGNORECASE,
)
_QUASI_RAW = re.compile(r"ZIP|^DOC_NUMBER$", re.IGNORECASE)


def raw_sensitivity(column: str) -> str:
    """ "direct", "quasi" or "none" for a raw extract's column (see `lakehouse.tables.registry`)."""
    if _DIRECT_RAW.search(column):
        return "direct"
    return "quasi" if _QUASI_RAW.search(column) else "none"


BRONZE = {
    family: register(
        Table(
            layer="bronze",
            name=bronze_table_name(family),
            schema=", ".join(f"`{name}` STRING" for name, _ in layout.columns) + ", " + BRONZE_METADATA,
            # (_source_file, _row_number) is unique by construction; no per-write key check needed.
            restricted=True,  # raw extracts carry names, birth dates and SSNs
            description=f"{layout.source} {family} rows as landed, plus load metadata.",
            sensitive=tuple(
                (name, raw_sensitivity(name)) for name, _ in layout.columns if raw_sensitivity(name) != "none"
            ),
        )
    )
    for family, layout in LAYOUTS.items()
}

BRONZE_QUARANTINE = register(
    Table(
        layer="bronze",
        name="quarantine",
        schema=(
            "source STRING, family STRING, file STRING, row_number BIGINT, raw_text STRING, reason STRING, "
            "load_id STRING, ingested_at TIMESTAMP"
        ),
        keys=("file", "row_number"),
        restricted=True,
        description="Every raw row that could not be landed, with the reason.",
        sensitive=(("raw_text", "direct"),),
    )
)

BRONZE_FILES = register(
    Table(
        layer="bronze",
        name="files",
        schema=(
            "source STRING, family STRING, file STRING, sha256 STRING, bytes BIGINT, status STRING, "
            "duplicate_of STRING, raw_rows BIGINT, landed_rows BIGINT, quarantined_rows BIGINT, "
            "load_id STRING, ingested_at TIMESTAMP, replaces STRING, ends_with_newline BOOLEAN"
        ),
        keys=("file", "sha256"),
        # status: landed (bronze holds this version's rows), replaced (a later version of the file took
        # its rows' place; `replaces` on that version names this one's sha256), duplicate (content
        # landed under another name, `duplicate_of`), empty (0 bytes, nothing to land), released (an
        # operator accepted its parsed rows: the gate no longer judges it), excluded (an operator dropped
        # its rows from bronze); decisions are recorded in bronze.file_decisions.
        # ends_with_newline: whether the file's last byte is a line end (LF, or the CR of a CRLF file cut
        # between CR and LF), null for a 0-byte file; a last line without one in a file whose other lines
        # have one is quarantined as truncated (lakehouse/sources/split.py).
        # `replaces` and `ends_with_newline` came after the first lakes: a ledger without them reads them
        # as nulls (so do rows written before) and gains the columns at its next write
        # (schema_mode="merge").
        description="The ledger of raw files: each file's content hash and where its rows went.",
    )
)


BRONZE_FILE_DECISIONS = register(
    Table(
        layer="bronze",
        name="file_decisions",
        schema=(
            "decision_id STRING, file STRING, sha256 STRING, load_id STRING, decision STRING, "
            "reason STRING, decided_by STRING, decided_at TIMESTAMP, raw_rows BIGINT, landed_rows BIGINT, "
            "quarantined_rows BIGINT"
        ),
        keys=("decision_id",),
        # decision: release or exclude, of the ledger row (file, sha256, load_id). The counts are the
        # ledger's at the time of the decision. No row contents: file names, hashes and the operator's
        # words only (the reason must not quote a row).
        description="Operators' decisions on landed files with unparsed rows: who released or excluded "
        "which file version, when and why.",
    )
)


# ---- silver ----------------------------------------------------------------------------------------

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

# ---- ops: data quality ---------------------------------------------------------------------------

OPS_QUALITY_RESULTS = register(
    Table(
        layer="ops",
        name="quality_results",
        schema=(
            "run_id STRING, checked_at TIMESTAMP, gate STRING, table_name STRING, check_id STRING, "
            "expectation STRING, column_name STRING, policy STRING, success BOOLEAN, element_count BIGINT, "
            "unexpected_count BIGINT, unexpected_percent DOUBLE, observed_value STRING, examples STRING, "
            "message STRING"
        ),
        keys=("run_id", "table_name", "check_id"),
        description="Every quality check of every run: policy, outcome, counts and examples.",
    )
)


OPS_LAYER_MANIFESTS = register(
    Table(
        layer="ops",
        name="layer_manifests",
        schema=(
            "layer STRING, seq BIGINT, run_id STRING, committed_at TIMESTAMP, table_versions STRING, "
            "input_versions STRING"
        ),
        keys=("layer", "seq"),
        description="One row per promoted layer: its tables' versions (JSON) and its inputs' versions "
        "(JSON), written after every table of the layer committed. The highest seq is the layer's state.",
    )
)
