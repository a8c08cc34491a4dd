"""Extracts of the colleges: community colleges (CCC MIS), CSU (ERS), UC and independent colleges."""

from __future__ import annotations

from lakehouse.synth import identity as ids
from lakehouse.synth.records import Recorder, ay_label, in_window, iso, ssid_on_record, ymd, zip_code

SEMESTER_CODE = {"FA": "7", "WI": "1", "SP": "3", "SU": "5"}
CCC_AWARD = {"AA": "A", "CERT": "E", "BA": "B"}


def ccc(rec: Recorder) -> None:
    life = rec.life
    for t in life.terms:
        if t.segment != "CCC" or not in_window(rec, t.ay):
            continue
        student = ids.local_id(life.pid, rec.cfg.seed, int(t.college), 9)
        key = f"{t.college}-{student}"
        who = rec.identity("ccc", key, t.start)
        term = f"{t.start.year % 100:02d}{SEMESTER_CODE[t.term]}"
        common = {"GI01_DISTRICT_COLLEGE": t.college, "GI03_TERM": term, "SB00_STUDENT_ID": student}
        rec.emit(
            "SB",
            term,
            key,
            {
                **common,
                "SB01_SSN": who.ssn,
                "SB_SSID": ssid_on_record(rec, "ccc", key),
                "SB31_LAST_NAME": who.last,
                "SB32_FIRST_NAME": who.first,
                "SB33_MIDDLE_NAME": who.middle,
                "SB03_BIRTH_DATE": ymd(who.birth),
                "SB04_GENDER": who.sex,
                "SB29_ZIP": zip_code(life),
            },
        )
        rec.emit(
            "SX",
            term,
            key,
            {**common, "SX03_UNITS_ATTEMPTED": t.units, "SX04_UNITS_EARNED": round(t.units * 0.85, 1)},
        )
    for a in life.awards:
        if a.segment == "CCC" and in_window(rec, a.ay):
            student = ids.local_id(life.pid, rec.cfg.seed, int(a.college), 9)
            key = f"{a.college}-{student}"
            rec.identity("ccc", key, a.date)
            rec.emit(
                "SP",
                str(a.ay),
                key,
                {
                    "GI01_DISTRICT_COLLEGE": a.college,
                    "GI03_TERM": f"{a.date.year % 100:02d}3",
                    "SB00_STUDENT_ID": student,
                    "SP02_AWARD": CCC_AWARD[a.kind],
                    "SP04_AWARD_DATE": ymd(a.date),
                    "SP01_PROGRAM_CIP": a.cip,
                },
            )


def csu(rec: Recorder) -> None:
    life = rec.life
    for t in life.terms:
        if t.segment != "CSU" or not in_window(rec, t.ay):
            continue
        csu_id = ids.local_id(life.pid, rec.cfg.seed, sum(map(ord, t.college)), 9)
        key = f"{t.college}-{csu_id}"
        who = rec.identity("csu", key, t.start)
        rec.emit(
            "ERSS",
            f"{t.ay}{t.term}",
            key,
            {
                "CAMPUS": t.college,
                "TERM": f"{t.ay}{t.term}",
                "CSU_ID": csu_id,
                "SSN": who.ssn,
                "SSID": ssid_on_record(rec, "csu", key),
                "LAST_NAME": who.last,
                "FIRST_NAME": who.first,
                "MIDDLE_NAME": who.middle,
                "BIRTH_DATE": ymd(who.birth),
                "GENDER": who.sex,
                "ZIP": zip_code(life),
                "UNITS": f"{t.units:06.1f}",
                "LEVEL": "CR" if t.level == "CRED" else "UG",
            },
        )
    for a in life.awards:
        if a.segment != "CSU" or not in_window(rec, a.ay):
            continue
        csu_id = ids.local_id(life.pid, rec.cfg.seed, sum(map(ord, a.college)), 9)
        key = f"{a.college}-{csu_id}"
        rec.identity("csu", key, a.date)
        if a.kind == "BA":
            rec.emit(
                "ERSD",
                str(a.ay),
                key,
                {
                    "CAMPUS": a.college,
                    "CSU_ID": csu_id,
                    "DEGREE": "BA",
                    "CIP": a.cip,
                    "DEGREE_DATE": ymd(a.date),
                },
            )
        elif a.kind == "CRED":
            rec.emit(
                "ERST",
                str(a.ay),
                key,
                {
                    "CAMPUS": a.college,
                    "CSU_ID": csu_id,
                    "ACADEMIC_YEAR": a.ay,
                    "PROGRAM": "PREL",
                    "COMPLETED": "Y",
                    "COMPLETION_DATE": ymd(a.date),
                },
            )
    for ay, _app, grant, amount in life.aid:
        campus = next((t.college for t in life.terms if t.segment == "CSU" and t.ay == ay + 1), None)
        if campus and grant and in_window(rec, ay + 1):
            csu_id = ids.local_id(life.pid, rec.cfg.seed, sum(map(ord, campus)), 9)
            rec.emit(
                "ERSFA",
                str(ay + 1),
                f"{campus}-{csu_id}",
                {
                    "CAMPUS": campus,
                    "CSU_ID": csu_id,
                    "ACADEMIC_YEAR": ay + 1,
                    "CAL_GRANT": grant,
                    "AMOUNT": f"{amount:08d}",
                },
            )


