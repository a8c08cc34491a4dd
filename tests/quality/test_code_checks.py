"""Every coded value silver reads is checked against conf/codes/: an event table lists a row's unknown
codes per source column, and the codes read only into person records (gender, CAASPP test results, CSU
credential programs not completed) are counted on their bronze rows by the silver gate."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from lakehouse.settings import QualitySettings
from lakehouse.silver.codes import load_code_maps
from lakehouse.silver.colleges import build_college_enrollments, build_completions
from lakehouse.silver.k12 import build_demographics, build_k12_enrollments
from lakehouse.silver.person_records import IDENTITY, record_code_flags
from lakehouse.silver.services import build_aid, build_benefits, build_services
from lakehouse.silver.workforce import build_credentials, build_staff_assignments, build_wages
from lakehouse.sources.layouts import LAYOUTS
from lakehouse.storage import open_storage
from lakehouse.synth.corrupt import CODE_COLUMNS
from lakehouse.tables import BRONZE, SILVER_PERSON_RECORDS
from quality.gate import check_table
from quality.gx_runner import GxValidator

ROOT = Path(__file__).resolve().parents[2]
KEY = b"test-key"
CDS = "19647331234567"

# family -> (the event table builder that reads it, a row whose every code is known)
VALID = {
    "SENR": (build_k12_enrollments, {"ACADEMIC_YEAR": "2018-19", "SCHOOL_CDS": CDS, "SSID": "1",
             "GRADE_LEVEL": "05", "ENROLL_START_DATE": "20180820", "ENROLL_EXIT_DATE": "20190610",
             "EXIT_CODE": "E155", "COMPLETION_STATUS": "100"}),
    "SINF": (build_demographics, {"ACADEMIC_YEAR": "2018-19", "SCHOOL_CDS": CDS, "SSID": "1", "GENDER": "F",
             "HISPANIC_IND": "N", "RACE_CODE_1": "700", "RACE_CODE_2": "201", "ELA_STATUS": "EO",
             "HOMELESS_IND": "N", "FOSTER_IND": "N", "DISABILITY_IND": "N"}),
    "SDEM": (build_demographics, {"ACADEMIC_YEAR": "2018-19", "DISTRICT_CODE": "1964733", "SEID": "1",
             "GENDER": "m", "HISPANIC_IND": "Y", "RACE_CODE_1": "700", "RACE_CODE_2": "400"}),
    "SASS": (build_staff_assignments, {"ACADEMIC_YEAR": "2018-19", "SCHOOL_CDS": CDS, "SEID": "1",
             "JOB_CLASS_CODE": "12", "FTE_PERCENT": "100", "CREDENTIAL_TYPE_CODE": "10"}),
    "SX": (build_college_enrollments, {"GI01_DISTRICT_COLLEGE": "121", "GI03_TERM": "187",
           "SB00_STUDENT_ID": "9"}),
    "SP": (build_completions, {"GI01_DISTRICT_COLLEGE": "121", "GI03_TERM": "195", "SB00_STUDENT_ID": "9",
           "SP02_AWARD": "A", "SP04_AWARD_DATE": "20190605", "SP01_PROGRAM_CIP": "24.0101"}),
    "ERSS": (build_college_enrollments, {"CAMPUS": "SJSU", "TERM": "2019FA", "CSU_ID": "7", "LEVEL": "UG"}),
    "ERSD": (build_completions, {"CAMPUS": "SJSU", "CSU_ID": "7", "DEGREE": "BA", "CIP": "52.0201",
             "DEGREE_DATE": "20210522"}),
    "ERST": (build_completions, {"CAMPUS": "SJSU", "CSU_ID": "7", "ACADEMIC_YEAR": "2022", "PROGRAM": "PREL",
             "COMPLETED": "Y", "COMPLETION_DATE": "20220601"}),
    "ERSFA": (build_aid, {"CAMPUS": "SJSU", "CSU_ID": "7", "ACADEMIC_YEAR": "2020", "CAL_GRANT": "A"}),
    "enrollment": (build_college_enrollments, {"campus": "UCB", "uc_student_id": "5",
                   "academic_year": "2019-20", "term": "FA"}),
    "degrees": (build_completions, {"campus": "UCB", "uc_student_id": "5", "degree": "BS", "cip": "26.0101",
                "conferred": "2021-06-12"}),
    "AICCU_ENROLLMENT": (build_college_enrollments, {"INSTITUTION_ID": "AI10", "STUDENT_ID": "3",
                         "ACADEMIC_YEAR": "2019-20", "TERM": "SP"}),
    "AICCU_DEGREES": (build_completions, {"INSTITUTION_ID": "AI10", "STUDENT_ID": "3",
                      "DEGREE_LEVEL": "BACHELOR", "CIP": "11.0701", "AWARD_DATE": "2021-05-20"}),
    "APPLICATIONS": (build_aid, {"AWARD_YEAR": "2019-20", "CSAC_ID": "7", "APP_TYPE": "FAFSA"}),
    "CALGRANT_PAYMENTS": (build_aid, {"AWARD_YEAR": "2019-20", "CSAC_ID": "7", "GRANT_TYPE": "B"}),
    "CREDENTIALS": (build_credentials, {"SEID": "1", "CREDENTIAL_KIND": "clear", "CREDENTIAL_TERM": "clear",
                    "BASIS": "IHE", "SUBJECT": "Mathematics", "RECOMMENDING_ENTITY": "SJSU",
                    "ISSUE_DATE": "2020-07-01"}),
    "CALFRESH": (build_benefits, {"CASE_NUMBER": "C1", "PERSON_NUMBER": "01", "COUNTY_CODE": "19"}),
    "CALWORKS": (build_benefits, {"CASE_NUMBER": "C2", "PERSON_NUMBER": "01", "COUNTY_CODE": "37"}),
    "MEDS_ELIG": (build_benefits, {"CIN": "90000000A", "COUNTY_CODE": "37", "AID_CODE": "1H"}),
    "ELC_ENROLLMENT": (build_services, {"FISCAL_YEAR": "2015-16", "AGENCY_CODE": "19ELC3", "CHILD_ID": "4",
                       "PROGRAM_TYPE": "CSPP", "DRDP_KINDERGARTEN_READY": "y"}),
    "VR_CASES": (build_services, {"case_number": "V1", "outcome": "EMPLOYED"}),
    "CONSUMERS": (build_services, {"UCI": "0063043", "REGIONAL_CENTER": "RC20", "COUNTY_CODE": "19"}),
    "PIRL": (build_services, {"PIRL100_UNIQUE_ID": "CA1", "PROGRAM": "YOUTH", "CREDENTIAL_ATTAINED": "N"}),
}  # fmt: skip

# Every coded column an event table reads, with a value it must flag as unknown. Counties are the first
# two digits of CDS, district and agency codes: 99 is no county.
EVENT_CODED = {
    "SENR": {"SCHOOL_CDS": "99647331234567", "GRADE_LEVEL": "13", "EXIT_CODE": "ZZ9",
             "COMPLETION_STATUS": "999"},
    "SINF": {"SCHOOL_CDS": "99647331234567", "GENDER": "Q", "HISPANIC_IND": "?", "RACE_CODE_1": "ZZ9",
             "RACE_CODE_2": "ZZ9", "ELA_STATUS": "ZZ9", "HOMELESS_IND": "ZZ9", "FOSTER_IND": "ZZ9",
             "DISABILITY_IND": "ZZ9"},
    "SDEM": {"DISTRICT_CODE": "9964733", "GENDER": "U", "HISPANIC_IND": "ZZ9", "RACE_CODE_1": "ZZ9",
             "RACE_CODE_2": "ZZ9"},
    "SASS": {"SCHOOL_CDS": "99647331234567", "JOB_CLASS_CODE": "ZZ9", "CREDENTIAL_TYPE_CODE": "ZZ9"},
    "SX": {"GI01_DISTRICT_COLLEGE": "ZZ9", "GI03_TERM": "18Z"},
    "SP": {"GI01_DISTRICT_COLLEGE": "ZZ9", "SP02_AWARD": "ZZ9", "SP01_PROGRAM_CIP": "ZZ9"},
    "ERSS": {"CAMPUS": "ZZ9", "TERM": "2019ZZ", "LEVEL": "ZZ"},
    "ERSD": {"CAMPUS": "ZZ9", "DEGREE": "ZZ9", "CIP": "99.0101"},
    "ERST": {"CAMPUS": "ZZ9", "PROGRAM": "ZZ9"},
    "ERSFA": {"CAMPUS": "ZZ9", "CAL_GRANT": "Z"},
    "enrollment": {"campus": "ZZ9", "term": "ZZ9"},
    "degrees": {"campus": "ZZ9", "degree": "ZZ9", "cip": "26.01"},
    "AICCU_ENROLLMENT": {"INSTITUTION_ID": "ZZ9", "TERM": "ZZ9"},
    "AICCU_DEGREES": {"INSTITUTION_ID": "ZZ9", "DEGREE_LEVEL": "ZZ9", "CIP": "ZZ9"},
    "APPLICATIONS": {"APP_TYPE": "ZZ9"},
    "CALGRANT_PAYMENTS": {"GRANT_TYPE": "ZZ9"},
    "CREDENTIALS": {"CREDENTIAL_KIND": "ZZ9", "CREDENTIAL_TERM": "ZZ9", "BASIS": "ZZ9", "SUBJECT": "ZZ9",
                    "RECOMMENDING_ENTITY": "9964733"},
    "CALFRESH": {"COUNTY_CODE": "99"},
    "CALWORKS": {"COUNTY_CODE": "ZZ9"},
    "MEDS_ELIG": {"COUNTY_CODE": "99", "AID_CODE": "ZZ9"},
    "ELC_ENROLLMENT": {"AGENCY_CODE": "99ELC3", "PROGRAM_TYPE": "ZZ9", "DRDP_KINDERGARTEN_READY": "ZZ9"},
    "VR_CASES": {"outcome": "ZZ9"},
    "CONSUMERS": {"REGIONAL_CENTER": "RC99", "COUNTY_CODE": "99"},
    "PIRL": {"PROGRAM": "ZZ9", "CREDENTIAL_ATTAINED": "ZZ9"},
}  # fmt: skip
# Coded columns read only into person records, counted by the silver gate on their bronze rows.
RECORD_CODED = {
    "CAASPP": {"GRADE_LEVEL": "ZZ9", "SUBJECT": "ZZ9"},
    "ERST": {"COMPLETED": "ZZ9"},  # and PROGRAM where the program was not completed
    **{f: {r["gender"]: "Q"} for f, r in IDENTITY.items() if "gender" in r and f not in ("SINF", "SDEM")},
}


@pytest.fixture(scope="module")
def codes():
    return load_code_maps(ROOT / "conf")


def bronze(spark, family: str, rows: list[dict]):
    """Bronze rows of a family: every layout column a string ('' unless given), plus provenance."""
    names = [n for n, _ in LAYOUTS[family].columns]
    data = [tuple(r.get(n, "") for n in names) + (f"{family}_1.txt", i + 2) for i, r in enumerate(rows)]
    ddl = ", ".join(f"`{n}` STRING" for n in names) + ", _source_file STRING, _row_number BIGINT"
    return spark.createDataFrame(data, ddl)


def test_every_code_the_corrupter_can_break_is_checked():
    """`c2c generate --corrupt-rate` puts invalid codes in these columns; silver must count each one."""
    for family, layout in LAYOUTS.items():
        for column, _ in layout.columns:
            if column in CODE_COLUMNS:
                checked = {**EVENT_CODED.get(family, {}), **RECORD_CODED.get(family, {})}
                assert column in checked, (family, column)


@pytest.mark.parametrize("family", sorted(EVENT_CODED))
def test_an_unknown_code_in_each_coded_column_is_listed_on_its_row(spark, codes, family):
    build, valid = VALID[family]
    bad = EVENT_CODED[family]
    rows = [valid, *({**valid, column: value} for column, value in bad.items())]
    built = build({family: bronze(spark, family, rows)}, codes=codes, key=KEY)
    flagged = {
        r["source_row"]: r["unknown_codes"] for r in built.select("source_row", "unknown_codes").collect()
    }
    assert flagged == {2: [], **{i + 3: [column] for i, column in enumerate(bad)}}


def test_a_district_intern_program_is_checked_by_its_county(spark, codes):
    valid = VALID["CREDENTIALS"][1]
    rows = [{**valid, "RECOMMENDING_ENTITY": "1964733"}, {**valid, "RECOMMENDING_ENTITY": ""}]
    built = build_credentials({"CREDENTIALS": bronze(spark, "CREDENTIALS", rows)}, codes=codes, key=KEY)
    assert [r["unknown_codes"] for r in built.orderBy("source_row").collect()] == [[], []]


def test_an_employers_unknown_industry_or_county_is_listed_on_its_wage_rows(spark, codes):
    wage = {"YRQTR": "20241", "SSN": "123456789", "TOTAL_SUBJECT_WAGES": "100.00"}
    de9c = [{**wage, "EMPLOYER_ACCOUNT": a} for a in ("100", "200", "300", "400", "500")]
    employers = [
        {"EMPLOYER_ACCOUNT": "100", "NAICS2": "61", "COUNTY_CODE": "19"},
        {"EMPLOYER_ACCOUNT": "200", "NAICS2": "ZZ9", "COUNTY_CODE": "19"},
        {"EMPLOYER_ACCOUNT": "300", "NAICS2": "44-45", "COUNTY_CODE": "99"},
        {"EMPLOYER_ACCOUNT": "400", "NAICS2": "ZZ9", "COUNTY_CODE": "ZZ9"},
    ]  # 500: no employer row, nothing to check
    b = {"DE9C": bronze(spark, "DE9C", de9c), "EMPLOYERS": bronze(spark, "EMPLOYERS", employers)}
    built = build_wages(b, codes=codes, key=KEY)
    assert {r["employer_account"]: r["unknown_codes"] for r in built.collect()} == {
        "100": [],
        "200": ["NAICS2"],
        "300": ["COUNTY_CODE"],
        "400": ["NAICS2", "COUNTY_CODE"],
        "500": [],
    }


@pytest.mark.parametrize("family", sorted(RECORD_CODED))
def test_codes_read_only_into_person_records_are_flagged_on_their_bronze_rows(spark, codes, family):
    bad = RECORD_CODED[family]
    rows = [{}, *({column: value} for column, value in bad.items())]
    df = bronze(spark, family, rows)
    flagged = [r["codes"] for r in df.select(record_code_flags(family, codes).alias("codes")).collect()]
    assert flagged == [[], *([column] for column in bad)]


def test_a_credential_program_is_flagged_at_person_records_only_when_not_completed(spark, codes):
    """Completed programs reach silver.completions, which checks their code; the others do not."""
    rows = [{"PROGRAM": "ZZ9", "COMPLETED": c} for c in ("Y", "N", "")] + [
        {"PROGRAM": "PREL", "COMPLETED": "N"}
    ]
    df = bronze(spark, "ERST", rows)
    flagged = [r["codes"] for r in df.select(record_code_flags("ERST", codes).alias("codes")).collect()]
    assert flagged == [[], ["PROGRAM"], ["PROGRAM"], []]
    assert record_code_flags("DE9C", codes) is None  # no code read only into person records
    assert record_code_flags("SINF", codes) is None  # its gender is checked in silver.demographics


def _land(spark, storage, family: str, rows: list[dict]) -> None:
    df = bronze(spark, family, rows).select(
        "*",
        F.lit("load-1").alias("_load_id"),
        F.lit(datetime(2026, 11, 1)).alias("_ingested_at"),
        F.lit("h").alias("_record_hash"),
    )
    storage.write(df, BRONZE[family], "overwrite")


def _person_records(spark):
    return spark.createDataFrame(
        [("calpads", "1", "t1", "A", None, "B", "B", None, date(2010, 1, 1), "F", None, None, None, None,
          "1", None, None, None, True, "calpads/SINF_2019.txt", "calpads/SINF_2019.txt")],
        SILVER_PERSON_RECORDS.schema,
    )  # fmt: skip


def test_the_gate_counts_codes_read_only_into_person_records_per_family_and_column(spark, settings):
    """CAASPP test results and the genders of other families, on the landed bronze rows: counted per
    family and column against the family's rows, reported with the person records, and failing only
    beyond the allowed rate, with the bronze rows' positions as examples."""
    storage = open_storage(spark, settings)
    scores = [{"SSID": "1", "GRADE_LEVEL": "05", "SUBJECT": s, "SCALE_SCORE": "2500"} for s in ["ELA"] * 8]
    scores += [{"SSID": "1", "GRADE_LEVEL": "ZZ9", "SUBJECT": "MATH"}, {"SSID": "1", "SUBJECT": "SCIENCE"}]
    _land(spark, storage, "CAASPP", scores)
    _land(spark, storage, "SB", [{"SB04_GENDER": g} for g in ["F", "M", "1", "X", "", "female"]])

    def gate(rate: float, min_bad_rows: int = 1):
        return check_table(
            _person_records(spark),
            SILVER_PERSON_RECORDS,
            storage=storage,
            validator=GxValidator(None),
            quality=QualitySettings(max_unknown_code_rate=rate, min_bad_rows=min_bad_rows),
            run_id="r1",
            run_date=date(2026, 11, 28),
            previous_rows=None,
        )

    checked = gate(0.1)
    try:
        assert checked.unknown_codes == {"CAASPP.GRADE_LEVEL": 1, "CAASPP.SUBJECT": 1}
        codes = {r.check_id: r for r in checked.results if r.expectation == "c2c_known_codes"}
        assert sorted(codes) == ["known_codes:GRADE_LEVEL", "known_codes:SUBJECT"]
        subject = codes["known_codes:SUBJECT"]
        assert (subject.table_name, subject.column_name, subject.policy, subject.success) == (
            "bronze.calpads_caaspp", "SUBJECT", "fail", True,
        )  # fmt: skip
        assert (subject.unexpected_count, subject.element_count, subject.restricted) == (1, 10, True)
        assert not checked.blocked
    finally:
        checked.discard(storage)

    lenient = gate(0.05, min_bad_rows=20)  # beyond 5%, but one bad row is too few to judge a rate
    try:
        assert not lenient.blocked and lenient.unknown_codes == checked.unknown_codes
    finally:
        lenient.discard(storage)

    strict = gate(0.05)  # 1 of 10 rows is beyond 5%
    try:
        blocked = {r.check_id: r.examples for r in strict.blocked}
        assert blocked == {
            "known_codes:GRADE_LEVEL": ["CAASPP_1.txt row 10"],
            "known_codes:SUBJECT": ["CAASPP_1.txt row 11"],
        }
    finally:
        strict.discard(storage)
