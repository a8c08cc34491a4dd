"""K-12 enrollment events: typed, coded, and unknown codes flagged rather than guessed."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from chispa import assert_df_equality

from lakehouse.errors import SettingsError
from lakehouse.silver.codes import load_code_maps
from lakehouse.silver.k12 import build_k12_enrollments

ROOT = Path(__file__).resolve().parents[2]
KEY = b"test-key"


def token(source: str, record_key: str) -> str:
    """The record token silver must produce: HMAC-SHA256 of '<source>:<key>' (RFC 2104, Python's hmac)."""
    return hmac.new(KEY, f"{source}:{record_key}".encode(), hashlib.sha256).hexdigest()


SENR = (
    "ACADEMIC_YEAR STRING, SCHOOL_CDS STRING, SSID STRING, LOCAL_STUDENT_ID STRING, GRADE_LEVEL STRING, "
    "ENROLL_START_DATE STRING, ENROLL_EXIT_DATE STRING, EXIT_CODE STRING, COMPLETION_STATUS STRING, "
    "_source_file STRING, _row_number BIGINT"
)


def test_senr_rows_become_coded_events(spark):
    senr = spark.createDataFrame(
        [
            (
                "2018-19",
                "19647331234567",
                "1000000001",
                "77",
                "12",
                "20180820",
                "20190610",
                "E230",
                "100",
                "calpads/SENR_2019.txt",
                2,
            ),
            (
                "2018-19",
                "19647331234567",
                "1000000002",
                "78",
                "KN",
                "20180820",
                "20190115",
                "T160",
                "",
                "calpads/SENR_2019.txt",
                3,
            ),
            (
                "2018-19",
                "19647331234567",
                "1000000003",
                "79",
                "13",
                "20180820",
                "20190610",
                "ZZ9",
                "",
                "calpads/SENR_2019.txt",
                4,
            ),
        ],
        SENR,
    )
    events = build_k12_enrollments({"SENR": senr}, codes=load_code_maps(ROOT / "conf"), key=KEY).drop(
        "source_file"
    )
    expected = spark.createDataFrame(
        [
            (
                "calpads",
                token("calpads", "1000000001"),
                2019,
                "19647331234567",
                "1964733",
                "19",
                12,
                "2018-08-20",
                "2019-06-10",
                "E230",
                "completer",
                "100",
                "standard_diploma",
                [],
                2,
            ),
            (
                "calpads",
                token("calpads", "1000000002"),
                2019,
                "19647331234567",
                "1964733",
                "19",
                0,
                "2018-08-20",
                "2019-01-15",
                "T160",
                "transfer_ca_public",
                None,
                None,
                [],
                3,
            ),
            (
                "calpads",
                token("calpads", "1000000003"),
                2019,
                "19647331234567",
                "1964733",
                "19",
                None,
                "2018-08-20",
                "2019-06-10",
                "ZZ9",
                None,
                None,
                None,
                ["GRADE_LEVEL", "EXIT_CODE"],
                4,
            ),
        ],
        "source STRING, record_token STRING, academic_year INT, school_cds STRING, "
        "district_code STRING, county_code STRING, grade INT, entry_date STRING, exit_date STRING, "
        "exit_code STRING, exit_category STRING, completion_status STRING, completion STRING, "
        "unknown_codes ARRAY<STRING>, source_row BIGINT",
    ).selectExpr("*", "to_date(entry_date) AS e", "to_date(exit_date) AS x")
    expected = expected.drop("entry_date", "exit_date").withColumnsRenamed(
        {"e": "entry_date", "x": "exit_date"}
    )
    assert_df_equality(
        events.select(*expected.columns), expected, ignore_nullable=True, ignore_row_order=True
    )


def test_code_maps_refuse_codes_without_a_common_code(tmp_path):
    (tmp_path / "codes").mkdir()
    (tmp_path / "codes" / "calpads.yml").write_text("calpads_exit_code:\n  E230: completer\n  E155:\n")
    with pytest.raises(SettingsError, match=r"calpads_exit_code.*without a common code: \['E155'\]"):
        load_code_maps(tmp_path)
