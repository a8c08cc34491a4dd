"""What a simulated life course is made of: the person, and the events each stage of the simulation
appends (school years, college terms, awards, credentials, assignments, program spells).

Plain records with no behaviour beyond reading themselves: the stages (`life_paths.py`, `life_work.py`)
fill them, `life.py` runs the stages in order, and the extracts and the truth read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from lakehouse.synth.world import School


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
