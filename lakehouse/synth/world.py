"""The fixed world of a synthetic state: counties, districts, schools, colleges, employers, names.

Built once on the driver from the seed and the reference files in `lakehouse/synth/data/`, then shipped
to Spark tasks inside the simulation closure (it is small: a few thousand schools and employers).
"""

from __future__ import annotations

import bisect
import csv
import random
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from itertools import accumulate

GROUPS = ("hispanic", "white", "asian", "black", "filipino", "other")
# Shares of California K-12 enrollment (docs/domain.md); "other" holds two or more races, AI/AN and PI.
GROUP_WEIGHTS = (0.56, 0.20, 0.10, 0.05, 0.02, 0.07)
REGIONAL_CENTERS = 21


@dataclass(frozen=True)
class County:
    code: str
    name: str
    population: int
    region: str


@dataclass(frozen=True)
class School:
    cds: str  # 14-digit County-District-School code
    district: str  # 7-digit county + district code
    county: str
    level: str  # elementary, middle, high


@dataclass(frozen=True)
class College:
    segment: str
    code: str
    name: str
    county: str


@dataclass(frozen=True)
class Employer:
    account: str  # EDD employer account number
    naics2: str
    county: str
    wage_factor: float


class Weighted:
    """Draws from a weighted list with one uniform number."""

    def __init__(self, items: list, weights: list[float]) -> None:
        self.items = items
        self.cumulative = list(accumulate(weights))

    def pick(self, rng: random.Random):
        return self.items[bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])]


@dataclass
class World:
    seed: int
    counties: list[County]
    county_pick: Weighted
    schools: dict[tuple[str, str], list[School]]  # (district, level) -> schools
    districts: dict[str, list[str]]  # county code -> district codes
    colleges: dict[str, list[College]]  # segment -> colleges
    employers: dict[str, Weighted]  # county code -> employers by size
    district_employer: dict[str, Employer]
    first_names: dict[tuple[str, str], Weighted]
    last_names: dict[str, Weighted]
    nicknames: dict[str, list[str]]
    industry_wage: dict[str, float]
    county_by_name: dict[str, str] = field(default_factory=dict)

    def county(self, code: str) -> County:
        return next(c for c in self.counties if c.code == code)

    def region_of(self, county_code: str) -> str:
        return self.regions[county_code]

    @property
    def regions(self) -> dict[str, str]:
        if not hasattr(self, "_regions"):
            self._regions = {c.code: c.region for c in self.counties}
        return self._regions


def _rows(name: str) -> list[dict[str, str]]:
    with resources.files("lakehouse.synth").joinpath("data", name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def build_world(seed: int, persons: int) -> World:
    """Districts, schools and employers scale with the population; colleges and names do not."""
    rng = random.Random(f"world|{seed}")
    counties = [
        County(r["county_code"], r["county_name"], int(r["population"]), r["region"])
        for r in _rows("counties.csv")
    ]
    by_name = {c.name: c.code for c in counties}

    districts: dict[str, list[str]] = {}
    schools: dict[tuple[str, str], list[School]] = defaultdict(list)
    state_pop = sum(c.population for c in counties)
    for c in counties:
        n_districts = max(1, min(60, round(c.population / 250_000)))
        districts[c.code] = []
        for d in range(n_districts):
            district = f"{c.code}{61000 + d * 17 + rng.randrange(17):05d}"
            districts[c.code].append(district)
            for level, count in (
                ("elementary", rng.randint(2, 6)),
                ("middle", rng.randint(1, 2)),
                ("high", rng.randint(1, 2)),
            ):
                for _ in range(count):
                    cds = f"{district}{rng.randrange(100_000, 9_999_999):07d}"
                    schools[(district, level)].append(School(cds, district, c.code, level))

    colleges: dict[str, list[College]] = defaultdict(list)
    for r in _rows("colleges.csv"):
        colleges[r["segment"]].append(
            College(r["segment"], r["inst_code"], r["inst_name"], by_name[r["county_name"]])
        )

    industries = _rows("industries.csv")
    industry_pick = Weighted([r["naics2"] for r in industries], [float(r["share"]) for r in industries])
    industry_wage = {r["naics2"]: float(r["mean_quarterly_wage"]) for r in industries}
    mean_wage = sum(industry_wage[r["naics2"]] * float(r["share"]) for r in industries)
    employers: dict[str, Weighted] = {}
    district_employer: dict[str, Employer] = {}
    accounts = set()

    def new_account() -> str:
        while True:
            account = f"{rng.randrange(10_000_000, 99_999_999)}"
            if account not in accounts:
                accounts.add(account)
                return account

    for c in counties:
        n = max(8, round(persons * 0.04 * c.population / state_pop))
        emps = [
            Employer(
                new_account(),
                (naics := industry_pick.pick(rng)),
                c.code,
                industry_wage[naics] / mean_wage * rng.uniform(0.8, 1.25),
            )
            for _ in range(n)
        ]
        employers[c.code] = Weighted(emps, [rng.paretovariate(1.2) for _ in emps])
        for district in districts[c.code]:
            district_employer[district] = Employer(new_account(), "61", c.code, 1.0)

    first = defaultdict(lambda: ([], []))
    for r in _rows("first_names.csv"):
        items, weights = first[(r["sex"], r["group"])]
        items.append(r["name"])
        weights.append(float(r["weight"]))
    last = defaultdict(lambda: ([], []))
    for r in _rows("last_names.csv"):
        items, weights = last[r["group"]]
        items.append(r["name"])
        weights.append(float(r["weight"]))
    nicknames: dict[str, list[str]] = defaultdict(list)
    for r in _rows("nicknames.csv"):
        nicknames[r["name"]].append(r["nickname"])

    return World(
        seed=seed,
        counties=counties,
        county_pick=Weighted(counties, [c.population for c in counties]),
        schools=dict(schools),
        districts=districts,
        colleges=dict(colleges),
        employers=employers,
        district_employer=district_employer,
        first_names={k: Weighted(*v) for k, v in first.items()},
        last_names={k: Weighted(*v) for k, v in last.items()},
        nicknames=dict(nicknames),
        industry_wage=industry_wage,
        county_by_name=by_name,
    )
