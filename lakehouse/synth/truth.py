"""True outcomes, computed from simulated life courses (never from the extract files).

Definitions follow docs/domain.md. Years are academic/fiscal years labelled by their ending year (July to
June): fiscal year Y sums quarters Q3 and Q4 of calendar year Y-1 and Q1 and Q2 of year Y. An outcome
whose window reaches past the last year of data is left empty (censored), not counted as a failure.
Race/ethnicity, in every cohort, is what the data can know: only CALPADS reports it, so it is empty
(Unknown) for people CALPADS never saw, as a student or as staff, in the data window.

Teacher pipeline: cohort Y = first preliminary or intern credential issued in academic year Y.
placed = teaching (job class 12) in year Y or Y+1; retained_k = teaching in placement year + k (any
school; `_same_district` for the placement district); for those not placed, employed = any UI wages
in fiscal year Y+1, and their median annual wages in that year.

Student pathways: cohort Y = standard-diploma graduates (E230 + 100) of year Y. enrolled_16mo = a
college term starting by October 31 of the calendar year after graduation; enrolled_8yr = within 8
years; completed_100pct / completed_150pct / completed_200pct (of those enrolled within 16 months) =
certificate, associate or bachelor's within 2 / 3 / 4 years of a community-college start, bachelor's
within 4 / 6 / 8 years of a four-year start; employed_k / wages_k = any UI wages and annual wages in
fiscal year (last enrollment or award year) + k; enrolled_16mo_<segment> = enrolled within 16
months with the first term (the earliest; on one day, the segment first in alphabetical order) at
that segment, or at any other ("other").

Workforce programs: cohort Y = people whose first exit from a WIOA program (adult, dislocated worker,
youth) falls in program year Y (July to June). employed_q2 / employed_q4 = any UI wages in the 2nd /
4th calendar quarter after the exit quarter (empty past the last quarter of data); earnings_q2 = that
quarter's wages of the employed.
"""

from __future__ import annotations

from datetime import date

from lakehouse.synth.life import Life, report_group
from lakehouse.synth.world import World

PERSONS_FILE = "_truth/persons.csv"
PERSONS_COLUMNS = (
    "person_id",
    "first_name",
    "middle_name",
    "last_name",
    "birth_date",
    "sex",
    "ssn",
    "married_last_name",
    "race_ethnicity",
    "county_code",
    "arrived",
    "gone",
    "died",
)
TEACHER_FILE = "_truth/teacher_pipeline_people.csv"
PATHWAYS_FILE = "_truth/student_pathways_people.csv"
WORKFORCE_FILE = "_truth/workforce_programs_people.csv"
TEACHER_COLUMNS = (
    "person_id",
    "cohort_year",
    "credential_type",
    "subject",
    "preparing_institution",
    "segment",
    "county",
    "region",
    "race_ethnicity",
    "gender",
    "teaching_county",
    "placed",
    "retained_1y",
    "retained_3y",
    "retained_5y",
    "retained_same_district_1y",
    "retained_same_district_3y",
    "retained_same_district_5y",
    "employed_not_teaching",
    "wage_not_teaching",
)
# The segment of the first college term within 16 months: the enrolled split into these parts.
FIRST_SEGMENTS = ("CCC", "CSU", "UC", "AICCU", "other")
PATHWAYS_COLUMNS = (
    "person_id",
    "cohort_year",
    "race_ethnicity",
    "gender",
    "low_income",
    "english_learner",
    "foster",
    "homeless",
    "disability",
    "district",
    "first_segment",
    "enrolled_16mo",
    "enrolled_8yr",
    *(f"enrolled_16mo_{part.lower()}" for part in FIRST_SEGMENTS),
    "completed_100pct",
    "completed_150pct",
    "completed_200pct",
    "employed_1y",
    "employed_3y",
    "employed_5y",
    "wages_1y",
    "wages_3y",
    "wages_5y",
)
WORKFORCE_COLUMNS = (
    "person_id",
    "cohort_year",
    "program",
    "race_ethnicity",
    "gender",
    "employed_q2",
    "employed_q4",
    "earnings_q2",
)
WORKFORCE_PROGRAMS = {
    "ADULT": "wioa_adult",
    "DISLOCATED_WORKER": "wioa_dislocated_worker",
    "YOUTH": "wioa_youth",
}
RETENTION = (1, 3, 5)
# Years to a degree or certificate at 100%, 150% and 200% of normal time (2 years at a community
# college, 4 at a four-year college), counting the first college year as one.
COMPLETION_YEARS = {"CCC": (2, 3, 4), "four-year": (4, 6, 8)}


