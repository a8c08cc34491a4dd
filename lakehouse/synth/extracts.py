"""The 15 agency extracts of one life, each in its agency's layout, within the data window."""

from __future__ import annotations

from datetime import date

from lakehouse.synth import identity as ids
from lakehouse.synth.extracts_college import aiccu, ccc, csu, uc
from lakehouse.synth.extracts_services import cdss, csac, dds, dhcs, dor, edd, wioa
from lakehouse.synth.records import Recorder, ay_label, in_window, iso, mdy, ssid_of, ymd, zip_code

GRADES = {0: "KN", **{g: f"{g:02d}" for g in range(1, 13)}}
SEMESTER_CODE = {"FA": "7", "WI": "1", "SP": "3", "SU": "5"}
CTC_BASIS = {"CSU": "IHE", "UC": "IHE", "AICCU": "IHE", "DISTRICT": "LEA", "NONE": "DIRECT"}
CCC_AWARD = {"AA": "A", "CERT": "E", "BA": "B"}


def all_extracts(rec: Recorder) -> None:
    for extract in (elc, calpads, staff, ccc, csu, uc, aiccu, csac, ctc, edd, cdss, dhcs, dor, dds, wioa):
        extract(rec)


def elc(rec: Recorder) -> None:
    life = rec.life
    agency = f"{life.county}ELC{life.pid % 7}"
    child = ids.local_id(life.pid, rec.cfg.seed, 101)
    for ay, program, age, days, drdp in life.elc:
        if not in_window(rec, ay):
            continue
        who = rec.identity("cde_elc", f"{agency}-{child}", date(ay - 1, 9, 1))
        rec.emit(
            "ELC_ENROLLMENT",
            str(ay),
            f"{agency}{child}",
            {
                "FISCAL_YEAR": ay_label(ay),
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


def calpads(rec: Recorder) -> None:
    life = rec.life
    local = ids.local_id(life.pid, rec.cfg.seed, 202, 7)
    races = [str(r) for r in life.race] + [""]
    for y in life.k12:
        if not in_window(rec, y.ay):
            continue
        ssid = ssid_of(rec, y.ay)
        who = rec.identity("calpads", ssid, y.entry)
        label = ay_label(y.ay)
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
        if in_window(rec, ay):
            rec.emit(
                "CAASPP",
                str(ay),
                ssid_of(rec, ay) + subject,
                {
                    "ACADEMIC_YEAR": ay_label(ay),
                    "SSID": ssid_of(rec, ay),
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
        if not in_window(rec, a.ay):
            continue
        who = rec.identity("calpads_staff", seid, date(a.ay - 1, 8, 1))
        rec.emit(
            "SDEM",
            str(a.ay),
            seid + a.school.cds,
            {
                "ACADEMIC_YEAR": ay_label(a.ay),
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
                "ACADEMIC_YEAR": ay_label(a.ay),
                "SCHOOL_CDS": a.school.cds,
                "SEID": seid,
                "JOB_CLASS_CODE": a.job_class,
                "FTE_PERCENT": int(a.fte * 100),
                "CREDENTIAL_TYPE_CODE": a.cred_code,
            },
        )


def ctc(rec: Recorder) -> None:
    life = rec.life
    seid = ids.seid_for(life.pid, rec.cfg.seed)
    for c in life.credentials:
        ay = c.issued.year + (1 if c.issued.month >= 7 else 0)
        if not in_window(rec, ay):
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
