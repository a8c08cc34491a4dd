"""How to read the 15 agency extracts: their file layouts, how each family writes its dates, which
columns must be numbers, and which columns make a row's source record key.

The layouts themselves (source, folder, kind, extension, columns and widths of each file family) are
declared with the tables, in lakehouse/tables/layouts.py, since each family's bronze table has the
layout's columns; they are re-exported here. The generator (lakehouse/synth) writes these layouts;
landing reads them and checks each row's dates and numbers by the specs lakehouse/sources/spec.py
builds from them.

Source record keys (what identifies a person record within its source, as `_truth/person_truth.csv`
spells it; silver spells EDD's with the SSN's keyed token in place of the SSN):

| source | key |
|---|---|
| cde_elc | `AGENCY_CODE-CHILD_ID` |
| calpads | `SSID` |
| calpads_staff, ctc | `SEID` |
| ccc | `GI01_DISTRICT_COLLEGE-SB00_STUDENT_ID` |
| csu | `CAMPUS-CSU_ID` |
| uc | `campus-uc_student_id` |
| aiccu | `INSTITUTION_ID-STUDENT_ID` |
| csac | `CSAC_ID` |
| edd | `EMPLOYER_ACCOUNT-SSN` (one record per job: DE 9C has no person id of its own) |
| cdss | `CASE_NUMBER-PERSON_NUMBER` |
| dhcs | `CIN` |
| dor | `case_number` |
| dds | `UCI` |
| wioa | `PIRL100_UNIQUE_ID` |
"""

from __future__ import annotations

from lakehouse.tables.layouts import LAYOUTS, Layout

__all__ = [
    "DATE_FORMATS",
    "LAYOUTS",
    "NUMERIC",
    "RECORD_KEYS",
    "SPARK_DATE",
    "Layout",
    "family_of",
    "header_for",
]


def header_for(path: str) -> str | None:
    """The header row of an extract file, from its family (the name before the first `_<suffix>`)."""
    family = family_of(path)
    return LAYOUTS[family].header if family else None


# How each agency writes its dates (strptime formats); bronze parses with the same ones.
YMD, MDY, ISO, YM = "%Y%m%d", "%m/%d/%Y", "%Y-%m-%d", "%Y%m"
SPARK_DATE = {
    YMD: "yyyyMMdd",
    MDY: "MM/dd/yyyy",
    ISO: "yyyy-MM-dd",
    YM: "yyyyMM",
}  # the same, for try_to_date
DATE_FORMATS: dict[str, dict[str, str]] = {
    "ELC_ENROLLMENT": {"BIRTH_DATE": MDY},
    "SINF": {"BIRTH_DATE": YMD},
    "SENR": {"ENROLL_START_DATE": YMD, "ENROLL_EXIT_DATE": YMD},
    "SDEM": {"BIRTH_DATE": YMD},
    "SB": {"SB03_BIRTH_DATE": YMD},
    "SP": {"SP04_AWARD_DATE": YMD},
    "ERSS": {"BIRTH_DATE": YMD},
    "ERSD": {"DEGREE_DATE": YMD},
    "ERST": {"COMPLETION_DATE": YMD},
    "enrollment": {"birth_date": ISO},
    "degrees": {"conferred": ISO},
    "AICCU_ENROLLMENT": {"DOB": ISO},
    "AICCU_DEGREES": {"AWARD_DATE": ISO},
    "APPLICATIONS": {"DOB": MDY},
    "CREDENTIALS": {"BIRTH_DATE": MDY, "ISSUE_DATE": ISO},
    "CALFRESH": {"BIRTH_DATE": MDY, "BEGIN_MONTH": YM, "END_MONTH": YM},
    "CALWORKS": {"BIRTH_DATE": MDY, "BEGIN_MONTH": YM, "END_MONTH": YM},
    "MEDS_ELIG": {"BIRTH_DATE": YMD, "ELIG_START_YM": YM, "ELIG_END_YM": YM},
    "VR_CASES": {"dob": ISO, "application_date": ISO, "closure_date": ISO},
    "CONSUMERS": {"BIRTH_DATE": MDY},
    "PIRL": {"BIRTH_DATE": YMD, "ENTRY_DATE": YMD, "EXIT_DATE": YMD},
}

# The columns that must parse as numbers, per family (a family not listed has none): a row with a value
# in one of them that is not a plain decimal is quarantined with the reason; an empty one is missing.
NUMERIC: dict[str, tuple[str, ...]] = {
    "ELC_ENROLLMENT": ("ENTRY_AGE", "DAYS_ENROLLED"),
    "CAASPP": ("SCALE_SCORE",),
    "SASS": ("JOB_CLASS_CODE", "FTE_PERCENT", "CREDENTIAL_TYPE_CODE"),
    "SX": ("SX03_UNITS_ATTEMPTED", "SX04_UNITS_EARNED"),
    "ERSS": ("UNITS",),
    "ERST": ("ACADEMIC_YEAR",),
    "ERSFA": ("ACADEMIC_YEAR", "AMOUNT"),
    "enrollment": ("units",),
    "AICCU_ENROLLMENT": ("CREDITS",),
    "CALGRANT_PAYMENTS": ("AMOUNT",),
    "DE9C": ("YRQTR", "TOTAL_SUBJECT_WAGES"),
    "CONSUMERS": ("STATUS_YEAR",),
}


def family_of(path: str) -> str | None:
    """The layout family of an extract file path relative to the raw root (None for other files)."""
    name = path.rsplit("/", 1)[-1]
    for family, layout in LAYOUTS.items():
        if name.startswith(family + "_") and path.startswith(layout.directory + "/"):
            return family
    return None


# The columns whose values, joined by "-", make each row's source record key (see the table above).
RECORD_KEYS: dict[str, tuple[str, ...]] = {
    "ELC_ENROLLMENT": ("AGENCY_CODE", "CHILD_ID"),
    **{f: ("SSID",) for f in ("SINF", "SENR", "CAASPP")},
    **{f: ("SEID",) for f in ("SDEM", "SASS", "CREDENTIALS")},
    **{f: ("GI01_DISTRICT_COLLEGE", "SB00_STUDENT_ID") for f in ("SB", "SX", "SP")},
    **{f: ("CAMPUS", "CSU_ID") for f in ("ERSS", "ERSD", "ERST", "ERSFA")},
    **{f: ("campus", "uc_student_id") for f in ("enrollment", "degrees")},
    **{f: ("INSTITUTION_ID", "STUDENT_ID") for f in ("AICCU_ENROLLMENT", "AICCU_DEGREES")},
    **{f: ("CSAC_ID",) for f in ("APPLICATIONS", "CALGRANT_PAYMENTS")},
    "DE9C": ("EMPLOYER_ACCOUNT", "SSN"),
    **{f: ("CASE_NUMBER", "PERSON_NUMBER") for f in ("CALFRESH", "CALWORKS")},
    "MEDS_ELIG": ("CIN",),
    "VR_CASES": ("case_number",),
    "CONSUMERS": ("UCI",),
    "PIRL": ("PIRL100_UNIQUE_ID",),
}
