"""One simulated life course: who a person is, and what happens to them year by year.

Pure Python and deterministic: everything is drawn from generators seeded by (seed, person id), and
twins share the draws of their family. Academic years are labelled by their ending year (2019-20 is
2020) and run July to June; `q` quarters are YRQTR integers such as 20234.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from lakehouse.settings import SynthSettings
from lakehouse.synth.world import GROUP_WEIGHTS, GROUPS, School, World

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


@dataclass
class K12Year:
    ay: int
    grade: int  # 0 = kindergarten
    school: School
    entry: date
    exit: date
    exit_code: (
        str  # E155 year end, E230 completer, E156 12th-grade continuing, E140 dropout, E130 died, T160 moved
    )
    completion: str = ""  # 100 standard diploma, 250 adult-ed diploma, 330 CHSPE


@dataclass
class Term:
    segment: str
    college: str
    ay: int
    term: str  # FA, WI, SP, SU
    start: date
    units: float
    level: str  # UG, CRED (credential program)


@dataclass
class Award:
    segment: str
    college: str
    ay: int
    date: date
    kind: str  # CERT, AA, BA, CRED
    cip: str


@dataclass
class Credential:
    doc: str
    kind: str  # intern, preliminary, clear, permit, waiver
    subject: str
    issued: date
    ihe: str  # preparing institution code ('' for permits)
    segment: str  # CSU, UC, AICCU, DISTRICT, NONE


@dataclass
class Assignment:
    ay: int
    school: School
    job_class: int  # 12 teacher, 10 administrator
    fte: float
    cred_code: int  # 10 full, 20 university intern, 30 district intern, 40 waiver, 50 provisional permit


@dataclass
class Spell:
    program: str
    start: date
    end: date
    county: str
    detail: str = ""


@dataclass
class Life:
    pid: int
    sex: str
    group: str
    race: tuple[int, ...]
    hispanic: bool
    birth: date
    first: str
    middle: str
    last: str
    ssn: str | None
    county: str
    low_income: bool
    english_learner: bool
    foster: bool
    homeless: bool
    disability: bool
    dev_disability: bool
    arrived: date
    gone: date | None = None  # left the state or died: no record after this date
    died: bool = False
    name_changes: list[tuple[date, str]] = field(default_factory=list)
    moves: list[tuple[date, str]] = field(default_factory=list)  # adult moves to another county
    district: str = ""
    elc: list[tuple[int, str, int, int, str]] = field(default_factory=list)  # ay, program, age, days, drdp
    k12: list[K12Year] = field(default_factory=list)
    scores: list[tuple[int, int, str, int]] = field(default_factory=list)  # ay, grade, subject, score
    terms: list[Term] = field(default_factory=list)
    awards: list[Award] = field(default_factory=list)
    aid: list[tuple[int, str, str, int]] = field(default_factory=list)  # ay, app type, grant, amount
    credentials: list[Credential] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    wages: list[tuple[int, str, float]] = field(default_factory=list)  # yrqtr, employer account, wages
    spells: list[Spell] = field(default_factory=list)  # CALFRESH, CALWORKS, MEDICAL, DOR, DDS, WIOA
    grad_ay: int | None = None
    completion: str = ""

    def last_name_on(self, day: date) -> str:
        name = self.last
        for when, new in self.name_changes:
            if when <= day:
                name = new
        return name

    def county_on(self, day: date) -> str:
        """Where the person lives on `day`: the county of their school years, then their moves."""
        county = self.county
        for when, new in self.moves:
            if when <= day:
                county = new
        return county

    def present(self, day: date) -> bool:
        return self.arrived <= day and (self.gone is None or day < self.gone)


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
        ssn=None if frng.random() < no_ssn_rate else _ssn(pid, seed),
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

    from lakehouse.synth import life_paths, life_work  # the stages, in order

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


def _ssn(pid: int, seed: int) -> str:
    from lakehouse.synth.identity import ssn_for

    return ssn_for(pid, seed)


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