def uc(rec: Recorder) -> None:
    life = rec.life
    for t in life.terms:
        if t.segment != "UC" or not in_window(rec, t.ay):
            continue
        uc_id = ids.local_id(life.pid, rec.cfg.seed, sum(map(ord, t.college)) + 5, 9)
        key = f"{t.college}-{uc_id}"
        who = rec.identity("uc", key, t.start)
        rec.emit(
            "enrollment",
            f"{t.ay}_{t.term}",
            key,
            {
                "campus": t.college,
                "uc_student_id": uc_id,
                "ssn": who.ssn,
                "first_name": who.first,
                "middle_name": who.middle,
                "last_name": who.last,
                "birth_date": iso(who.birth),
                "sex": who.sex,
                "academic_year": ay_label(t.ay),
                "term": t.term,
                "units": t.units,
            },
        )
    for a in life.awards:
        if a.segment == "UC" and a.kind == "BA" and in_window(rec, a.ay):
            uc_id = ids.local_id(life.pid, rec.cfg.seed, sum(map(ord, a.college)) + 5, 9)
            rec.identity("uc", f"{a.college}-{uc_id}", a.date)
            rec.emit(
                "degrees",
                str(a.ay),
                f"{a.college}-{uc_id}",
                {
                    "campus": a.college,
                    "uc_student_id": uc_id,
                    "degree": "BA",
                    "cip": a.cip,
                    "conferred": iso(a.date),
                },
            )


def aiccu(rec: Recorder) -> None:
    life = rec.life
    for t in life.terms:
        if t.segment != "AICCU" or not in_window(rec, t.ay):
            continue
        student = ids.local_id(life.pid, rec.cfg.seed, sum(map(ord, t.college)) + 9, 7)
        key = f"{t.college}-{student}"
        who = rec.identity("aiccu", key, t.start)
        rec.emit(
            "AICCU_ENROLLMENT",
            str(t.ay),
            key + t.term,
            {
                "INSTITUTION_ID": t.college,
                "STUDENT_ID": student,
                "FIRST_NAME": who.first,
                "LAST_NAME": who.last,
                "DOB": iso(who.birth),
                "GENDER": who.sex,
                "SSN": who.ssn,
                "ACADEMIC_YEAR": ay_label(t.ay),
                "TERM": t.term,
                "CREDITS": t.units,
            },
        )
    for a in life.awards:
        if a.segment == "AICCU" and a.kind in ("BA", "CRED") and in_window(rec, a.ay):
            student = ids.local_id(life.pid, rec.cfg.seed, sum(map(ord, a.college)) + 9, 7)
            rec.identity("aiccu", f"{a.college}-{student}", a.date)
            rec.emit(
                "AICCU_DEGREES",
                str(a.ay),
                f"{a.college}-{student}",
                {
                    "INSTITUTION_ID": a.college,
                    "STUDENT_ID": student,
                    "DEGREE_LEVEL": "BACHELOR" if a.kind == "BA" else "CREDENTIAL",
                    "CIP": a.cip,
                    "AWARD_DATE": iso(a.date),
                },
            )
