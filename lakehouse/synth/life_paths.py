"""The stages of a simulated life: early learning, K-12, college, teaching, marriage.

Each stage reads what earlier stages decided and appends events to the `Life`. Work, public services
and the other programs are in `life_work.py`.
"""

from __future__ import annotations

import random
from datetime import date

from lakehouse.settings import SynthSettings
from lakehouse.synth.life_course import Award, Credential, K12Year, Life, Term
from lakehouse.synth.life_work import teach
from lakehouse.synth.world import School, World

CIPS = (
    ("24.0101", 14),
    ("52.0201", 14),
    ("26.0101", 9),
    ("42.0101", 9),
    ("45.1101", 8),
    ("14.0901", 7),
    ("51.3801", 6),
    ("13.1202", 5),
    ("09.0101", 6),
    ("50.0701", 5),
    ("27.0101", 3),
    ("23.0101", 4),
    ("45.0601", 4),
    ("43.0104", 3),
    ("11.0701", 3),
)
SUBJECTS = (
    ("Multiple Subject", 40),
    ("Education Specialist", 16),
    ("Mathematics", 9),
    ("English", 9),
    ("Science: Biological Sciences", 6),
    ("Social Science", 8),
    ("Physical Education", 4),
    ("Spanish", 3),
    ("Art", 2),
    ("Music", 3),
)
CSU_UNITS, UC_TERMS, SEMESTERS = (6, 15), ("FA", "WI", "SP"), ("FA", "SP")


def weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    u, acc = rng.random() * sum(w for _, w in pairs), 0
    for item, w in pairs:
        acc += w
        if u < acc:
            return item
    return pairs[-1][0]


def fall_ay(birth: date, age: int) -> int:
    """The academic year a child starts at `age` (cutoff: born by September 1)."""
    return birth.year + age + (1 if birth.month <= 8 else 2)


def early_learning(life: Life, rng: random.Random, cfg: SynthSettings) -> None:
    take = 0.45 if life.low_income else 0.18
    for age in (3, 4):
        ay = fall_ay(life.birth, age)
        if life.present(date(ay - 1, 9, 15)) and rng.random() < take:
            program = rng.choice(("CSPP", "CSPP", "HEADSTART", "CCTR"))
            drdp = ("Y" if rng.random() < 0.7 else "N") if age == 4 else ""
            life.elc.append((ay, program, age, rng.randint(90, 180), drdp))


def _school(
    world: World, district: str, grade: int, rng: random.Random, current: School | None = None
) -> School:
    """The same school while the level and district stay the same; a new one otherwise."""
    level = "elementary" if grade <= 5 else "middle" if grade <= 8 else "high"
    options = world.schools[(district, level)]
    return current if current in options else rng.choice(options)


def k12(life: Life, rng: random.Random, world: World, cfg: SynthSettings) -> None:
    ay, grade, school = fall_ay(life.birth, 5), 0, None
    while grade <= 12:
        start, end = date(ay - 1, 8, 20), date(ay, 6, 10)
        if not life.present(start):
            if life.gone and life.gone <= start:
                return
            ay, grade = ay + 1, grade + 1  # not in California yet: starts later at the grade of their age
            continue
        if rng.random() < 0.06:  # family moved over the summer
            if rng.random() < 0.25:
                life.county = world.county_pick.pick(rng).code
            life.district = rng.choice(world.districts[life.county])
        school = _school(world, life.district, grade, rng, school)
        if life.gone and life.gone <= end:
            code = "E130" if life.died else "T200"
            life.k12.append(K12Year(ay, grade, school, start, life.gone, code))
            return
        if rng.random() < 0.03:  # moved to another district mid-year
            mid = date(ay, 1, rng.randint(5, 28))
            life.k12.append(K12Year(ay, grade, school, start, mid, "T160"))
            life.district = rng.choice(world.districts[life.county])
            school, start = _school(world, life.district, grade, rng), mid
        if grade in (3, 4, 5, 6, 7, 8, 11):
            base = 2480 + grade * 20 + (-40 if life.low_income else 30) + (-30 if life.english_learner else 0)
            for subject in ("ELA", "MATH"):
                life.scores.append((ay, grade, subject, int(rng.gauss(base, 90))))
        if grade >= 9 and rng.random() < _dropout_hazard(life, cfg):
            life.k12.append(K12Year(ay, grade, school, start, date(ay, rng.randint(1, 5), 15), "E140"))
            return
        if grade == 12:
            u = rng.random()
            if u < 0.035 and not any(y.exit_code == "E156" for y in life.k12):
                life.k12.append(K12Year(ay, grade, school, start, end, "E156"))
                ay += 1  # continues in grade 12 next year
                continue
            completion = "330" if u < 0.045 else "100"
            life.k12.append(K12Year(ay, grade, school, start, end, "E230", completion))
            life.completion = completion
            if completion == "100":
                life.grad_ay = ay
            return
        repeat = grade <= 8 and rng.random() < 0.012
        life.k12.append(K12Year(ay, grade, school, start, end, "E155"))
        ay, grade = ay + 1, grade + (0 if repeat else 1)