def _segment(segment: str) -> str:
    return segment if segment in FIRST_SEGMENTS[:-1] else "other"


def fiscal_wages(life: Life, fy: int) -> float:
    quarters = {(fy - 1) * 10 + 3, (fy - 1) * 10 + 4, fy * 10 + 1, fy * 10 + 2}
    return round(sum(w for q, _, w in life.wages if q in quarters), 2)


def _ay(day: date) -> int:
    return day.year + (1 if day.month >= 7 else 0)


def known_race(life: Life, first_year: int, last_year: int) -> str:
    """Race/ethnicity as the data can know it: only CALPADS reports it (student or staff demographics,
    in the data window), so for anyone else it is empty (the published group "Unknown")."""
    in_calpads = any(first_year <= y.ay <= last_year for y in life.k12) or any(
        first_year <= a.ay <= last_year for a in life.assignments
    )
    return report_group(life.hispanic, life.race) if in_calpads else ""


def _flag(value: bool | None) -> str:
    return "" if value is None else str(int(value))


def teacher_fact(life: Life, world: World, first_year: int, last_year: int) -> list[str] | None:
    creds = [c for c in life.credentials if c.kind in ("preliminary", "intern")]
    if not creds:
        return None
    first = min(creds, key=lambda c: c.issued)
    cohort = _ay(first.issued)
    if not first_year <= cohort <= last_year:
        return None
    teaching = {}
    for a in life.assignments:
        if a.job_class == 12:
            teaching.setdefault(a.ay, a.school.district)
    placed = None if cohort + 1 > last_year else any(y in teaching for y in (cohort, cohort + 1))
    start = min((y for y in (cohort, cohort + 1) if y in teaching), default=None)
    retained, same = [], []
    for k in RETENTION:
        if not placed or start + k > last_year:
            retained.append(None)
            same.append(None)
        else:
            retained.append(start + k in teaching)
            same.append(teaching.get(start + k) == teaching[start])
    employed = wage = None
    if placed is False:
        annual = fiscal_wages(life, cohort + 1)
        employed = annual >= 1
        wage = annual if employed else None
    county = first.ihe[:2] if first.segment == "DISTRICT" else _college_county(world, first.ihe)
    # Where the person first taught in or after the cohort year, in the years the data covers.
    taught = [y for y in teaching if cohort <= y <= last_year]
    teaching_county = teaching[min(taught)][:2] if taught else "Not teaching"
    return [
        str(life.pid),
        str(cohort),
        first.kind,
        first.subject,
        first.ihe,
        first.segment,
        county,
        world.region_of(county) if county else "",
        known_race(life, first_year, last_year),
        life.sex,
        teaching_county,
        _flag(placed),
        *map(_flag, retained),
        *map(_flag, same),
        _flag(employed),
        "" if wage is None else f"{wage:.2f}",
    ]


def _college_county(world: World, code: str) -> str:
    for colleges in world.colleges.values():
        for c in colleges:
            if c.code == code:
                return c.county
    return ""


