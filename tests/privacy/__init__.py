"""Builders shared by the privacy tests: hand-made marts, their expected flags, and random marts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lakehouse.privacy import Relation

YEAR = 2020
FLAG_VIEW = [
    "metric",
    "dimension",
    "group",
    "denominator_suppressed",
    "numerator_suppressed",
    "value_suppressed",
    "suppression",
]
RETAINED_FOLLOWS_PLACED = Relation(((1, "retained_1y", "denominator"), (-1, "placed", "numerator")))
NOT_PLACED_ARE_EMPLOYED = Relation(
    ((1, "employed", "denominator"), (-1, "placed", "denominator"), (1, "placed", "numerator"))
)


def mart(*rows: tuple) -> pd.DataFrame:
    """Rows (metric, dimension, group, denominator, numerator) of cohort YEAR; a rate row, or a median
    row (wage 40,000 + denominator, any value will do) when the numerator is None."""
    records = []
    for metric, dimension, group, denominator, numerator in rows:
        rate = numerator is not None
        records.append(
            {
                "metric": metric,
                "cohort_year": YEAR,
                "dimension": dimension,
                "group": group,
                "kind": "rate" if rate else "median",
                "denominator": denominator,
                "numerator": float(numerator) if rate else np.nan,
                "value": (numerator / denominator if denominator else np.nan)
                if rate
                else 40_000.0 + denominator,
            }
        )
    return pd.DataFrame(records)


def flags(*rows: tuple[str, str, str, str, str]) -> pd.DataFrame:
    """Expected flags: (metric, dimension, group, which of "dnv" are suppressed, suppression)."""
    return pd.DataFrame(
        [
            (metric, dimension, group, "d" in which, "n" in which, "v" in which, why)
            for metric, dimension, group, which, why in rows
        ],
        columns=FLAG_VIEW,
    )


# Three programs whose "same people" identities hold in one group each (a declared relation is used
# only where it holds: a.M == b.M, b.X == c.X, c.F == a.F). With a.F, a.M, b.M, b.X, c.F, c.X
# suppressed, every equation has two suppressed cells, yet together they give each one away:
# 2 a.F = (a.F + a.M) - (b.M + b.X) + (c.X + c.F), each sum known from published cells.
CYCLE = [
    Relation(((1, "a", "denominator"), (-1, "b", "denominator"))),
    Relation(((1, "b", "denominator"), (-1, "c", "denominator"))),
    Relation(((1, "c", "denominator"), (-1, "a", "denominator"))),
]
CYCLIC_MEDIANS = mart(
    ("a", "statewide", "All", 41, None),
    ("a", "gender", "F", 4, None),
    ("a", "gender", "M", 7, None),
    ("a", "gender", "X", 30, None),
    ("b", "statewide", "All", 38, None),
    ("b", "gender", "F", 25, None),
    ("b", "gender", "M", 7, None),
    ("b", "gender", "X", 6, None),
    ("c", "statewide", "All", 50, None),
    ("c", "gender", "F", 4, None),
    ("c", "gender", "M", 40, None),
    ("c", "gender", "X", 6, None),
)


def random_mart(
    seed: int,
    *,
    years: int = 5,
    dimensions: int = 3,
    max_groups: int = 30,
    people: tuple[int, int] = (400, 6000),
) -> pd.DataFrame:
    """A mart aggregated from simulated people, so every additivity equation and the relation
    RETAINED_FOLLOWS_PLACED hold exactly: per cohort year, `dimensions` breakdowns of 2..max_groups
    groups (skewed sizes: some groups are tiny) and three metrics, placed and retained_1y (rates)
    and wage_not_teaching (median)."""
    rng = np.random.default_rng(seed)
    frames = []
    for year in range(2015, 2015 + years):
        persons = _people(rng, int(rng.integers(*people)), dimensions, max_groups)
        for dimension in ["statewide"] + [f"dim{k}" for k in range(dimensions)]:
            frames += _aggregate(persons, year, dimension)
    out = pd.concat(frames, ignore_index=True)
    rate = out["kind"] == "rate"
    out.loc[rate, "value"] = out.loc[rate, "numerator"] / out.loc[rate, "denominator"].replace(0, np.nan)
    return out[["metric", "cohort_year", "dimension", "group", "kind", "denominator", "numerator", "value"]]


def _people(rng: np.random.Generator, size: int, dimensions: int, max_groups: int) -> pd.DataFrame:
    persons = pd.DataFrame({"statewide": np.full(size, "All")})
    for k in range(dimensions):
        n_groups = int(rng.integers(2, max_groups + 1))
        labels = [f"g{i:02d}" for i in range(n_groups - 1)] + ["Unknown"]
        persons[f"dim{k}"] = rng.choice(labels, size=size, p=rng.dirichlet(np.full(n_groups, 1.5)))
    persons["placed"] = rng.random(size) < rng.uniform(0.3, 0.95)
    persons["retained"] = persons["placed"] & (rng.random(size) < rng.uniform(0.6, 0.97))
    persons["observed"] = ~persons["placed"] & (rng.random(size) < 0.7)
    persons["wage"] = np.where(persons["observed"], rng.lognormal(10.5, 0.4, size).round(), np.nan)
    return persons


def _aggregate(persons: pd.DataFrame, year: int, dimension: str) -> list[pd.DataFrame]:
    by = persons.groupby(dimension, sort=True)
    base = pd.DataFrame({"cohort_year": year, "dimension": dimension, "group": by.size().index})
    placed = by["placed"].sum().to_numpy()
    return [
        base.assign(metric="placed", kind="rate", denominator=by.size().to_numpy(), numerator=placed * 1.0),
        base.assign(
            metric="retained_1y",
            kind="rate",
            denominator=placed,
            numerator=by["retained"].sum().to_numpy() * 1.0,
        ),
        base.assign(
            metric="wage_not_teaching",
            kind="median",
            denominator=by["observed"].sum().to_numpy(),
            numerator=np.nan,
            value=by["wage"].median().to_numpy(),
        ),
    ]


# The relations of a builder's mart, both kinds: retained_1y is counted among the placed
# (`among: {placed: true}`), employed among the not placed (`among: {placed: false}`), and the wage
# median over the employed.
WAGE_OVER_EMPLOYED = Relation(((1, "wage", "denominator"), (-1, "employed", "numerator")))
PIPELINE_RELATIONS = [RETAINED_FOLLOWS_PLACED, NOT_PLACED_ARE_EMPLOYED, WAGE_OVER_EMPLOYED]


def random_censored_mart(
    seed: int,
    *,
    years: int = 4,
    dimensions: int = 3,
    max_groups: int = 12,
    people: tuple[int, int] = (60, 900),
) -> pd.DataFrame:
    """A mart the way the gold builder writes one, for PIPELINE_RELATIONS: a group with nobody in a
    metric's population has no row for it, and follow-up is censored for a share of people in some
    years (the first year always), so each relation breaks in the cells those people fall in and
    holds elsewhere. In the last year retained_1y is not observed at all (no rows)."""
    rng = np.random.default_rng(seed)
    frames = []
    for year in range(2015, 2015 + years):
        size = int(rng.integers(*people))
        persons = _people(rng, size, dimensions, max_groups)
        censored = rng.uniform(0.02, 0.15) if year == 2015 or rng.random() < 0.3 else 0.0
        placed = persons["placed"].to_numpy()
        followed = placed & (rng.random(size) >= censored)
        looked_for = ~placed & (rng.random(size) >= censored)
        employed = looked_for & (rng.random(size) < rng.uniform(0.4, 0.9))
        paid = employed & (rng.random(size) >= censored)
        persons = persons.assign(
            followed=followed,
            retained=followed & (rng.random(size) < rng.uniform(0.6, 0.97)),
            looked_for=looked_for,
            employed=employed,
            paid=paid,
            pay=np.where(paid, rng.lognormal(10.5, 0.4, size).round(), np.nan),
        )
        for dimension in ["statewide"] + [f"dim{k}" for k in range(dimensions)]:
            by = persons.groupby(dimension, sort=True)
            base = pd.DataFrame({"cohort_year": year, "dimension": dimension, "group": by.size().index})
            metrics = [
                ("placed", by.size(), by["placed"].sum()),
                ("employed", by["looked_for"].sum(), by["employed"].sum()),
            ]
            if year < 2015 + years - 1:
                metrics.append(("retained_1y", by["followed"].sum(), by["retained"].sum()))
            for metric, denominator, numerator in metrics:
                frames.append(
                    base.assign(
                        metric=metric,
                        kind="rate",
                        denominator=denominator.to_numpy(),
                        numerator=numerator.to_numpy() * 1.0,
                    )
                )
            frames.append(
                base.assign(
                    metric="wage",
                    kind="median",
                    denominator=by["paid"].sum().to_numpy(),
                    numerator=np.nan,
                    value=by["pay"].median().to_numpy(),
                )
            )
    out = pd.concat(frames, ignore_index=True)
    out = out[out["denominator"] > 0].reset_index(drop=True)  # as the builder: no row for nobody
    rate = out["kind"] == "rate"
    out.loc[rate, "value"] = out.loc[rate, "numerator"] / out.loc[rate, "denominator"]
    return out[["metric", "cohort_year", "dimension", "group", "kind", "denominator", "numerator", "value"]]
