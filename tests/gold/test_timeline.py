"""gold.person_timeline from hand-made silver rows: every source's events in their periods, through the
crosswalk, collapsed to one row per person and period."""

from __future__ import annotations

import pytest

from lakehouse.gold.timeline import WAGE_QUARTER, build_person_timeline, with_person_id
from tests.gold.frames import assert_frame, assert_same, crosswalk, silver, timeline

OWNERS = {"k1": "P1", "k2": "P1", "c1": "P2", "s1": "P3"}


def test_events_of_every_source_land_in_their_periods(spark):
    actual = build_person_timeline(
        crosswalk=crosswalk(spark, OWNERS),
        k12_enrollments=silver(
            spark, "k12_enrollments",
            {"record_token": "k1", "academic_year": 2019, "district_code": "0110017", "grade": 11,
             "exit_category": "year_end"},
            {"record_token": "x9", "academic_year": 2019, "district_code": "0199999", "grade": 9},
        ),
        completions=silver(
            spark, "completions",
            {"record_token": "k1", "segment": "K12", "award_level": "standard_diploma",
             "award_date": "2020-06-05", "academic_year": 2020},
            {"record_token": "c1", "segment": "CCC", "institution": "121", "award_level": "associate",
             "award_date": "2022-05-20", "academic_year": 2022},
            {"record_token": "c1", "segment": "CSU", "institution": "SJSU",
             "award_level": "credential_program", "award_date": "2023-05-30", "academic_year": 2023},
        ),
        college_enrollments=silver(
            spark, "college_enrollments",
            *[{"record_token": "c1", "segment": "CCC", "institution": "121", "academic_year": 2021, "term": t}
              for t in ("SU", "SP", "WI", "FA")],
        ),
        credentials=silver(
            spark, "credentials",
            {"record_token": "s1", "credential_kind": "preliminary", "academic_year": 2021},
            {"record_token": "s1", "credential_kind": "clear", "academic_year": 2021},
        ),
        staff_assignments=silver(
            spark, "staff_assignments",
            {"record_token": "s1", "academic_year": 2022, "district_code": "1964733", "is_teacher": True,
             "fte": 0.6},
            {"record_token": "s1", "academic_year": 2022, "district_code": "1975309", "is_teacher": False,
             "fte": 0.4},
        ),
        wages=silver(
            spark, "wages",
            {"record_token": "k2", "employer_account": "E1", "yrqtr": 20233, "wages": 1000},
            {"record_token": "k2", "employer_account": "E2", "yrqtr": 20233, "wages": 250.5},
            {"record_token": "k2", "employer_account": "E1", "yrqtr": 20234, "wages": 1000},
            {"record_token": "x9", "employer_account": "E1", "yrqtr": 20233, "wages": 99},
        ),
        benefits=silver(
            spark, "benefits",
            # A spell from May to September 2019 touches academic years 2019 and 2020.
            {"record_token": "k1", "program": "calfresh", "start_month": "2019-05-01",
             "end_month": "2019-09-01"},
            {"record_token": "k1", "program": "medi_cal", "start_month": "2020-03-01"},
        ),
        services=silver(
            spark, "services", {"record_token": "s1", "program": "wioa_adult", "service_year": 2021}
        ),
        aid=silver(
            spark, "aid",
            {"record_token": "c1", "award_year": 2021, "amount": 1200},
            {"record_token": "c1", "award_year": 2021, "amount": 300},
        ),
    )  # fmt: skip
    expected = timeline(
        spark,
        {"person_id": "P1", "period": 2019, "k12_district": "0110017", "k12_grade": 11,
         "k12_exit": "year_end", "benefit_programs": ["calfresh"]},
        {"person_id": "P1", "period": 2020, "hs_completion": "standard_diploma",
         "benefit_programs": ["calfresh", "medi_cal"]},
        {"person_id": "P1", "period_type": WAGE_QUARTER, "period": 20233, "wages": 1250.5, "employers": 2},
        {"person_id": "P1", "period_type": WAGE_QUARTER, "period": 20234, "wages": 1000, "employers": 1},
        # Term start dates (TERM_START): fall in August of the year before, summer in June.
        {"person_id": "P2", "period": 2021, "aid_amount": 1500, "college_terms": [
            ("2020-08-15", "CCC", "121", "FA"), ("2021-01-05", "CCC", "121", "WI"),
            ("2021-01-15", "CCC", "121", "SP"), ("2021-06-15", "CCC", "121", "SU")]},
        {"person_id": "P2", "period": 2022, "awards": [("2022-05-20", "CCC", "associate")]},
        {"person_id": "P2", "period": 2023, "awards": [("2023-05-30", "CSU", "credential_program")]},
        {"person_id": "P3", "period": 2021, "credentials": ["clear", "preliminary"],
         "service_programs": ["wioa_adult"]},
        {"person_id": "P3", "period": 2022, "teaching": True, "teaching_district": "1964733",
         "staff_fte": 1.0},
    )  # fmt: skip
    assert_same(actual, expected)