def pathways_fact(life: Life, last_year: int, first_year: int) -> list[str] | None:
    y = life.grad_ay
    if y is None or not first_year <= y <= last_year:
        return None
    starts = sorted(t.start for t in life.terms)
    enrolled_16 = (
        None if y + 2 > last_year else any(date(y, 7, 1) <= s <= date(y + 1, 10, 31) for s in starts)
    )
    enrolled_8 = None if y + 8 > last_year else any(date(y, 7, 1) <= s <= date(y + 8, 6, 30) for s in starts)
    completed, first_segment = [None, None, None], ""
    if enrolled_16:
        first = min((t for t in life.terms if t.start >= date(y, 7, 1)), key=lambda t: (t.start, t.segment))
        first_segment = first.segment
        kinds = ("CERT", "AA", "BA") if first.segment == "CCC" else ("BA",)
        for i, years in enumerate(COMPLETION_YEARS["CCC" if first.segment == "CCC" else "four-year"]):
            last = first.ay + years - 1  # the first year counts as one
            if last <= last_year:
                completed[i] = any(a.kind in kinds and first.ay <= a.ay <= last for a in life.awards)
    # The last year of enrollment or award as the data can know it: a term or award after the data's
    # last year is in the simulated future, which no agency has reported yet.
    exit_ay = max(
        [y]
        + [t.ay for t in life.terms if t.ay <= last_year]
        + [a.ay for a in life.awards if a.kind != "CRED" and a.ay <= last_year]
    )
    employed, wages = [], []
    for k in RETENTION:
        if exit_ay + k > last_year:
            employed.append(None)
            wages.append("")
            continue
        annual = fiscal_wages(life, exit_ay + k)
        employed.append(annual >= 1)
        wages.append(f"{annual:.2f}" if annual >= 1 else "")
    hs_start, hs_end = date(y - 4, 7, 1), date(y, 6, 30)
    low_income = any(
        s.program in ("CALFRESH", "MEDICAL") and s.start <= hs_end and s.end >= hs_start for s in life.spells
    )
    district = life.k12[-1].school.district
    return [
        str(life.pid),
        str(y),
        known_race(life, first_year, last_year),
        life.sex,
        _flag(low_income),
        _flag(life.english_learner),
        _flag(life.foster),
        _flag(life.homeless),
        _flag(life.disability),
        district,
        first_segment,
        _flag(enrolled_16),
        _flag(enrolled_8),
        *[_flag(enrolled_16 and _segment(first_segment) == part) for part in FIRST_SEGMENTS],
        *map(_flag, completed),
        *map(_flag, employed),
        *wages,
    ]


def person_row(life: Life) -> list[str]:
    """The true identity: what every noisy record of this person should link back to."""
    married = life.name_changes[-1][1] if life.name_changes else ""
    return [
        str(life.pid),
        life.first,
        life.middle,
        life.last,
        life.birth.isoformat(),
        life.sex,
        life.ssn or "",
        married,
        report_group(life.hispanic, life.race),
        life.county,
        life.arrived.isoformat(),
        life.gone.isoformat() if life.gone else "",
        str(int(life.died)),
    ]


def workforce_fact(life: Life, first_year: int, last_year: int) -> list[str] | None:
    """The person's first exit from a WIOA program that the extracts show (a spell starting in the
    window), and employment in the 2nd and 4th quarter after the exit quarter."""
    exits = [s for s in life.spells if s.program == "WIOA" and first_year <= s.start.year <= last_year]
    if not exits:
        return None
    first = min(exits, key=lambda s: s.end)
    exit_index = first.end.year * 4 + (first.end.month - 1) // 3
    last_index = last_year * 4 + 3
    employed, earnings = [], ""
    for k in (2, 4):
        index = exit_index + k
        if index > last_index:
            employed.append(None)
            continue
        quarter = (index // 4) * 10 + index % 4 + 1
        wages = round(sum(w for q, _, w in life.wages if q == quarter), 2)
        employed.append(wages >= 1)
        if k == 2 and wages >= 1:
            earnings = f"{wages:.2f}"
    return [
        str(life.pid),
        str(_ay(first.end)),
        WORKFORCE_PROGRAMS[first.detail.split(":")[0]],
        known_race(life, first_year, last_year),
        life.sex,
        *map(_flag, employed),
        earnings,
    ]