def _dropout_hazard(life: Life, cfg: SynthSettings) -> float:
    h = cfg.rates.dropout_hazard
    h *= 1.3 if life.low_income else 0.75
    h *= 1.4 if life.english_learner else 1.0
    h *= 3.0 if life.foster else 1.0
    h *= 1.8 if life.homeless else 1.0
    h *= 1.3 if life.disability else 1.0
    h *= 0.6 if life.group in ("asian", "white", "filipino") else 1.0
    return min(h, 0.5)


def _terms(segment: str) -> tuple[str, ...]:
    return UC_TERMS if segment == "UC" else SEMESTERS


def _term_start(ay: int, term: str) -> date:
    return {"FA": date(ay - 1, 8, 25), "WI": date(ay, 1, 6), "SP": date(ay, 1, 20), "SU": date(ay, 6, 15)}[
        term
    ]


def _enroll(
    life: Life, rng: random.Random, segment: str, college: str, ay: int, years: float, level: str
) -> int:
    """Terms from academic year `ay` for `years` years (or until the person leaves); last ay enrolled."""
    last, terms = ay, _terms(segment)
    for k in range(int(len(terms) * years + 0.5)):
        term_ay, term = ay + k // len(terms), terms[k % len(terms)]
        start = _term_start(term_ay, term)
        if not life.present(start):
            break
        units = float(rng.randint(*CSU_UNITS)) if segment != "UC" else float(rng.randint(8, 17))
        life.terms.append(Term(segment, college, term_ay, term, start, units, level))
        last = term_ay
    return last


def _campus(world: World, segment: str, life: Life, rng: random.Random):
    options = world.colleges[segment]
    near = [c for c in options if c.county == life.county]
    return rng.choice(near) if near and rng.random() < 0.6 else rng.choice(options)


def college(life: Life, rng: random.Random, world: World, cfg: SynthSettings) -> None:
    if life.grad_ay is None:
        if life.k12 and rng.random() < 0.15:  # non-graduates at community college later
            _ccc_path(life, rng, world, life.k12[-1].ay + rng.randint(1, 4))
        return
    factor = {"asian": 1.25, "white": 1.02, "filipino": 1.1, "black": 0.92, "hispanic": 0.95, "other": 1.0}
    p = cfg.rates.college_going * factor[life.group] * (0.92 if life.low_income else 1.08)
    if rng.random() >= min(p, 0.97):
        return
    start = life.grad_ay + (1 if rng.random() < 0.86 else rng.randint(2, 7))
    weights = (("CCC", 50), ("CSU", 22), ("UC", 15 if life.group in ("asian", "white") else 9), ("AICCU", 10))
    segment = weighted(rng, weights)
    applied = rng.random() < 0.75
    if applied:
        app = "FAFSA" if life.ssn else "CADAA"
        grant, amount = "", 0
        if life.low_income and start == life.grad_ay + 1:
            grant = {"CCC": "C" if rng.random() < 0.2 else "B", "CSU": "A", "UC": "A", "AICCU": "A"}[segment]
            grant = "B" if grant == "A" and rng.random() < 0.5 else grant
            amount = {"CCC": 1648, "CSU": 5742, "UC": 14226, "AICCU": 9358}[segment]
        life.aid.append((life.grad_ay, app, grant, amount))
    if segment == "CCC":
        _ccc_path(life, rng, world, start)
    else:
        _four_year_path(life, rng, world, segment, start, years_done=0)
    if life.aid and life.aid[0][2]:
        enrolled = sorted({t.ay for t in life.terms})[1:4]
        life.aid += [(ay, "RENEWAL", life.aid[0][2], life.aid[0][3]) for ay in enrolled]


def _ccc_path(life: Life, rng: random.Random, world: World, start: int) -> None:
    campus = _campus(world, "CCC", life, rng)
    years = rng.choice((0.5, 1, 1.5, 2, 2, 2.5, 3, 3))
    last = _enroll(life, rng, "CCC", campus.code, start, years, "UG")
    if not life.present(date(last, 6, 1)):
        return
    u = rng.random()
    if years >= 2 and u < 0.32:
        life.awards.append(Award("CCC", campus.code, last, date(last, 6, 5), "AA", weighted(rng, CIPS)))
    elif years >= 1 and u < 0.42:
        life.awards.append(Award("CCC", campus.code, last, date(last, 6, 5), "CERT", "47.0604"))
    if years >= 2 and rng.random() < 0.38:
        segment = "CSU" if rng.random() < 0.75 else "UC"
        _four_year_path(life, rng, world, segment, last + 1, years_done=2)