def test_events_of_records_no_person_owns_are_dropped(spark):
    events = silver(
        spark,
        "aid",
        {"record_token": "k1", "award_year": 2020, "amount": 10},
        {"record_token": "held-back", "award_year": 2020, "amount": 20},
    )
    actual = with_person_id(events.select("record_token", "amount"), crosswalk(spark, OWNERS))
    assert_frame(actual, [(10, "P1")], "amount DECIMAL(10,2), person_id STRING")


def test_a_wage_record_of_an_unowned_record_leaves_no_quarter(spark):
    actual = build_person_timeline(
        crosswalk=crosswalk(spark, OWNERS),
        wages=silver(spark, "wages", {"record_token": "x9", "employer_account": "E1", "yrqtr": 20233}),
    )
    assert actual.collect() == []


def test_several_enrollments_in_one_year_keep_the_highest_grade_and_its_district_and_exit(spark):
    # Promoted mid-year: grade 9 in one district, then grade 10 in another (input order reversed).
    actual = build_person_timeline(
        crosswalk=crosswalk(spark, OWNERS),
        k12_enrollments=silver(
            spark, "k12_enrollments",
            {"record_token": "k2", "academic_year": 2020, "district_code": "0200002", "grade": 10,
             "entry_date": "2020-01-06", "exit_category": "year_end"},
            {"record_token": "k1", "academic_year": 2020, "district_code": "0100001", "grade": 9,
             "entry_date": "2019-08-20", "exit_date": "2020-01-03", "exit_category": "transfer_ca_public"},
            {"record_token": "c1", "academic_year": 2020, "district_code": "0300003", "grade": 12,
             "exit_category": "completer"},
        ),
    )  # fmt: skip
    expected = timeline(
        spark,
        {
            "person_id": "P1",
            "period": 2020,
            "k12_district": "0200002",
            "k12_grade": 10,
            "k12_exit": "year_end",
        },
        {
            "person_id": "P2",
            "period": 2020,
            "k12_district": "0300003",
            "k12_grade": 12,
            "k12_exit": "completer",
        },
    )
    assert_same(actual, expected)


def test_a_mid_year_move_in_the_same_grade_keeps_the_last_district_and_exit(spark):
    # Four students move mid-year in grade 12 (first district "..1", last "..2"). Their rows come in
    # both input orders and both record-token orders, so whichever order a tie is settled by, at least
    # one of them keeps the first district unless the rule looks at the enrollment dates.
    def enrollment(token: str, person: str, last: bool) -> dict:
        return {
            "record_token": token, "academic_year": 2020, "grade": 12,
            "district_code": f"{person}00002" if last else f"{person}00001",
            "entry_date": "2020-01-13" if last else "2019-08-20",
            "exit_date": "2020-06-10" if last else "2020-01-10",
            "exit_category": "completer" if last else "transfer_ca_public",
        }  # fmt: skip

    rows = [
        enrollment("a1", "A", last=False), enrollment("a2", "A", last=True),
        enrollment("b2", "B", last=True), enrollment("b1", "B", last=False),
        enrollment("c2", "C", last=False), enrollment("c1", "C", last=True),
        enrollment("d1", "D", last=True), enrollment("d2", "D", last=False),
    ]  # fmt: skip
    owners = {r["record_token"]: r["record_token"][0].upper() for r in rows}
    actual = build_person_timeline(
        crosswalk=crosswalk(spark, owners), k12_enrollments=silver(spark, "k12_enrollments", *rows)
    )
    expected = timeline(
        spark,
        *[
            {
                "person_id": p,
                "period": 2020,
                "k12_district": f"{p}00002",
                "k12_grade": 12,
                "k12_exit": "completer",
            }
            for p in "ABCD"
        ],
    )
    assert_same(actual, expected)


def test_an_award_of_an_unmapped_institution_stays_on_the_timeline(spark):
    actual = build_person_timeline(
        crosswalk=crosswalk(spark, OWNERS),
        completions=silver(
            spark,
            "completions",
            {"record_token": "c1", "segment": None, "institution": "999", "award_level": "associate",
             "award_date": "2022-05-20", "academic_year": 2022},
        ),
    )  # fmt: skip
    expected = timeline(
        spark, {"person_id": "P2", "period": 2022, "awards": [("2022-05-20", None, "associate")]}
    )
    assert_same(actual, expected)


def test_a_timeline_needs_at_least_one_source(spark):
    with pytest.raises(ValueError, match="no source tables"):
        build_person_timeline(crosswalk=crosswalk(spark, OWNERS))
