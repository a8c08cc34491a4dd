"""Teaching careers, quarterly employment and wages, and public programs of a simulated life."""

from __future__ import annotations

import random
from datetime import date

from lakehouse.settings import SynthSettings
from lakehouse.synth.life_course import Assignment, Credential, Life, Spell
from lakehouse.synth.world import World

BASE_QUARTERLY = {"none": 6_000, "hs": 8_000, "some": 9_000, "aa": 10_500, "ba": 16_000}
EMPLOYED = {"none": 0.55, "hs": 0.68, "some": 0.72, "aa": 0.76, "ba": 0.82}
AID_CODES_CHILD, AID_CODES_ADULT = ("5K", "7X", "8U", "3N"), ("M1", "L1", "1H", "3N")


def teach(
    life: Life,
    rng: random.Random,
    world: World,
    cfg: SynthSettings,
    *,
    first_ay: int,
    code: int,
    max_years: int = 60,
) -> None:
    """Teaching assignments from `first_ay` until the teacher leaves the profession or the state."""
    district = life.district
    subject = life.credentials[-1].subject
    level = (
        "elementary"
        if subject == "Multiple Subject"
        else "high"
        if subject != "Education Specialist"
        else "middle"
    )
    school = rng.choice(world.schools[(district, level)])
    for k in range(max_years):
        ay = first_ay + k
        if ay > cfg.last_year or not life.present(date(ay - 1, 8, 15)):
            return
        if k and rng.random() < 0.06:  # moved to another district
            district = rng.choice(world.districts[school.county])
            school = rng.choice(world.schools[(district, level)])
        job_class = 10 if k >= 8 and rng.random() < 0.05 else 12
        life.assignments.append(Assignment(ay, school, job_class, 1.0 if rng.random() < 0.93 else 0.5, code))
        if code in (20, 30) and k == 1:  # interns earn the preliminary credential after two years
            cred = life.credentials[-1]
            life.credentials.append(
                Credential(_doc(rng), "preliminary", cred.subject, date(ay, 6, 20), cred.ihe, cred.segment)
            )
            code = 10
        elif code == 10 and k == 2 and life.credentials[-1].kind == "preliminary":
            cred = life.credentials[-1]
            life.credentials.append(
                Credential(_doc(rng), "clear", cred.subject, date(ay, 7, 1), cred.ihe, cred.segment)
            )
        hazard = cfg.rates.teacher_exit_hazard * (1.25 if k < 3 else 0.75)
        if rng.random() < hazard:
            return


def _doc(rng: random.Random) -> str:
    return f"{rng.randrange(100_000_000, 999_999_999)}"


def education_on(life: Life, day: date) -> str:
    kinds = {a.kind for a in life.awards if a.date <= day}
    if "BA" in kinds:
        return "ba"
    if kinds & {"AA", "CERT"}:
        return "aa"
    if any(t.start <= day for t in life.terms):
        return "some"
    return "hs" if life.completion and life.k12 and life.k12[-1].exit <= day else "none"


def adult_moves(life: Life, rng: random.Random, world: World, cfg: SynthSettings) -> None:
    """Moves to another county as an adult (`rates.adult_move` per year from 18): later jobs and benefit
    spells are in the new county, while school records keep the old one."""
    if not cfg.rates.adult_move:
        return
    county = life.county
    for year in range(max(cfg.first_year, life.birth.year + 18), cfg.last_year + 1):
        day = date(year, rng.randint(1, 12), rng.randint(1, 28))
        if life.present(day) and rng.random() < cfg.rates.adult_move:
            new = world.county_pick.pick(rng).code
            if new != county:
                life.moves.append((day, new))
                county = new


# Labor markets for commuting: the regions, except that Los Angeles, Orange and the Inland Empire,
# one region each here, are one metro area whose commuters cross those county lines daily.
COMMUTE_ZONES = dict.fromkeys(("Los Angeles", "Orange", "Inland Empire"), "Southern California")


def commute_zone(world: World, county: str) -> str:
    region = world.region_of(county)
    return COMMUTE_ZONES.get(region, region)


def job_county(life: Life, day: date, rng: random.Random, world: World, cfg: SynthSettings) -> str:
    """The county of a new job: where the person lives, or with `rates.commute` another county of the
    same labor market (commuters mostly stay within their metro area), by population."""
    home = life.county_on(day)
    if not (cfg.rates.commute and rng.random() < cfg.rates.commute):
        return home
    zone = commute_zone(world, home)
    others = [c for c in world.counties if commute_zone(world, c.code) == zone and c.code != home]
    if not others:
        return home
    total = sum(c.population for c in others)
    u, acc = rng.random() * total, 0.0
    for c in others:
        acc += c.population
        if u < acc:
            return c.code
    return others[-1].code


