"""Extracts of student aid, employment, social services, health care, rehabilitation, developmental
services and workforce programs."""

from __future__ import annotations

import random
from datetime import date

from lakehouse.synth import identity as ids
from lakehouse.synth.records import Recorder, in_window, iso, mdy, ymd


def _unique(rec: Recorder, n: int, salt: int, digits: int) -> str:
    space = 10**digits
    return f"{ids.scramble(n, space, (rec.cfg.seed * 131 + salt) % space):0{digits}d}"


def csac(rec: Recorder) -> None:
    life = rec.life
    csac_id = _unique(rec, life.pid, 303, 10)
    for ay, app, grant, amount in life.aid:
        award_year = f"{ay}-{(ay + 1) % 100:02d}"
        if not in_window(rec, ay + 1):
            continue
        if app in ("FAFSA", "CADAA"):
            who = rec.identity("csac", csac_id, date(ay, 2, 1))
            rec.emit(
                "APPLICATIONS",
                str(ay + 1),
                csac_id,
                {
                    "AWARD_YEAR": award_year,
                    "CSAC_ID": csac_id,
                    "APP_TYPE": app,
                    "SSN": who.ssn if app == "FAFSA" else "",
                    "FIRST_NAME": who.first,
                    "LAST_NAME": who.last,
                    "DOB": mdy(who.birth),
                },
            )
        if grant:
            rec.identity("csac", csac_id, date(ay, 2, 1))
            rec.emit(
                "CALGRANT_PAYMENTS",
                str(ay + 1),
                csac_id,
                {"AWARD_YEAR": award_year, "CSAC_ID": csac_id, "GRANT_TYPE": grant, "AMOUNT": amount},
            )