def _four_year_path(
    life: Life, rng: random.Random, world: World, segment: str, start: int, years_done: int
) -> None:
    campus = _campus(world, segment, life, rng)
    p_ba = {"CSU": 0.62, "UC": 0.84, "AICCU": 0.76}[segment] * (1.08 if years_done else 1.0)
    if rng.random() < p_ba:
        years = max(1, rng.choice((4, 4, 4, 5, 5, 6)) - years_done)
        last = _enroll(life, rng, segment, campus.code, start, years, "UG")
        if last == start + years - 1 and life.present(date(last, 6, 1)):
            life.awards.append(
                Award(segment, campus.code, last, date(last, 6, 12), "BA", weighted(rng, CIPS))
            )
    else:
        _enroll(life, rng, segment, campus.code, start, rng.choice((0.5, 1, 2, 3)), "UG")


def teaching(life: Life, rng: random.Random, world: World, cfg: SynthSettings) -> None:
    ba = next((a for a in life.awards if a.kind == "BA"), None)
    if ba is None:
        return
    p = cfg.rates.teacher_prep * (2.5 if ba.cip.startswith(("24.", "13.")) else 0.8)
    if rng.random() >= p:
        if rng.random() < 0.015:  # teaches on a provisional permit for a year or two
            ay = ba.ay + rng.randint(1, 3)
            life.credentials.append(
                Credential(_doc(rng), "permit", weighted(rng, SUBJECTS), date(ay - 1, 8, 1), "", "NONE")
            )
            teach(life, rng, world, cfg, first_ay=ay, code=50, max_years=rng.randint(1, 2))
        return
    prep_ay = ba.ay + rng.choice((1, 1, 1, 2, 2, 3, 4))
    subject = weighted(rng, SUBJECTS)
    route = weighted(rng, (("TRAD", 78), ("UNIV_INTERN", 10), ("DISTRICT_INTERN", 12)))
    if route == "DISTRICT_INTERN":
        ihe, segment = life.district, "DISTRICT"
    else:
        segment = weighted(rng, (("CSU", 62), ("AICCU", 28), ("UC", 10)))
        ihe = (
            ba.college
            if ba.segment == segment and rng.random() < 0.5
            else _campus(world, segment, life, rng).code
        )
    if not life.present(date(prep_ay - 1, 8, 1)):
        return
    if route == "TRAD":
        if segment != "DISTRICT":
            _enroll(life, rng, segment, ihe, prep_ay, 1, "CRED")
        issued = date(prep_ay, rng.choice((5, 6, 6, 7, 8)), rng.randint(1, 28))
        if not life.present(issued):
            return
        life.awards.append(Award(segment, ihe, prep_ay, issued, "CRED", "13.1202"))
        life.credentials.append(Credential(_doc(rng), "preliminary", subject, issued, ihe, segment))
        if rng.random() < 0.80:  # starts teaching the next fall, or a year later
            teach(life, rng, world, cfg, first_ay=issued.year + 1 + (rng.random() < 0.25), code=10)
        return
    issued = date(prep_ay - 1, 8, rng.randint(1, 28))
    life.credentials.append(Credential(_doc(rng), "intern", subject, issued, ihe, segment))
    teach(life, rng, world, cfg, first_ay=prep_ay, code=30 if route == "DISTRICT_INTERN" else 20)


def _doc(rng: random.Random) -> str:
    return f"{rng.randrange(100_000_000, 999_999_999)}"


def marriage(life: Life, rng: random.Random, world: World, cfg: SynthSettings) -> None:
    for year in range(max(life.birth.year + 22, cfg.first_year - 15), cfg.last_year + 1):
        if year - life.birth.year > 45:
            return
        if rng.random() < cfg.rates.marriage:
            when = date(year, rng.randint(1, 12), rng.randint(1, 28))
            change = (
                cfg.rates.name_change_on_marriage_f
                if life.sex == "F"
                else cfg.rates.name_change_on_marriage_m
            )
            if rng.random() < change:
                group = life.group if rng.random() < 0.7 else rng.choice(list(world.last_names))
                spouse = world.last_names[group].pick(rng)
                new = f"{life.last.split(' ')[0].split('-')[0]}-{spouse}" if rng.random() < 0.1 else spouse
                if new != life.last:
                    life.name_changes.append((when, new))
            return
