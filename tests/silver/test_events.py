"""Silver event tables from hand-made bronze rows: each agency's codes, terms, years and amounts
become the common columns; unknown codes are listed, never guessed."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from lakehouse.silver.codes import load_code_maps
from lakehouse.silver.colleges import build_college_enrollments, build_completions
from lakehouse.silver.events import keyed_record_key, keyed_record_keys, record_key
from lakehouse.silver.k12 import build_demographics
from lakehouse.silver.services import build_aid, build_benefits, build_services
from lakehouse.silver.workforce import build_credentials, build_staff_assignments, build_wages
from lakehouse.sources.layouts import LAYOUTS

ROOT = Path(__file__).resolve().parents[2]
KEY = b"test-key"


@pytest.fixture(scope="module")
def codes():
    return load_code_maps(ROOT / "conf")


def token(source: str, record_key: str) -> str:
    return hmac.new(KEY, f"{source}:{record_key}".encode(), hashlib.sha256).hexdigest()


def bronze(spark, family: str, *rows: dict):
    """Bronze rows of a family: every layout column a string ('' unless given), plus provenance."""
    names = [n for n, _ in LAYOUTS[family].columns]
    data = [tuple(row.get(n, "") for n in names) + (f"{family}_1.txt", i + 2) for i, row in enumerate(rows)]
    ddl = ", ".join(f"`{n}` STRING" for n in names) + ", _source_file STRING, _row_number BIGINT"
    return spark.createDataFrame(data, ddl)


def check(actual, spark, expected_rows: list[tuple], ddl: str):
    expected = spark.createDataFrame(expected_rows, ddl)
    assert_df_equality(
        actual.select(*expected.columns), expected, ignore_nullable=True, ignore_row_order=True
    )


def test_college_enrollments_read_every_segments_terms(spark, codes):
    b = {
        "SX": bronze(
            spark,
            "SX",
            {
                "GI01_DISTRICT_COLLEGE": "121",
                "GI03_TERM": "187",
                "SB00_STUDENT_ID": "9",
                "SX03_UNITS_ATTEMPTED": "12.00",
                "SX04_UNITS_EARNED": "9.50",
            },
            {
                "GI01_DISTRICT_COLLEGE": "121",
                "GI03_TERM": "193",
                "SB00_STUDENT_ID": "9",
                "SX03_UNITS_ATTEMPTED": "6.00",
                "SX04_UNITS_EARNED": "6.00",
            },
        ),  # fmt: skip
        "ERSS": bronze(
            spark,
            "ERSS",
            {"CAMPUS": "SJSU", "TERM": "2019FA", "CSU_ID": "7", "UNITS": "0012.0", "LEVEL": "CR"},
        ),  # fmt: skip
        "enrollment": bronze(
            spark,
            "enrollment",
            {
                "campus": "UCLA",
                "uc_student_id": "5",
                "academic_year": "2018-19",
                "term": "WI",
                "units": "16.0",
            },
        ),  # fmt: skip
        "AICCU_ENROLLMENT": bronze(
            spark,
            "AICCU_ENROLLMENT",
            {
                "INSTITUTION_ID": "AI99",
                "STUDENT_ID": "3",
                "ACADEMIC_YEAR": "2018-19",
                "TERM": "QQ",
                "CREDITS": "15.00",
            },
        ),  # fmt: skip
    }
    check(
        build_college_enrollments(b, codes=codes, key=KEY),
        spark,
        [
            ("ccc", token("ccc", "121-9"), "CCC", "121", 2019, "FA", "undergraduate", 12.0, 9.5, []),
            ("ccc", token("ccc", "121-9"), "CCC", "121", 2019, "SP", "undergraduate", 6.0, 6.0, []),
            ("csu", token("csu", "SJSU-7"), "CSU", "SJSU", 2019, "FA", "credential", 12.0, None, []),
            ("uc", token("uc", "UCLA-5"), "UC", "UCLA", 2019, "WI", "undergraduate", 16.0, None, []),
            (
                "aiccu",
                token("aiccu", "AI99-3"),
                None,
                "AI99",
                2019,
                None,
                "undergraduate",
                15.0,
                None,
                ["TERM", "INSTITUTION_ID"],
            ),
        ],  # fmt: skip
        "source STRING, record_token STRING, segment STRING, institution STRING, academic_year INT, "
        "term STRING, level STRING, units_attempted DOUBLE, units_earned DOUBLE, unknown_codes ARRAY<STRING>",
    )


def test_completions_keep_diplomas_awards_degrees_and_programs(spark, codes):
    b = {
        "SENR": bronze(
            spark,
            "SENR",
            {
                "SCHOOL_CDS": "19647331234567",
                "SSID": "1000000001",
                "ENROLL_EXIT_DATE": "20190610",
                "EXIT_CODE": "E230",
                "COMPLETION_STATUS": "100",
            },
            {
                "SCHOOL_CDS": "19647331234567",
                "SSID": "1000000002",
                "ENROLL_EXIT_DATE": "20190610",
                "EXIT_CODE": "E155",
            },  # not a completion
        ),  # fmt: skip
        "SP": bronze(
            spark,
            "SP",
            {
                "GI01_DISTRICT_COLLEGE": "121",
                "SB00_STUDENT_ID": "9",
                "SP02_AWARD": "A",
                "SP04_AWARD_DATE": "20200605",
                "SP01_PROGRAM_CIP": "24.0101",
            },
        ),  # fmt: skip
        "ERST": bronze(
            spark,
            "ERST",
            {
                "CAMPUS": "SJSU",
                "CSU_ID": "7",
                "PROGRAM": "PREL",
                "COMPLETED": "Y",
                "COMPLETION_DATE": "20220815",
            },
            {"CAMPUS": "SJSU", "CSU_ID": "8", "PROGRAM": "PREL", "COMPLETED": "N", "COMPLETION_DATE": ""},
        ),
        "degrees": bronze(
            spark,
            "degrees",
            {
                "campus": "UCB",
                "uc_student_id": "5",
                "degree": "BS",
                "cip": "26.0101",
                "conferred": "2021-06-12",
            },
        ),  # fmt: skip
    }
    check(
        build_completions(b, codes=codes, key=KEY),
        spark,
        [
            (
                "calpads",
                token("calpads", "1000000001"),
                "K12",
                "19647331234567",
                "standard_diploma",
                "100",
                None,
                date(2019, 6, 10),
                2019,
            ),
            ("ccc", token("ccc", "121-9"), "CCC", "121", "associate", "A", "24.0101", date(2020, 6, 5), 2020),
            (
                "csu",
                token("csu", "SJSU-7"),
                "CSU",
                "SJSU",
                "credential_program",
                "PREL",
                None,
                date(2022, 8, 15),
                2023,
            ),
            ("uc", token("uc", "UCB-5"), "UC", "UCB", "bachelor", "BS", "26.0101", date(2021, 6, 12), 2021),
        ],  # fmt: skip
        "source STRING, record_token STRING, segment STRING, institution STRING, award_level STRING, "
        "award_code STRING, cip STRING, award_date DATE, academic_year INT",
    )


def test_credentials_name_the_preparing_segment(spark, codes):
    rows = [
        {"SEID": "1", "DOC_NUMBER": "190012345", "CREDENTIAL_KIND": "preliminary",
         "CREDENTIAL_TERM": "preliminary", "BASIS": "IHE", "SUBJECT": "Mathematics",
         "RECOMMENDING_ENTITY": "CSULB", "ISSUE_DATE": "2019-07-01"},
        {"SEID": "2", "CREDENTIAL_KIND": "intern", "CREDENTIAL_TERM": "preliminary", "BASIS": "LEA",
         "SUBJECT": "Education Specialist", "RECOMMENDING_ENTITY": "1964733", "ISSUE_DATE": "2019-06-30"},
        {"SEID": "3", "CREDENTIAL_KIND": "emergency", "BASIS": "DIRECT", "ISSUE_DATE": "2020-01-02"},
    ]  # fmt: skip
    check(
        build_credentials({"CREDENTIALS": bronze(spark, "CREDENTIALS", *rows)}, codes=codes, key=KEY),
        spark,
        [
            (
                token("ctc", "1"),
                hmac.new(KEY, b"ctc-doc:190012345", hashlib.sha256).hexdigest(),
                "preliminary",
                "preliminary",
                "institution",
                "Mathematics",
                "CSULB",
                "CSU",
                date(2019, 7, 1),
                2020,
                [],
            ),
            (
                token("ctc", "2"),
                None,
                "intern",
                "preliminary",
                "district",
                "Education Specialist",
                "1964733",
                "DISTRICT",
                date(2019, 6, 30),
                2019,
                [],
            ),
            (
                token("ctc", "3"),
                None,
                None,
                None,
                "direct",
                None,
                None,
                "NONE",
                date(2020, 1, 2),
                2020,
                ["CREDENTIAL_KIND"],
            ),
        ],  # fmt: skip
        "record_token STRING, document_token STRING, credential_kind STRING, credential_term STRING, "
        "basis STRING, subject STRING, "
        "preparing_institution STRING, preparing_segment STRING, issue_date DATE, academic_year INT, "
        "unknown_codes ARRAY<STRING>",
    )


def test_staff_assignments_and_wages(spark, codes):
    sass = bronze(spark, "SASS", {"ACADEMIC_YEAR": "2019-20", "SCHOOL_CDS": "19647331234567", "SEID": "1",
                                  "JOB_CLASS_CODE": "12", "FTE_PERCENT": "50",
                                  "CREDENTIAL_TYPE_CODE": "20"})  # fmt: skip
    check(
        build_staff_assignments({"SASS": sass}, codes=codes, key=KEY),
        spark,
        [(token("calpads_staff", "1"), 2020, "1964733", "19", "teacher", True, 0.5, "university_intern")],
        "record_token STRING, academic_year INT, district_code STRING, county_code STRING, job_class STRING, "
        "is_teacher BOOLEAN, fte DOUBLE, credential_type STRING",
    )
    b = {
        "DE9C": bronze(
            spark,
            "DE9C",
            {
                "EMPLOYER_ACCOUNT": "100",
                "YRQTR": "20234",
                "SSN": "123456789",
                "TOTAL_SUBJECT_WAGES": "12017.38",
            },
            {"EMPLOYER_ACCOUNT": "200", "YRQTR": "20241", "SSN": "123456789", "TOTAL_SUBJECT_WAGES": "0.50"},
        ),
        "EMPLOYERS": bronze(
            spark,
            "EMPLOYERS",
            {"EMPLOYER_ACCOUNT": "100", "NAICS2": "61", "COUNTY_CODE": "19"},
            {"EMPLOYER_ACCOUNT": "100", "NAICS2": "62", "COUNTY_CODE": "37"},  # a later row wins
        ),
    }
    wages = build_wages(b, codes=codes, key=KEY)
    assert "SSN" not in wages.columns
    check(
        wages,
        spark,
        [
            (
                token("edd", keyed_record_key("edd", "100-123456789", KEY)),
                "100",
                20234,
                2023,
                4,
                Decimal("12017.38"),
                "62",
                "37",
            ),
            (
                token("edd", keyed_record_key("edd", "200-123456789", KEY)),
                "200",
                20241,
                2024,
                1,
                Decimal("0.50"),
                None,
                None,
            ),
        ],
        "record_token STRING, employer_account STRING, yrqtr INT, year INT, quarter INT, "
        "wages DECIMAL(12,2), "
        "naics2 STRING, employer_county_code STRING",
    )


def test_benefits_aid_and_services(spark, codes):
    b = {
        "CALFRESH": bronze(
            spark,
            "CALFRESH",
            {
                "CASE_NUMBER": "C1",
                "PERSON_NUMBER": "01",
                "COUNTY_CODE": "19",
                "BEGIN_MONTH": "201211",
                "END_MONTH": "201302",
            },
        ),  # fmt: skip
        "MEDS_ELIG": bronze(
            spark,
            "MEDS_ELIG",
            {
                "CIN": "90000000A",
                "COUNTY_CODE": "37",
                "AID_CODE": "ZZ",
                "ELIG_START_YM": "201801",
                "ELIG_END_YM": "201801",
            },
        ),  # fmt: skip
    }
    check(
        build_benefits(b, codes=codes, key=KEY),
        spark,
        [
            (
                token("cdss", "C1-01"),
                "calfresh",
                "19",
                None,
                None,
                date(2012, 11, 1),
                date(2013, 2, 1),
                4,
                [],
            ),
            (
                token("dhcs", "90000000A"),
                "medi_cal",
                "37",
                "ZZ",
                None,
                date(2018, 1, 1),
                date(2018, 1, 1),
                1,
                ["AID_CODE"],
            ),
        ],  # fmt: skip
        "record_token STRING, program STRING, county_code STRING, aid_code STRING, eligibility_group STRING, "
        "start_month DATE, end_month DATE, months INT, unknown_codes ARRAY<STRING>",
    )
    b = {
        "APPLICATIONS": bronze(
            spark, "APPLICATIONS", {"AWARD_YEAR": "2019-20", "CSAC_ID": "7", "APP_TYPE": "CADAA"}
        ),
        "CALGRANT_PAYMENTS": bronze(
            spark,
            "CALGRANT_PAYMENTS",
            {"AWARD_YEAR": "2019-20", "CSAC_ID": "7", "GRANT_TYPE": "B", "AMOUNT": "1648"},
        ),  # fmt: skip
        "ERSFA": bronze(
            spark,
            "ERSFA",
            {
                "CAMPUS": "SJSU",
                "CSU_ID": "7",
                "ACADEMIC_YEAR": "2020",
                "CAL_GRANT": "A",
                "AMOUNT": "00005742",
            },
        ),  # fmt: skip
    }
    check(
        build_aid(b, codes=codes, key=KEY),
        spark,
        [
            (token("csac", "7"), 2020, "cadaa", None, None),
            (token("csac", "7"), 2020, "cal_grant_b", Decimal("1648.00"), None),
            (token("csu", "SJSU-7"), 2020, "cal_grant_a", Decimal("5742.00"), "SJSU"),
        ],
        "record_token STRING, award_year INT, aid_type STRING, amount DECIMAL(10,2), institution STRING",
    )
    b = {
        "ELC_ENROLLMENT": bronze(
            spark,
            "ELC_ENROLLMENT",
            {
                "FISCAL_YEAR": "2015-16",
                "AGENCY_CODE": "19ELC3",
                "CHILD_ID": "4",
                "PROGRAM_TYPE": "CSPP",
                "DAYS_ENROLLED": "120",
                "DRDP_KINDERGARTEN_READY": "Y",
            },
        ),  # fmt: skip
        "PIRL": bronze(
            spark,
            "PIRL",
            {
                "PIRL100_UNIQUE_ID": "CA1",
                "PROGRAM": "YOUTH",
                "ENTRY_DATE": "20210301",
                "EXIT_DATE": "20210901",
                "CREDENTIAL_ATTAINED": "Y",
            },
        ),  # fmt: skip
        "CONSUMERS": bronze(
            spark,
            "CONSUMERS",
            {"UCI": "0063043", "REGIONAL_CENTER": "RC20", "COUNTY_CODE": "19", "STATUS_YEAR": "2022"},
        ),  # fmt: skip
    }
    check(
        build_services(b, codes=codes, key=KEY),
        spark,
        [
            (
                token("cde_elc", "19ELC3-4"),
                "state_preschool",
                "19ELC3",
                "19",
                2016,
                None,
                None,
                "kindergarten_ready",
                None,
                120,
            ),
            (
                token("wioa", "CA1"),
                "wioa_youth",
                None,
                None,
                2021,
                date(2021, 3, 1),
                date(2021, 9, 1),
                None,
                True,
                None,
            ),
            (
                token("dds", "0063043"),
                "developmental_services",
                "RC20",
                "19",
                2022,
                None,
                None,
                None,
                None,
                None,
            ),
        ],  # fmt: skip
        "record_token STRING, program STRING, provider STRING, county_code STRING, service_year INT, "
        "start_date DATE, end_date DATE, outcome STRING, credential_attained BOOLEAN, days INT",
    )


def test_demographics_report_groups_and_flags(spark, codes):
    sinf = bronze(
        spark,
        "SINF",
        {"ACADEMIC_YEAR": "2018-19", "SCHOOL_CDS": "19647331234567", "SSID": "1", "GENDER": "F",
         "HISPANIC_IND": "Y", "RACE_CODE_1": "700", "ELA_STATUS": "EL", "HOMELESS_IND": "N",
         "FOSTER_IND": "Y",
         "DISABILITY_IND": "N"},
        {"ACADEMIC_YEAR": "2018-19", "SCHOOL_CDS": "19647331234567", "SSID": "2", "GENDER": "M",
         "HISPANIC_IND": "N", "RACE_CODE_1": "700", "RACE_CODE_2": "201", "ELA_STATUS": "EO",
         "HOMELESS_IND": "Y", "FOSTER_IND": "N", "DISABILITY_IND": "N"},
        {"ACADEMIC_YEAR": "2018-19", "SCHOOL_CDS": "19647331234567", "SSID": "3", "HISPANIC_IND": "N",
         "RACE_CODE_1": "205", "ELA_STATUS": "RFEP", "HOMELESS_IND": "N", "FOSTER_IND": "N",
         "DISABILITY_IND": "Q"},
    )  # fmt: skip
    check(
        build_demographics({"SINF": sinf}, codes=codes, key=KEY),
        spark,
        [
            (token("calpads", "1"), 2019, "Hispanic or Latino", "F", True, False, True, False, []),
            (token("calpads", "2"), 2019, "Two or More Races", "M", False, True, False, False, []),
            (token("calpads", "3"), 2019, "Asian", None, False, False, False, None, ["DISABILITY_IND"]),
        ],
        "record_token STRING, academic_year INT, race_ethnicity STRING, gender STRING, "
        "english_learner BOOLEAN, "
        "homeless BOOLEAN, foster BOOLEAN, disability BOOLEAN, unknown_codes ARRAY<STRING>",
    )


@pytest.mark.parametrize(
    ("account", "ssn"),
    [("100", "123456789"), ("100", ""), ("100", "123-45-6789"), (" 100 ", " 123456789 "), ("", "987654321")],
)
def test_the_truths_edd_keys_map_as_silver_builds_them(spark, account, ssn):
    """An EDD key from the bronze columns (`record_key`), from the truth's text in Spark
    (`keyed_record_keys`) and in Python (`keyed_record_key`) is one value."""
    row = bronze(spark, "DE9C", {"EMPLOYER_ACCOUNT": account, "SSN": ssn})
    truth_text = f"{account.strip()}-{ssn.strip()}"
    [built] = row.select(
        record_key("DE9C", KEY).alias("built"),
        keyed_record_keys(F.lit("edd"), F.lit(truth_text), KEY).alias("mapped"),
    ).collect()
    assert built["built"] == built["mapped"] == keyed_record_key("edd", truth_text, KEY)
    assert ssn.strip() == "" or ssn.strip() not in built["built"]