def edd(rec: Recorder) -> None:
    life = rec.life
    for yrqtr, account, wages in life.wages:
        if not in_window(rec, yrqtr // 10):
            continue
        ssn = _reported_ssn(rec, account)
        key = f"{account}-{ssn}"
        who = rec.identity("edd", key, date(yrqtr // 10, 3 * (yrqtr % 10), 1))
        rec.emit(
            "DE9C",
            str(yrqtr),
            key,
            {
                "EMPLOYER_ACCOUNT": account,
                "YRQTR": yrqtr,
                "SSN": ssn,
                "FIRST_NAME": who.first,
                "MIDDLE_INITIAL": who.middle[:1],
                "LAST_NAME": who.last,
                "TOTAL_SUBJECT_WAGES": wages,
            },
        )


def _reported_ssn(rec: Recorder, account: str) -> str:
    """What an employer reports: the SSN, sometimes mistyped; for a worker without one, a made-up number."""
    # It depends on the worker and the employer only, so each pair's is drawn once (a worker has
    # many quarters with one employer, and seeding a generator is most of the cost).
    found = rec.memo.get(("edd-ssn", account))
    if found is not None:
        return found
    life = rec.life
    rng = random.Random(f"{rec.cfg.seed}|edd-ssn|{life.pid}|{account}")
    if not life.ssn:
        ssn = f"{rng.randrange(900, 1000)}{rng.randrange(70, 100)}{rng.randrange(0, 10_000):04d}"
    else:
        ssn = life.ssn
        if rng.random() < rec.cfg.noise.ssn_transpose:
            i = rng.randrange(8)
            ssn = ssn[:i] + ssn[i + 1] + ssn[i] + ssn[i + 2 :]
    rec.memo[("edd-ssn", account)] = ssn
    return ssn


def cdss(rec: Recorder) -> None:
    life = rec.life
    for index, spell in enumerate(s for s in life.spells if s.program in ("CALFRESH", "CALWORKS")):
        if not in_window(rec, spell.start.year):
            continue
        case = _unique(rec, life.pid * 64 + index, 404, 10)
        age = spell.start.year - life.birth.year
        person_number = "01" if age >= 18 else f"{2 + life.pid % 4:02d}"
        key = f"{case}-{person_number}"
        who = rec.identity("cdss", key, spell.start)
        rec.emit(
            spell.program,
            str(spell.start.year),
            key,
            {
                "CASE_NUMBER": case,
                "PERSON_NUMBER": person_number,
                "COUNTY_CODE": spell.county,
                "FIRST_NAME": who.first,
                "LAST_NAME": who.last,
                "BIRTH_DATE": mdy(who.birth),
                "GENDER": who.sex,
                "SSN": who.ssn,
                "BEGIN_MONTH": spell.start.strftime("%Y%m"),
                "END_MONTH": spell.end.strftime("%Y%m"),
            },
        )


def dhcs(rec: Recorder) -> None:
    life = rec.life
    cin = ids.cin_for(life.pid, rec.cfg.seed)
    for spell in life.spells:
        if spell.program != "MEDICAL" or not in_window(rec, spell.start.year):
            continue
        who = rec.identity("dhcs", cin, spell.start)
        rec.emit(
            "MEDS_ELIG",
            str(spell.start.year),
            cin + spell.start.isoformat(),
            {
                "CIN": cin,
                "SSN": who.ssn,
                "LAST_NAME": who.last,
                "FIRST_NAME": who.first,
                "BIRTH_DATE": ymd(who.birth),
                "SEX": who.sex,
                "COUNTY_CODE": spell.county,
                "AID_CODE": spell.detail,
                "ELIG_START_YM": spell.start.strftime("%Y%m"),
                "ELIG_END_YM": spell.end.strftime("%Y%m"),
            },
        )


def dor(rec: Recorder) -> None:
    life = rec.life
    for index, spell in enumerate(s for s in life.spells if s.program == "DOR"):
        if not in_window(rec, spell.start.year):
            continue
        case = f"VR{_unique(rec, life.pid * 16 + index, 505, 9)}"
        who = rec.identity("dor", case, spell.start)
        rec.emit(
            "VR_CASES",
            str(spell.start.year),
            case,
            {
                "case_number": case,
                "ssn": who.ssn,
                "first_name": who.first,
                "last_name": who.last,
                "dob": iso(who.birth),
                "gender": who.sex,
                "application_date": iso(spell.start),
                "closure_date": iso(spell.end),
                "outcome": spell.detail,
            },
        )


def dds(rec: Recorder) -> None:
    life = rec.life
    uci = _unique(rec, life.pid, 606, 7)
    for spell in life.spells:
        if spell.program != "DDS":
            continue
        for year in range(spell.start.year, spell.end.year + 1):
            if not in_window(rec, year):
                continue
            who = rec.identity("dds", uci, date(year, 1, 1))
            rec.emit(
                "CONSUMERS",
                str(year),
                uci,
                {
                    "UCI": uci,
                    "REGIONAL_CENTER": spell.detail,
                    "FIRST_NAME": who.first,
                    "LAST_NAME": who.last,
                    "BIRTH_DATE": mdy(who.birth),
                    "GENDER": who.sex,
                    "SSN": who.ssn,
                    "COUNTY_CODE": spell.county,
                    "STATUS_YEAR": year,
                },
            )


def wioa(rec: Recorder) -> None:
    life = rec.life
    participant = f"CA{_unique(rec, life.pid, 707, 10)}"
    for spell in life.spells:
        if spell.program != "WIOA" or not in_window(rec, spell.start.year):
            continue
        program, credential = spell.detail.split(":")
        who = rec.identity("wioa", participant, spell.start)
        rec.emit(
            "PIRL",
            str(spell.start.year),
            participant + spell.start.isoformat(),
            {
                "PIRL100_UNIQUE_ID": participant,
                "SSN": who.ssn,
                "FIRST_NAME": who.first,
                "LAST_NAME": who.last,
                "BIRTH_DATE": ymd(who.birth),
                "GENDER": who.sex,
                "PROGRAM": program,
                "ENTRY_DATE": ymd(spell.start),
                "EXIT_DATE": ymd(spell.end),
                "CREDENTIAL_ATTAINED": credential,
            },
        )