def work(
    life: Life, rng: random.Random, world: World, cfg: SynthSettings, *, commute_rng: random.Random
) -> None:
    """Quarterly UI wages within the data window, from age 16."""
    teaching = {a.ay: a for a in life.assignments}
    studying = {(t.start.year, (t.start.month - 1) // 3 + 1) for t in life.terms}
    skill = rng.lognormvariate(0, 0.3)
    employer, employed = None, False
    for year in range(cfg.first_year, cfg.last_year + 1):
        for q in (1, 2, 3, 4):
            day = date(year, 3 * q - 1, 15)
            age = year - life.birth.year
            if age < 16 or not life.present(day):
                employed = False
                continue
            ay = year + (1 if q >= 3 else 0)
            yrqtr = year * 10 + q
            inflation = 1.03 ** (year - 2015)
            if ay in teaching:
                years = sum(1 for a in teaching if a <= ay)
                account = world.district_employer[teaching[ay].school.district].account
                salary = (54_000 + 2_400 * years) * teaching[ay].fte * inflation / 4
                life.wages.append((yrqtr, account, round(salary * rng.uniform(0.97, 1.03), 2)))
                employer, employed = None, False
                continue
            level = education_on(life, day)
            p = EMPLOYED[level] * (0.35 if age < 18 else 0.7 if (year, q) in studying else 1.0)
            p *= 0.5 if age >= 65 else 1.0
            if employed and employer is not None and rng.random() < 0.93:
                pass  # stays with the same employer
            elif rng.random() < p:
                employer = world.employers[job_county(life, day, commute_rng, world, cfg)].pick(rng)
                if not employed:
                    employed = True
            else:
                employer, employed = None, False
                continue
            experience = max(0, age - 18)
            wage = BASE_QUARTERLY[level] * employer.wage_factor * skill * (1.025 ** min(experience, 30))
            wage *= inflation * rng.uniform(0.85, 1.15) * (0.45 if age < 18 else 1.0)
            life.wages.append((yrqtr, employer.account, round(wage, 2)))


def services(life: Life, rng: random.Random, world: World, cfg: SynthSettings) -> None:
    """CalFresh, CalWORKs and Medi-Cal spells; rehabilitation, developmental services, workforce programs."""
    end_window = date(cfg.last_year, 12, 31)
    medi_until = date(1900, 1, 1)
    for year in range(max(cfg.first_year, life.birth.year), cfg.last_year + 1):
        start = date(year, rng.randint(1, 12), 1)
        if not life.present(start):
            continue
        age = year - life.birth.year
        need = 1.0 if life.low_income else 0.12
        if rng.random() < 0.16 * need:
            life.spells.append(_spell("CALFRESH", start, rng.randint(3, 30), life, end_window))
        if (age < 18 or 18 <= age <= 40) and rng.random() < 0.05 * need:
            life.spells.append(_spell("CALWORKS", start, rng.randint(4, 24), life, end_window))
        if start > medi_until and rng.random() < 0.45 * need:
            codes = AID_CODES_CHILD if age < 19 else AID_CODES_ADULT
            spell = _spell("MEDICAL", start, rng.randint(12, 60), life, end_window, rng.choice(codes))
            life.spells.append(spell)
            medi_until = spell.end
        if life.disability and 18 <= age <= 60 and rng.random() < 0.03:
            outcome = "EMPLOYED" if rng.random() < 0.45 else "NOT_EMPLOYED"
            life.spells.append(_spell("DOR", start, rng.randint(6, 24), life, end_window, outcome))
        if 18 <= age <= 64 and rng.random() < 0.008 * (2 if life.low_income else 1):
            program = "YOUTH" if age < 25 else rng.choice(("ADULT", "DISLOCATED_WORKER"))
            credential = "Y" if rng.random() < 0.45 else "N"
            life.spells.append(
                _spell("WIOA", start, rng.randint(3, 12), life, end_window, f"{program}:{credential}")
            )
    if life.dev_disability:
        start = max(date(life.birth.year + 3, 1, 1), life.arrived, date(cfg.first_year, 1, 1))
        end = min(life.gone or end_window, end_window)
        if start < end:
            county = life.county_on(start)
            life.spells.append(Spell("DDS", start, end, county, f"RC{int(county) % 21 + 1:02d}"))


def _spell(program: str, start: date, months: int, life: Life, end_window: date, detail: str = "") -> Spell:
    m = start.month - 1 + months
    end = date(start.year + m // 12, m % 12 + 1, 1)
    end = min(end, life.gone or end, end_window)
    return Spell(program, start, end, life.county_on(start), detail)
