"""The 15 agency extracts of one life, each in its agency's layout, within the data window."""

from __future__ import annotations

import random
from datetime import date

from lakehouse.synth import identity as ids
from lakehouse.synth.extracts_services import cdss, csac, dds, dhcs, dor, edd, wioa
from lakehouse.synth.records import Recorder, iso, mdy, ymd, zip_code

GRADES = {0: "KN", **{g: f"{g:02d}" for g in range(1, 13)}}
SEMESTER_CODE = {"FA": "7", "WI": "1", "SP": "3", "SU": "5"}
CTC_BASIS = {"CSU": "IHE", "UC": "IHE", "AICCU": "IHE", "DISTRICT": "LEA", "NONE": "DIRECT"}
CCC_AWARD = {"AA": "A", "CERT": "E", "BA": "B"}


def all_extracts(rec: Recorder) -> None:
    for extract in (elc, calpads, staff, ccc, csu, uc, aiccu, csac, ctc, edd, cdss, dhcs, dor, dds, wioa):
        extract(rec)


def _in_window(rec: Recorder, year: int) -> bool:
    return rec.cfg.first_year <= year <= rec.cfg.last_year


def _ay_label(ay: int) -> str:
    return f"{ay - 1}-{ay % 100:02d}"


def elc(rec: Recorder) -> None:
    life = rec.life
    agency = f"{life.county}ELC{life.pid % 7}"
    child = ids.local_id(life.pid, rec.cfg.seed, 101)
    for ay, program, age, days, drdp in life.elc:
        if not _in_window(rec, ay):
            continue
        who = rec.identity("cde_elc", f"{agency}-{child}", date(ay - 1, 9, 1))
        rec.emit(
            "ELC_ENROLLMENT",
            str(ay),
            f"{agency}{child}",
            {
                "FISCAL_YEAR": _ay_label(ay),
                "AGENCY_CODE": agency,
                "CHILD_ID": child,
                "CHILD_FIRST_NAME": who.first,
                "CHILD_LAST_NAME": who.last,
                "BIRTH_DATE": mdy(who.birth),
                "GENDER": who.sex,
                "PROGRAM_TYPE": program,
                "ENTRY_AGE": age,
                "DAYS_ENROLLED": days,
                "DRDP_KINDERGARTEN_READY": drdp,
                "ZIP_CODE": zip_code(life),
            },
        )


def _ssid(rec: Recorder, ay: int) -> str:
    """Some students get a second SSID after a move; the first one is used until then."""
    life = rec.life
    second_from = _second_ssid_from(rec)
    return ids.ssid_for(life.pid, rec.cfg.seed, 1 if second_from and ay >= second_from else 0)


def _second_ssid_from(rec: Recorder) -> int | None:
    moves = [y.ay + 1 for y in rec.life.k12 if y.exit_code == "T160"]
    if moves and (rec.life.pid * 7919 + rec.cfg.seed) % 1000 < rec.cfg.noise.duplicate_id * 1000 * 8:
        return moves[0]
    return None


def calpads(rec: Recorder) -> None:
    life = rec.life
    local = ids.local_id(life.pid, rec.cfg.seed, 202, 7)
    races = [str(r) for r in life.race] + [""]
    for y in life.k12:
        if not _in_window(rec, y.ay):
            continue
        ssid = _ssid(rec, y.ay)
        who = rec.identity("calpads", ssid, y.entry)
        label = _ay_label(y.ay)
        rec.emit(
            "SINF",
            str(y.ay),
            ssid + y.entry.isoformat(),
            {
                "ACADEMIC_YEAR": label,
                "SCHOOL_CDS": y.school.cds,
                "SSID": ssid,
                "LOCAL_STUDENT_ID": local,
                "FIRST_NAME": who.first,
                "MIDDLE_NAME": who.middle,
                "LAST_NAME": who.last,
                "BIRTH_DATE": ymd(who.birth),
                "GENDER": who.sex,
                "HISPANIC_IND": "Y" if life.hispanic else "N",
                "RACE_CODE_1": races[0],
                "RACE_CODE_2": races[1],
                "ELA_STATUS": ("EL" if y.grade < 8 else "RFEP") if life.english_learner else "EO",
                "HOMELESS_IND": "Y" if life.homeless else "N",
                "FOSTER_IND": "Y" if life.foster else "N",
                "DISABILITY_IND": "Y" if life.disability else "N",
                "RESIDENCE_ZIP": zip_code(life),
            },
        )
        rec.emit(
            "SENR",
            str(y.ay),
            ssid + y.entry.isoformat(),
            {
                "ACADEMIC_YEAR": label,
                "SCHOOL_CDS": y.school.cds,
                "SSID": ssid,
                "LOCAL_STUDENT_ID": local,
                "GRADE_LEVEL": GRADES[y.grade],
                "ENROLL_START_DATE": ymd(y.entry),
                "ENROLL_EXIT_DATE": ymd(y.exit),
                "EXIT_CODE": y.exit_code,
                "COMPLETION_STATUS": y.completion,
            },
        )
    for ay, grade, subject, score in life.scores:
        if _in_window(rec, ay):
            rec.emit(
                "CAASPP",
                str(ay),
                _ssid(rec, ay) + subject,
                {
                    "ACADEMIC_YEAR": _ay_label(ay),
                    "SSID": _ssid(rec, ay),
                    "GRADE_LEVEL": GRADES[grade],
                    "SUBJECT": subject,
                    "SCALE_SCORE": score,
                },
            )


