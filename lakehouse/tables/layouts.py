"""The file layouts of the 15 agency extracts, one entry per file family: what bronze is declared from.

Each family lands in its own bronze table, one STRING column per layout column (lakehouse/tables/
bronze.py). `kind` is "csv" (RFC 4180 quoting), "fixed" (widths given), "jsonl", or the delimiter of a
delimited text layout ("^" for CALPADS, "|" for others). Delimited and CSV files start with a header
row; fixed width and JSON lines files do not. Each source's families follow a line saying what its
agency sends. The generator (lakehouse/synth) writes these layouts and landing (lakehouse/sources)
reads them; how each family's dates are written, which of its columns must be numbers and which make
its record key are in lakehouse/sources/layouts.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Layout:
    source: str
    directory: str
    kind: str
    extension: str
    columns: tuple[tuple[str, int], ...]  # (name, width); width only matters for fixed layouts

    @property
    def header(self) -> str | None:
        if self.kind in ("fixed", "jsonl"):
            return None
        delimiter = "," if self.kind == "csv" else self.kind
        return delimiter.join(name for name, _ in self.columns)


def _cols(*names: str) -> tuple[tuple[str, int], ...]:
    return tuple((n, 0) for n in names)


_PERSON_CSV = ("FIRST_NAME", "LAST_NAME", "BIRTH_DATE", "GENDER", "SSN")
_CASES = ("CASE_NUMBER", "PERSON_NUMBER", "COUNTY_CODE", *_PERSON_CSV, "BEGIN_MONTH", "END_MONTH")

# fmt: off
LAYOUTS: dict[str, Layout] = {
    # CDE early learning and care: program enrollments of children, one CSV per fiscal year.
    "ELC_ENROLLMENT": Layout("cde_elc", "cde_elc", "csv", "csv", _cols("FISCAL_YEAR", "AGENCY_CODE",
        "CHILD_ID", "CHILD_FIRST_NAME", "CHILD_LAST_NAME", "BIRTH_DATE", "GENDER", "PROGRAM_TYPE",
        "ENTRY_AGE", "DAYS_ENROLLED", "DRDP_KINDERGARTEN_READY", "ZIP_CODE")),
    # CALPADS K-12 students: SINF demographics, SENR enrollments, CAASPP scores (caret-delimited, per year).
    "SINF": Layout("calpads", "calpads", "^", "txt", _cols("ACADEMIC_YEAR", "SCHOOL_CDS", "SSID",
        "LOCAL_STUDENT_ID", "FIRST_NAME", "MIDDLE_NAME", "LAST_NAME", "BIRTH_DATE", "GENDER",
        "HISPANIC_IND", "RACE_CODE_1", "RACE_CODE_2", "ELA_STATUS", "HOMELESS_IND", "FOSTER_IND",
        "DISABILITY_IND", "RESIDENCE_ZIP")),
    "SENR": Layout("calpads", "calpads", "^", "txt", _cols("ACADEMIC_YEAR", "SCHOOL_CDS", "SSID",
        "LOCAL_STUDENT_ID", "GRADE_LEVEL", "ENROLL_START_DATE", "ENROLL_EXIT_DATE", "EXIT_CODE",
        "COMPLETION_STATUS")),
    "CAASPP": Layout("calpads", "calpads", "^", "txt", _cols("ACADEMIC_YEAR", "SSID", "GRADE_LEVEL",
        "SUBJECT", "SCALE_SCORE")),
    # CALPADS staff: SDEM demographics and SASS assignments (job class 12 = teacher), caret-delimited.
    "SDEM": Layout("calpads_staff", "calpads_staff", "^", "txt", _cols("ACADEMIC_YEAR", "DISTRICT_CODE",
        "SEID", "LOCAL_STAFF_ID", "FIRST_NAME", "LAST_NAME", "BIRTH_DATE", "GENDER", "HISPANIC_IND",
        "RACE_CODE_1", "RACE_CODE_2")),
    "SASS": Layout("calpads_staff", "calpads_staff", "^", "txt", _cols("ACADEMIC_YEAR", "SCHOOL_CDS",
        "SEID", "JOB_CLASS_CODE", "FTE_PERCENT", "CREDENTIAL_TYPE_CODE")),
    # Community colleges (CCC MIS): SB student basic and SX enrollment per term, SP awards; pipe-delimited.
    "SB": Layout("ccc", "ccc", "|", "dat", _cols("GI01_DISTRICT_COLLEGE", "GI03_TERM", "SB00_STUDENT_ID",
        "SB01_SSN", "SB_SSID", "SB31_LAST_NAME", "SB32_FIRST_NAME", "SB33_MIDDLE_NAME", "SB03_BIRTH_DATE",
        "SB04_GENDER", "SB29_ZIP")),
    "SX": Layout("ccc", "ccc", "|", "dat", _cols("GI01_DISTRICT_COLLEGE", "GI03_TERM", "SB00_STUDENT_ID",
        "SX03_UNITS_ATTEMPTED", "SX04_UNITS_EARNED")),
    "SP": Layout("ccc", "ccc", "|", "dat", _cols("GI01_DISTRICT_COLLEGE", "GI03_TERM", "SB00_STUDENT_ID",
        "SP02_AWARD", "SP04_AWARD_DATE", "SP01_PROGRAM_CIP")),
    # CSU ERS files, fixed width: ERSS term enrollment, ERSD degrees, ERST credential programs, ERSFA aid.
    "ERSS": Layout("csu", "csu", "fixed", "txt", (("CAMPUS", 6), ("TERM", 6), ("CSU_ID", 9), ("SSN", 9),
        ("SSID", 10), ("LAST_NAME", 25), ("FIRST_NAME", 20), ("MIDDLE_NAME", 15), ("BIRTH_DATE", 8),
        ("GENDER", 1), ("ZIP", 5), ("UNITS", 6), ("LEVEL", 2))),
    "ERSD": Layout("csu", "csu", "fixed", "txt", (("CAMPUS", 6), ("CSU_ID", 9), ("DEGREE", 4), ("CIP", 7),
        ("DEGREE_DATE", 8))),
    "ERST": Layout("csu", "csu", "fixed", "txt", (("CAMPUS", 6), ("CSU_ID", 9), ("ACADEMIC_YEAR", 4),
        ("PROGRAM", 4), ("COMPLETED", 1), ("COMPLETION_DATE", 8))),
    "ERSFA": Layout("csu", "csu", "fixed", "txt", (("CAMPUS", 6), ("CSU_ID", 9), ("ACADEMIC_YEAR", 4),
        ("CAL_GRANT", 1), ("AMOUNT", 8))),
    # University of California: term enrollment and degrees, JSON lines.
    "enrollment": Layout("uc", "uc", "jsonl", "jsonl", _cols("campus", "uc_student_id", "ssn",
        "first_name", "middle_name", "last_name", "birth_date", "sex", "academic_year", "term", "units")),
    "degrees": Layout("uc", "uc", "jsonl", "jsonl", _cols("campus", "uc_student_id", "degree", "cip",
        "conferred")),
    # Independent colleges (AICCU): enrollment and degrees, CSV per academic year.
    "AICCU_ENROLLMENT": Layout("aiccu", "aiccu", "csv", "csv", _cols("INSTITUTION_ID", "STUDENT_ID",
        "FIRST_NAME", "LAST_NAME", "DOB", "GENDER", "SSN", "ACADEMIC_YEAR", "TERM", "CREDITS")),
    "AICCU_DEGREES": Layout("aiccu", "aiccu", "csv", "csv", _cols("INSTITUTION_ID", "STUDENT_ID",
        "DEGREE_LEVEL", "CIP", "AWARD_DATE")),
    # Student aid (CSAC): FAFSA/CADAA applications and Cal Grant payments, CSV per award year.
    "APPLICATIONS": Layout("csac", "csac", "csv", "csv", _cols("AWARD_YEAR", "CSAC_ID", "APP_TYPE", "SSN",
        "FIRST_NAME", "LAST_NAME", "DOB")),
    "CALGRANT_PAYMENTS": Layout("csac", "csac", "csv", "csv", _cols("AWARD_YEAR", "CSAC_ID", "GRANT_TYPE",
        "AMOUNT")),
    # Teacher credentialing (CTC): credentials issued, pipe-delimited per academic year.
    "CREDENTIALS": Layout("ctc", "ctc", "|", "txt", _cols("SEID", "DOC_NUMBER", "LAST_NAME", "FIRST_NAME",
        "MIDDLE_NAME", "BIRTH_DATE", "CREDENTIAL_KIND", "CREDENTIAL_TERM", "BASIS", "SUBJECT",
        "RECOMMENDING_ENTITY", "ISSUE_DATE")),
    # EDD: DE 9C quarterly wage records (one CSV per YRQTR) and the employer file.
    "DE9C": Layout("edd", "edd", "csv", "csv", _cols("EMPLOYER_ACCOUNT", "YRQTR", "SSN", "FIRST_NAME",
        "MIDDLE_INITIAL", "LAST_NAME", "TOTAL_SUBJECT_WAGES")),
    "EMPLOYERS": Layout("edd", "edd", "csv", "csv", _cols("EMPLOYER_ACCOUNT", "NAICS2", "COUNTY_CODE")),
    # Social services (CDSS): CalFresh and CalWORKs participation spells, CSV per year.
    "CALFRESH": Layout("cdss", "cdss", "csv", "csv", _cols(*_CASES)),
    "CALWORKS": Layout("cdss", "cdss", "csv", "csv", _cols(*_CASES)),
    # Health care (DHCS MEDS): Medi-Cal eligibility spells with aid codes, pipe-delimited per year.
    "MEDS_ELIG": Layout("dhcs", "dhcs", "|", "txt", _cols("CIN", "SSN", "LAST_NAME", "FIRST_NAME",
        "BIRTH_DATE", "SEX", "COUNTY_CODE", "AID_CODE", "ELIG_START_YM", "ELIG_END_YM")),
    # Rehabilitation (DOR): vocational rehabilitation cases, JSON lines per year.
    "VR_CASES": Layout("dor", "dor", "jsonl", "jsonl", _cols("case_number", "ssn", "first_name",
        "last_name", "dob", "gender", "application_date", "closure_date", "outcome")),
    # Developmental services (DDS): consumers by regional center, CSV per year.
    "CONSUMERS": Layout("dds", "dds", "csv", "csv", _cols("UCI", "REGIONAL_CENTER", "FIRST_NAME",
        "LAST_NAME", "BIRTH_DATE", "GENDER", "SSN", "COUNTY_CODE", "STATUS_YEAR")),
    # Workforce programs (WIOA PIRL): program entry, exit and credential attained, pipe-delimited per year.
    "PIRL": Layout("wioa", "wioa", "|", "txt", _cols("PIRL100_UNIQUE_ID", "SSN", "FIRST_NAME", "LAST_NAME",
        "BIRTH_DATE", "GENDER", "PROGRAM", "ENTRY_DATE", "EXIT_DATE", "CREDENTIAL_ATTAINED")),
}
# fmt: on
