"""Cohort rules on hand-made inputs: who is in the cohort of which year, and the breakdown values
(never null: a missing attribute is "Unknown")."""

from __future__ import annotations

from lakehouse.gold.cohorts import (
    first_teaching_credential,
    high_school_graduates,
    person_attributes,
    workforce_program_exits,
)
from lakehouse.gold.timeline import build_person_timeline
from tests.gold.frames import assert_frame, crosswalk, gold_inputs, people, silver, timeline

TEACHER_COLUMNS = (
    "person_id STRING, cohort_year INT, credential_type STRING, subject STRING, "
    "preparing_institution STRING, segment STRING, county STRING, region STRING, teaching_county STRING, "
    "gender STRING, race_ethnicity STRING"
)
GRADUATE_COLUMNS = (
    "person_id STRING, cohort_year INT, low_income STRING, english_learner STRING, foster STRING, "
    "homeless STRING, disability STRING, district STRING, gender STRING, race_ethnicity STRING"
)


def credential(token, kind, issued, year, institution=None, segment=None, subject="Mathematics", doc="D1"):
    return {
        "record_token": token, "credential_kind": kind, "issue_date": issued, "academic_year": year,
        "preparing_institution": institution, "preparing_segment": segment, "subject": subject,
        "document_token": doc,
    }  # fmt: skip


def test_first_teaching_credential_is_the_earliest_preliminary_or_intern(spark):
    creds = silver(
        spark, "credentials",
        credential("t1", "clear", "2018-03-01", 2018, "SJSU", "CSU"),  # clear and permit do not count
        credential("t1", "intern", "2019-09-01", 2020, "SJSU", "CSU"),
        credential("t2", "preliminary", "2021-08-01", 2022, "UCLA", "UC"),  # P1's second record, later
        credential("t3", "permit", "2017-01-01", 2017, "UCLA", "UC"),
        credential("t3", "preliminary", "2020-10-01", 2021, "1964733", "DISTRICT", subject="English"),
        credential("t4", "preliminary", None, None, "UCLA", "UC"),  # no issue date: not a first credential
        credential("t4", "preliminary", "2021-01-10", 2021, "X99", "AICCU", subject=None),
        credential("t5", "clear", "2019-01-10", 2019, "SJSU", "CSU"),
        credential("t6", "intern", "2022-02-01", 2022, "UCLA", "UC", doc="B2"),  # same day: token order
        credential("t6", "preliminary", "2022-02-01", 2022, "SJSU", "CSU", doc="A1"),
        credential("t7", "waiver", "2020-02-01", 2020, "SJSU", "CSU"),
        credential("t8", "intern", "2020-02-01", 2020, "5071043", "DISTRICT"),
        credential("x9", "preliminary", "2019-02-01", 2019, "SJSU", "CSU"),  # nobody owns it
        credential("t9", "preliminary", "2019-02-01", 2019, None, None),
    )  # fmt: skip
    owners = {"t1": "P1", "t2": "P1", "t3": "P2", "t4": "P3", "t5": "P4", "t6": "P5", "t7": "P6"}
    inputs = gold_inputs(
        spark,
        owners={**owners, "t8": "P7", "t9": "P8"},
        silver_tables={"credentials": creds},
        people_rows=people(spark, ("P1", "F", "Hispanic or Latino"), ("P2", "M", None)),
    )
    U, N = "Unknown", "Not teaching"
    assert_frame(
        first_teaching_credential(inputs),
        [
            (
                "P1",
                2020,
                "intern",
                "Mathematics",
                "SJSU",
                "CSU",
                "43",
                "Bay Area",
                N,
                "F",
                "Hispanic or Latino",
            ),
            # A district intern program: the county is the first two digits of its CDS district code.
            ("P2", 2021, "preliminary", "English", "1964733", "DISTRICT", "19", "Los Angeles", N, "M", U),
            ("P3", 2021, "preliminary", U, "X99", "AICCU", U, U, N, U, U),
            ("P5", 2022, "preliminary", "Mathematics", "SJSU", "CSU", "43", "Bay Area", N, U, U),
            ("P7", 2020, "intern", "Mathematics", "5071043", "DISTRICT", "50", U, N, U, U),
            ("P8", 2019, "preliminary", "Mathematics", U, U, U, U, N, U, U),
        ],
        TEACHER_COLUMNS,
    )


