"""Native identifiers and identity noise for synthetic person records.

Identifiers are bijective scrambles of the person id, so they are unique without coordination between
Spark tasks and the same for a given seed. Noise is drawn from a generator seeded by
(seed, person, source, record key): each agency's record of a person carries its own, stable errors.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import date

from lakehouse.settings import SynthNoise

_KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"


def scramble(n: int, space: int, salt: int) -> int:
    """A bijection of [0, space): multiply by a unit mod `space` and add a salt."""
    multiplier = 2_654_435_761
    while _gcd(multiplier, space) != 1:
        multiplier += 2
    return (n * multiplier + salt) % space


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def ssn_for(pid: int, seed: int) -> str:
    # Like issued numbers: area 001-899 but never 666, group 01-99, serial 0001-9999 (silver
    # rejects the others as never issued, so a person given one would look like a person without
    # an SSN). A bijection of the person id onto those numbers keeps them unique.
    groups, serials = 99, 9_999
    n = scramble(pid, 898 * groups * serials, seed % (898 * groups * serials))
    area = 1 + n // (groups * serials)
    if area >= 666:
        area += 1
    return f"{area:03d}{1 + (n // serials) % groups:02d}{1 + n % serials:04d}"


def ssid_for(pid: int, seed: int, copy: int = 0) -> str:
    return str(1_000_000_000 + scramble(pid + copy * 4_000_000_000, 8_999_999_999, seed))


def seid_for(pid: int, seed: int) -> str:
    return str(1_000_000_000 + scramble(pid, 8_999_999_999, seed * 7 + 3))


def cin_for(pid: int, seed: int) -> str:
    n = scramble(pid, 100_000_000, seed * 11 + 5)
    return f"9{n % 10_000_000:07d}{string.ascii_uppercase[n % 26]}"


def local_id(pid: int, seed: int, salt: int, digits: int = 8) -> str:
    space = 10**digits
    return f"{scramble(pid, space, (seed * 31 + salt) % space):0{digits}d}"


@dataclass(frozen=True)
class TrueIdentity:
    first: str
    middle: str
    last: str
    birth: date
    sex: str
    ssn: str | None


@dataclass(frozen=True)
class ImpossibleDate:
    """A birth date as keyed, not as it could be: month 13, day 32 or a 30th of February. It formats
    like a date (`strftime`, `isoformat`) so each agency writes it in its own layout."""

    year: int
    month: int
    day: int

    def strftime(self, fmt: str) -> str:
        return (
            fmt.replace("%Y", f"{self.year:04d}")
            .replace("%m", f"{self.month:02d}")
            .replace("%d", f"{self.day:02d}")
        )

    def isoformat(self) -> str:
        return self.strftime("%Y-%m-%d")


def impossible_date(birth: date, rng: random.Random) -> ImpossibleDate:
    """The slips that make a date that cannot be: a month past 12, a day past 31, a February 30."""
    kind = rng.randrange(3)
    if kind == 0:
        return ImpossibleDate(
            birth.year, 13 + rng.randrange(0, 7) if birth.month < 10 else birth.month + 10, birth.day
        )
    if kind == 1:
        return ImpossibleDate(birth.year, birth.month, 32 + rng.randrange(0, 8))
    return ImpossibleDate(birth.year, 2, 30)


@dataclass(frozen=True)
class RecordIdentity:
    first: str
    middle: str
    last: str
    birth: date | ImpossibleDate | None
    sex: str
    ssn: str


def noisy(
    true: TrueIdentity,
    rng: random.Random,
    noise: SynthNoise,
    nicknames: dict[str, list[str]],
    *,
    ssn_coverage: float,
) -> RecordIdentity:
    """The identity as one agency recorded it: typos, nicknames, swaps, partial surnames, date errors."""
    first, middle, last = true.first, true.middle, true.last
    if first in nicknames and rng.random() < noise.nickname:
        first = rng.choice(nicknames[first])
    parts = surname_parts(last)
    if len(parts) > 1 and rng.random() < noise.compound_partial:
        last = parts[0] if rng.random() < 0.7 else parts[-1]
    if rng.random() < noise.typo:
        first = typo(first, rng)
    if rng.random() < noise.typo:
        last = typo(last, rng)
    if rng.random() < noise.swap_names:
        first, last = last, first
    if rng.random() < noise.missing_middle:
        middle = ""
    birth: date | ImpossibleDate | None = true.birth
    if rng.random() < noise.dob_swap and true.birth.day <= 12 and true.birth.day != true.birth.month:
        birth = date(true.birth.year, true.birth.day, true.birth.month)
    elif rng.random() < noise.dob_typo:
        birth = dob_typo(true.birth, rng)
    sex = true.sex if rng.random() >= noise.missing_gender else ""
    ssn = ""
    if true.ssn and rng.random() < ssn_coverage:
        ssn = true.ssn
        if rng.random() < noise.ssn_transpose:
            i = rng.randrange(8)
            ssn = ssn[:i] + ssn[i + 1] + ssn[i] + ssn[i + 2 :]
        elif rng.random() < noise.ssn_typo:
            i = rng.randrange(9)
            ssn = ssn[:i] + str((int(ssn[i]) + rng.randrange(1, 10)) % 10) + ssn[i + 1 :]
    # Drawn last and only when asked for, so that a profile without them draws what it always drew.
    if noise.missing_dob and rng.random() < noise.missing_dob:
        birth = None
    elif noise.impossible_dob and rng.random() < noise.impossible_dob:
        birth = impossible_date(true.birth, rng)
    return RecordIdentity(first, middle, last, birth, sex, ssn)


PARTICLES = {
    "de",
    "del",
    "dela",
    "la",
    "las",
    "los",
    "van",
    "von",
    "der",
    "den",
    "da",
    "di",
    "st.",
    "st",
    "le",
    "du",
    "mac",
    "mc",
    "o'",
    "y",
}


def surname_parts(last: str) -> list[str]:
    """The surnames in a compound (two-surname or hyphenated) family name; 'De La Cruz' is one surname."""
    if "-" in last:
        return [p for p in last.split("-") if p]
    words = last.split()
    parts: list[str] = []
    for word in words:
        if parts and parts[-1].split()[-1].lower() in PARTICLES:
            parts[-1] = f"{parts[-1]} {word}"  # a particle belongs to the word after it
        else:
            parts.append(word)
    return parts


def typo(name: str, rng: random.Random) -> str:
    """One keyboard slip: drop, double, swap or replace a letter."""
    if len(name) < 3:
        return name
    i = rng.randrange(1, len(name) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return name[:i] + name[i + 1 :]
    if kind == 1:
        return name[:i] + name[i] + name[i:]
    if kind == 2:
        return name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]
    letter = rng.choice(_KEYBOARD)
    return name[:i] + (letter.upper() if name[i].isupper() else letter) + name[i + 1 :]


def dob_typo(birth: date, rng: random.Random) -> date:
    """A digit wrong in the day or the year (a valid date either way)."""
    if rng.random() < 0.6:
        day = min(28, max(1, birth.day + rng.choice([-10, -1, 1, 10])))
        return birth.replace(day=day)
    return birth.replace(year=birth.year + rng.choice([-10, -1, 1, 10]), day=min(birth.day, 28))