def staff(rec: Recorder) -> None:
    life = rec.life
    seid = ids.seid_for(life.pid, rec.cfg.seed)
    races = [str(r) for r in life.race] + [""]
    for a in life.assignments:
        if not _in_window(rec, a.ay):
            continue
        who = rec.identity("calpads_staff", seid, date(a.ay - 1, 8, 1))
        rec.emit(
            "SDEM",
            str(a.ay),
            seid + a.school.cds,
            {
                "ACADEMIC_YEAR": _ay_label(a.ay),
                "DISTRICT_CODE": a.school.district,
                "SEID": seid,
                "LOCAL_STAFF_ID": ids.local_id(life.pid, rec.cfg.seed, int(a.school.district) % 997, 6),
                "FIRST_NAME": who.first,
                "LAST_NAME": who.last,
                "BIRTH_DATE": ymd(who.birth),
                "GENDER": who.sex,
                "HISPANIC_IND": "Y" if life.hispanic else "N",
                "RACE_CODE_1": races[0],
                "RACE_CODE_2": races[1],
            },
        )
        rec.emit(
            "SASS",
            str(a.ay),
            seid + a.school.cds,
            {
                "ACADEMIC_YEAR": _ay_label(a.ay),
                "SCHOOL_CDS": a.school.cds,
                "SEID": seid,
                "JOB_CLASS_CODE": a.job_class,
                "FTE_PERCENT": int(a.fte * 100),
                "CREDENTIAL_TYPE_CODE": a.cred_code,
            },
        )


def _ssid_on_record(rec: Recorder, source: str, key: str) -> str:
    life = rec.life
    coverage = rec.cfg.ssid_coverage.get(source, 0.0)
    if not life.k12 or random.Random(f"{rec.cfg.seed}|ssid|{life.pid}|{source}|{key}").random() >= coverage:
        return ""
    return _ssid(rec, life.k12[-1].ay)


def ccc(rec: Recorder) -> None:
    life = rec.life
    for t in life.terms:
        if t.segment != "CCC" or not _in_window(rec, t.ay):
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
                "SB_SSID": _ssid_on_record(rec, "ccc", key),
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
        if a.segment == "CCC" and _in_window(rec, a.ay):
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
        if t.segment != "CSU" or not _in_window(rec, t.ay):
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
                "SSID": _ssid_on_record(rec, "csu", key),
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
        if a.segment != "CSU" or not _in_window(rec, a.ay):
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
        if campus and grant and _in_window(rec, ay + 1):
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
        if t.segment != "UC" or not _in_window(rec, t.ay):
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
                "academic_year": _ay_label(t.ay),
                "term": t.term,
                "units": t.units,
            },
        )
    for a in life.awards:
        if a.segment == "UC" and a.kind == "BA" and _in_window(rec, a.ay):
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
        if t.segment != "AICCU" or not _in_window(rec, t.ay):
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
                "ACADEMIC_YEAR": _ay_label(t.ay),
                "TERM": t.term,
                "CREDITS": t.units,
            },
        )
    for a in life.awards:
        if a.segment == "AICCU" and a.kind in ("BA", "CRED") and _in_window(rec, a.ay):
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


def ctc(rec: Recorder) -> None:
    life = rec.life
    seid = ids.seid_for(life.pid, rec.cfg.seed)
    for c in life.credentials:
        ay = c.issued.year + (1 if c.issued.month >= 7 else 0)
        if not _in_window(rec, ay):
            continue
        who = rec.identity("ctc", seid, c.issued)
        rec.emit(
            "CREDENTIALS",
            str(ay),
            seid + c.issued.isoformat(),
            {
                "SEID": seid,
                "DOC_NUMBER": c.doc,
                "LAST_NAME": who.last,
                "FIRST_NAME": who.first,
                "MIDDLE_NAME": who.middle,
                "BIRTH_DATE": mdy(who.birth),
                "CREDENTIAL_KIND": c.kind,
                "CREDENTIAL_TERM": "clear"
                if c.kind == "clear"
                else "preliminary"
                if c.kind != "permit"
                else "",
                "BASIS": CTC_BASIS[c.segment],
                "SUBJECT": c.subject,
                "RECOMMENDING_ENTITY": c.ihe,
                "ISSUE_DATE": iso(c.issued),
            },
        )