def test_teaching_county_is_where_the_first_teaching_year_since_the_cohort_was(spark):
    creds = silver(
        spark, "credentials",
        *[credential(f"t{i}", "preliminary", "2019-09-01", 2020, "SJSU", "CSU") for i in range(1, 6)],
    )  # fmt: skip

    def teach(person, year, district, teaching=True):
        return {"person_id": person, "period": year, "teaching": teaching, "teaching_district": district}

    t = timeline(
        spark,
        teach("P1", 2019, "1964733"),  # before the cohort year: not where the placed teach
        teach("P1", 2021, "3768338"),
        teach("P1", 2020, "0161176"),  # the first year in or after the cohort year
        teach("P2", 2023, "1964733"),  # years later: still the first teaching since
        teach("P3", 2020, None),  # teaching, district not known
        teach("P4", 2020, "1964733", teaching=False),  # on staff, not teaching
    )
    owners = {f"t{i}": f"P{i}" for i in range(1, 6)}
    inputs = gold_inputs(spark, timeline_rows=t, owners=owners, silver_tables={"credentials": creds})
    counties = first_teaching_credential(inputs).select("person_id", "teaching_county")
    assert_frame(
        counties,
        [("P1", "01"), ("P2", "19"), ("P3", "Unknown"), ("P4", "Not teaching"), ("P5", "Not teaching")],
        "person_id STRING, teaching_county STRING",
    )


def test_high_school_graduates_with_their_breakdowns(spark):
    def k12(person, year, district, grade=12, **more):
        return {"person_id": person, "period": year, "k12_district": district, "k12_grade": grade, **more}

    diploma = {"hs_completion": "standard_diploma"}
    t = timeline(
        spark,
        # G1: moves district twice; a K-12 row after graduation is not the graduation district.
        k12("G1", 2016, None, benefit_programs=["calfresh"]),  # before the four high-school years
        k12("G1", 2017, "D_A", 9), k12("G1", 2018, "D_A", 10, benefit_programs=["calworks"]),
        k12("G1", 2019, "D_B", 11), k12("G1", 2020, "D_C", 12, **diploma), k12("G1", 2021, "D_Z", 12),
        # G2: two standard diplomas, the first counts; Medi-Cal in the first high-school year.
        k12("G2", 2017, None, benefit_programs=["medi_cal"]),
        k12("G2", 2020, "D_G", **diploma), {"person_id": "G2", "period": 2021, **diploma},
        {"person_id": "G3", "period": 2020, "hs_completion": "adult_education_diploma"},
        {"person_id": "G4", "period": 2020, "hs_completion": "chspe"},
        # G5: no K-12 enrollment seen; CalFresh in the graduation year.
        {"person_id": "G5", "period": 2021, "benefit_programs": ["calfresh"], **diploma},
        # G6: CalFresh only after graduation.
        k12("G6", 2020, "D_6", **diploma),
        {"person_id": "G6", "period": 2021, "benefit_programs": ["calfresh"]},
    )  # fmt: skip

    def student(token, year, ela=None, **flags):
        return {"record_token": token, "academic_year": year, "ela_status": ela, **flags}

    demographics = silver(
        spark, "demographics",
        student("d1", 2015, "english_learner", foster=False, homeless=False, disability=True),
        student("d1", 2019, "reclassified_fluent", foster=False, homeless=False, disability=False),
        student("d2", 2019, "reclassified_fluent", foster=False),
        student("d5", 2021, "english_only", foster=True, homeless=False, disability=False),
        student("d6", 2019, "english_only", foster=False, homeless=True, disability=False),
        student("s6", 2022),  # a staff snapshot (SDEM): no student flags
        student("x9", 2019, "english_learner", foster=True, homeless=True, disability=True),
    )  # fmt: skip
    inputs = gold_inputs(
        spark,
        timeline_rows=t,
        owners={"d1": "G1", "d2": "G2", "d5": "G5", "d6": "G6", "s6": "G6"},
        silver_tables={"demographics": demographics},
        people_rows=people(spark, ("G1", "F", "Hispanic or Latino"), ("G2", "M", "White")),
    )
    assert_frame(
        high_school_graduates(inputs),
        [
            ("G1", 2020, "No", "Yes", "No", "No", "Yes", "D_C", "F", "Hispanic or Latino"),
            ("G2", 2020, "Yes", "Yes", "No", "No", "No", "D_G", "M", "White"),
            ("G5", 2021, "Yes", "No", "Yes", "No", "No", "Unknown", "Unknown", "Unknown"),
            ("G6", 2020, "No", "No", "No", "Yes", "No", "D_6", "Unknown", "Unknown"),
        ],
        GRADUATE_COLUMNS,
    )


def test_high_school_graduates_without_demographics_are_flagged_no(spark):
    t = timeline(spark, {"person_id": "G1", "period": 2020, "hs_completion": "standard_diploma"})
    inputs = gold_inputs(spark, timeline_rows=t)
    assert_frame(
        high_school_graduates(inputs),
        [("G1", 2020, "No", "No", "No", "No", "No", "Unknown", "Unknown", "Unknown")],
        GRADUATE_COLUMNS,
    )


