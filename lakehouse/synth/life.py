"""One simulated life course: who a person is, and what happens to them year by year.

`simulate` draws the person and runs the stages in order (`life_paths.py`, then `life_work.py`); the
records a life is made of are in `life_course.py` and re-exported here.

Pure Python and deterministic: everything is drawn from generators seeded by (seed, person id), and
twins share the draws of their family. Academic years are labelled by their ending year (2019-20 is
2020) and run July to June; `q` quarters are YRQTR integers such as 20234.
"""

from __future__ import annotations

import random
from datetime import date

from lakehouse.settings import SynthSettings
from lakehouse.synth import life_paths, life_work  # the stages, in order
from lakehouse.synth.identity import ssn_for
from lakehouse.synth.life_course import Assignment, Award, Credential, K12Year, Life, Spell, Term
from lakehouse.synth.world import GROUP_WEIGHTS, GROUPS, World

__all__ = [
    "RACE_CODES",
    "REPORT_GROUPS",
    "Assignment",
    "Award",
    "Credential",
    "K12Year",
    "Life",
    "Spell",
    "Term",
    "report_group",
    "simulate",
]

RACE_CODES = {
    "hispanic": ((500,),),
    "white": ((700,),),
    "black": ((600,),),
    "filipino": ((400,),),
    "asian": tuple((c,) for c in (201, 202, 203, 204, 205, 206, 207, 208, 299)),
    # "other": American Indian, Pacific Islander, and (most of it) two or more races
    "other": ((100,), (301,), (302,), (399,), (700, 201), (700, 600), (600, 700), (700, 100)),
}
REPORT_GROUPS = {
    100: "American Indian or Alaska Native",
    400: "Filipino",
    500: "Hispanic or Latino",
    600: "Black or African American",
    700: "White",
}


def report_group(hispanic: bool, race: tuple[int, ...]) -> str:
    """CALPADS reporting groups: Hispanic first, then two or more races, then the single race."""
    if hispanic:
        return "Hispanic or Latino"
    if not race:
        return "Not reported"
    if len(race) > 1:
        return "Two or More Races"
    code = race[0]
    if 200 <= code < 300:
        return "Asian"
    if 300 <= code < 400:
        return "Pacific Islander"
    return REPORT_GROUPS.get(code, "Not reported")


def _rng(seed: int, *keys: int | str) -> random.Random:
    return random.Random("|".join(str(k) for k in (seed, *keys)))


def simulate(pid: int, world: World, cfg: SynthSettings) -> Life:
    """The whole life course of person `pid` within [first_year, last_year]."""
    seed, rates = cfg.seed, cfg.rates
    # Twins (pids 2k and 2k+1) share their family's draws, under a key of their own: the family of a
    # pid that is no twin must not be some twin pair's (pid k was once the family of twins 2k, 2k+1).
    twins = _rng(seed, "twin", pid // 2).random() < rates.twins
    frng = _rng(seed, "twins", pid // 2) if twins else _rng(seed, "family", pid)
    rng = _rng(seed, "person", pid)
    group = GROUPS[_pick_index(frng, GROUP_WEIGHTS)]
    span = cfg.last_year - cfg.first_year
    birth_year = cfg.first_year - 34 + int(frng.random() * (span + 31))
    birth = date(birth_year, frng.randint(1, 12), frng.randint(1, 28))
    sex = "F" if rng.random() < 0.49 else "M"
    first = world.first_names[(sex, group)].pick(rng)
    if twins and pid % 2:  # parents do not give twins one first name
        sibling = _rng(seed, "person", pid - 1)
        if ("F" if sibling.random() < 0.49 else "M") == sex:
            taken = world.first_names[(sex, group)].pick(sibling)
            while first == taken:
                first = world.first_names[(sex, group)].pick(rng)
    middle = world.first_names[(sex, group)].pick(rng) if rng.random() < 0.7 else ""
    last = world.last_names[group].pick(frng)
    if group == "hispanic" and frng.random() < 0.18:
        second = world.last_names[group].pick(frng)
        if second != last:
            last = f"{last}-{second}" if frng.random() < 0.3 else f"{last} {second}"
    county = world.county_pick.pick(frng).code
    poverty = {"hispanic": 0.72, "black": 0.7, "white": 0.35, "asian": 0.35, "filipino": 0.4, "other": 0.55}[
        group
    ]
    low_income = frng.random() < poverty
    no_ssn_rate = rates.no_ssn * (2.5 if group == "hispanic" else 1.0)
    life = Life(
        pid=pid,
        sex=sex,
        group=group,
        race=rng.choice(RACE_CODES[group]),
        hispanic=group == "hispanic",
        birth=birth,
        first=first,
        middle=middle,
        last=last,
        ssn=None if frng.random() < no_ssn_rate else ssn_for(pid, seed),
        county=county,
        low_income=low_income,
        english_learner=group in ("hispanic", "asian", "other") and rng.random() < 0.38,
        foster=rng.random() < 0.006,
        homeless=low_income and rng.random() < 0.06,
        disability=rng.random() < 0.12,
        dev_disability=rng.random() < 0.015,
        arrived=birth,
    )
    if frng.random() < rates.in_migration:  # moved to California later in life
        life.arrived = date(birth.year + frng.randint(2, 35), frng.randint(1, 12), 1)
    _leave_or_die(life, rng, cfg)
    life.district = rng.choice(world.districts[county])
    life_paths.early_learning(life, rng, cfg)
    life_paths.k12(life, rng, world, cfg)
    life_paths.college(life, rng, world, cfg)
    life_paths.teaching(life, rng, world, cfg)
    life_paths.marriage(life, rng, world, cfg)
    # Own random streams: a state without moves or commuting draws exactly what it always drew.
    life_work.adult_moves(life, _rng(seed, "moves", pid), world, cfg)
    life_work.work(life, rng, world, cfg, commute_rng=_rng(seed, "commute", pid))
    life_work.services(life, rng, world, cfg)
    return life


def _pick_index(rng: random.Random, weights: tuple[float, ...]) -> int:
    u, acc = rng.random() * sum(weights), 0.0
    for i, w in enumerate(weights):
        acc += w
        if u < acc:
            return i
    return len(weights) - 1


def _leave_or_die(life: Life, rng: random.Random, cfg: SynthSettings) -> None:
    for year in range(max(life.arrived.year, cfg.first_year), cfg.last_year + 1):
        age = year - life.birth.year
        if age < 0:
            continue
        death = 0.0004 if age < 40 else 0.002 if age < 60 else 0.01
        leave = cfg.rates.out_migration * (1.5 if 18 <= age <= 40 else 0.6)
        u = rng.random()
        if u < death:
            life.gone, life.died = date(year, rng.randint(1, 12), rng.randint(1, 28)), True
            return
        if u < death + leave:
            life.gone = date(year, rng.randint(1, 12), rng.randint(1, 28))
            return