def test_a_standard_diploma_counts_beside_another_completion_in_the_same_year(spark):
    owners = {"h1": "H1", "h2": "H1"}
    completions = silver(
        spark,
        "completions",
        {"record_token": "h1", "segment": "K12", "award_level": "standard_diploma", "academic_year": 2020},
        {
            "record_token": "h2",
            "segment": "K12",
            "award_level": "adult_education_diploma",
            "academic_year": 2020,
        },
    )
    t = build_person_timeline(crosswalk=crosswalk(spark, owners), completions=completions)
    inputs = gold_inputs(spark, timeline_rows=t, owners=owners)
    assert_frame(
        high_school_graduates(inputs),
        [("H1", 2020, "No", "No", "No", "No", "No", "Unknown", "Unknown", "Unknown")],
        GRADUATE_COLUMNS,
    )


def test_a_homeless_flag_counts_when_the_snapshot_has_no_ela_or_foster_code(spark):
    t = timeline(spark, {"person_id": "G1", "period": 2020, "hs_completion": "standard_diploma"})
    demographics = silver(
        spark,
        "demographics",
        {"record_token": "d1", "academic_year": 2019, "homeless": True, "disability": True},
    )
    inputs = gold_inputs(
        spark, timeline_rows=t, owners={"d1": "G1"}, silver_tables={"demographics": demographics}
    )
    assert_frame(
        high_school_graduates(inputs),
        [("G1", 2020, "No", "No", "No", "Yes", "Yes", "Unknown", "Unknown", "Unknown")],
        GRADUATE_COLUMNS,
    )


def test_person_attributes_take_the_most_frequent_value(spark):
    owners = {f"r{i}": p for i, p in enumerate(["P1", "P1", "P1", "P2", "P2", "P3", "P4"], start=1)}
    records = silver(
        spark, "person_records",
        *[{"record_token": t, "gender": g} for t, g in
          [("r1", "F"), ("r2", "F"), ("r3", "M"), ("r4", "M"), ("r5", None), ("r6", None), ("x9", "F")]],
    )  # fmt: skip
    demographics = silver(
        spark, "demographics",
        *[{"record_token": t, "academic_year": y, "race_ethnicity": r} for t, y, r in [
            ("r1", 2015, "White"), ("r2", 2016, "White"), ("r3", 2020, "Hispanic or Latino"),
            ("r4", 2015, "Asian"), ("r5", 2018, "Filipino"),  # a tie: the latest year wins
            ("r6", 2019, "Not reported"), ("r7", 2019, "Black or African American"), ("x9", 2019, "White"),
        ]],
    )  # fmt: skip
    xwalk = crosswalk(spark, owners)
    assert_frame(
        person_attributes(xwalk, records, demographics),
        [("P1", "F", "White"), ("P2", "M", "Filipino"), ("P4", None, "Black or African American")],
        "person_id STRING, gender STRING, race_ethnicity STRING",
    )
    assert_frame(
        person_attributes(xwalk, records, None),
        [("P1", "F", None), ("P2", "M", None)],
        "person_id STRING, gender STRING, race_ethnicity STRING",
    )


def service(token, program, end, start="2019-01-01"):
    return {"record_token": token, "program": program, "start_date": start, "end_date": end}


def test_workforce_program_exits_are_first_exits_by_program_year(spark):
    services = silver(
        spark, "services",
        service("s1", "wioa_adult", "2021-06-30"),  # program year 2021 (July 2020 - June 2021)
        service("s2", "wioa_youth", "2022-09-15"),  # the same person exits again later: not a new cohort
        service("s3", "apprenticeship", "2021-07-01"),  # July: program year 2022
        service("s4", "wioa_dislocated_worker", None),  # still enrolled: no exit
        service("s5", "vocational_rehabilitation", "2021-03-01"),  # not a workforce program here
        service("s6", "head_start", "2020-06-01"),
        service("s7", "wioa_dislocated_worker", "2020-01-31"),
    )  # fmt: skip
    inputs = gold_inputs(
        spark,
        owners={"s1": "P1", "s2": "P1", "s3": "P2", "s4": "P3", "s5": "P4", "s6": "P5", "s7": "P6"},
        silver_tables={"services": services},
        people_rows=people(spark, ("P1", "F", "Asian"), ("P6", None, "White")),
    )
    assert_frame(
        workforce_program_exits(inputs),
        [
            ("P1", 2021, "wioa_adult", "2021-06-30", "F", "Asian"),
            ("P2", 2022, "apprenticeship", "2021-07-01", "Unknown", "Unknown"),
            ("P6", 2020, "wioa_dislocated_worker", "2020-01-31", "Unknown", "White"),
        ],
        "person_id STRING, cohort_year INT, program STRING, exit_date DATE, gender STRING, "
        "race_ethnicity STRING",
    )
