"""A mart published with pooled cohorts: per-year statewide, pooled statewide and pooled breakdowns,
suppressed as one table; small groups left out of the pools; the CSVs and sidecars that follow."""

from __future__ import annotations

import csv
import json

import pandas as pd

from lakehouse.gold.catalog import Catalog, Mart, Metric
from lakehouse.gold.pooling import cohort_pools
from lakehouse.privacy import audit
from lakehouse.publish.publication import Publication

MART = Mart(
    name="m",
    title="Test mart",
    cohort="first_teaching_credential",
    cohort_definition="People in a test.",
    breakdowns=("gender",),
    coverage="Test coverage.",
    metrics=(Metric("placed", "Placed."),),
)
CATALOG = Catalog(
    vintage=None, cpi_base_year=2024, min_cell_size=11, employment_threshold=1, marts=(MART,),
    pool_window_years=3, yearly_breakdowns=False,
)  # fmt: skip
YEARS = range(2016, 2021)
# Per year and group: (people, placed). X is a group of 5 people over all years.
PEOPLE = {"F": [(9, 5), (8, 4), (9, 6), (10, 5), (9, 4)], "M": [(7, 3), (8, 5), (6, 3), (9, 6), (8, 5)],
          "X": [(1, 1), (0, 0), (2, 1), (1, 0), (1, 1)]}  # fmt: skip


def _cell(year, dimension, group, d, n):
    return dict(mart="m", metric="placed", kind="rate", cohort_year=year, dimension=dimension, group=group,
                denominator=d, numerator=n, value=n / d, value_real=None)  # fmt: skip


def _cells(people: dict = PEOPLE) -> tuple[pd.DataFrame, pd.DataFrame]:
    yearly, pooled = [], []
    for i, year in enumerate(YEARS):
        per = {g: v[i] for g, v in people.items() if v[i][0]}
        yearly.append(_cell(year, "statewide", "All", *map(sum, zip(*per.values(), strict=True))))
        yearly += [_cell(year, "gender", g, d, n) for g, (d, n) in per.items()]
    for pool in cohort_pools(YEARS, 3):
        span = range(pool.first - YEARS[0], pool.last - YEARS[0] + 1)
        per = {g: tuple(map(sum, zip(*(v[i] for i in span), strict=True))) for g, v in people.items()}
        per = {g: c for g, c in per.items() if c[0]}
        pooled.append(_cell(pool.label, "statewide", "All", *map(sum, zip(*per.values(), strict=True))))
        pooled += [_cell(pool.label, "gender", g, d, n) for g, (d, n) in per.items()]
    return pd.DataFrame(yearly), pd.DataFrame(pooled)


def test_breakdowns_are_published_pooled_and_statewide_both_ways(tmp_path):
    yearly, pooled = _cells()
    publication = Publication.of(
        CATALOG,
        2021,
        {"m": {"mart": MART, "cells": yearly, "pooled": pooled, "cohort_sizes": {}, "match_rate": 1.0}},
    )
    m = publication.marts["m"]
    assert m.pooled_cells is not None and m.pooling_note == ""
    assert audit(m.flagged, threshold=11, relations=m.relations) == []
    # per year: statewide only; pooled: statewide and every group, X (5 people) suppressed in each pool
    assert set(m.yearly["dimension"]) == {"statewide"} and len(m.yearly) == 5
    assert sorted(m.pooled["cohort"].unique()) == ["2016-2018", "2016-2020", "2017-2019", "2018-2020"]
    assert set(m.pooled["group"]) == {"All", "F", "M", "X"}
    assert m.pooled.loc[m.pooled["group"] == "X", "denominator_suppressed"].all()
    files = publication.write_files(tmp_path, run_id="r1")
    assert [f.name for f in files] == [
        "m__statewide.csv",
        "m__pooled__statewide.csv",
        "m__pooled__by_gender.csv",
    ]
    with (tmp_path / "m__pooled__by_gender.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["cohort"], r["gender"]) for r in rows] == [
        (c, g) for c in ("2016-2018", "2017-2019", "2018-2020", "2016-2020") for g in ("F", "M", "X")
    ]
    assert {r["placed_denominator"] for r in rows if r["gender"] == "X"} == {"suppressed"}
    # F over all years: 45 people, 24 placed, published as computed from the pooled members
    assert rows[-3]["placed_denominator"] == "45" and rows[-3]["placed_numerator"] == "24"
    meta = json.loads((tmp_path / "m__pooled__by_gender.json").read_text())
    assert meta["dimensions"] == ["cohort", "gender"] and "3-year" in meta["pooled_cohorts_note"]
    assert meta["title"] == "Test mart: pooled cohorts, by gender"


def test_a_mart_whose_pools_would_give_a_count_away_is_published_per_year(tmp_path, monkeypatch):
    """When the audit finds a count the pooled tables give away whatever is suppressed (in a tiny
    mart, a blank in a related metric), the mart falls back to per-year tables with its breakdowns,
    and says why."""
    import lakehouse.publish.publication as publication_module

    yearly, pooled = _cells()
    real_audit = publication_module.audit
    pooled_labels = set(pooled["cohort_year"])

    def audit_finding_a_pool(flagged, **options):
        found = real_audit(flagged, **options)
        return found + (["placed 2016-2018 statewide=All numerator: recoverable"] if
                        flagged["cohort_year"].isin(pooled_labels).any() else [])  # fmt: skip

    monkeypatch.setattr(publication_module, "audit", audit_finding_a_pool)
    publication = Publication.of(
        CATALOG,
        2021,
        {"m": {"mart": MART, "cells": yearly, "pooled": pooled, "cohort_sizes": {}, "match_rate": 1.0}},
    )
    m = publication.marts["m"]
    assert (
        m.pooled_cells is None
        and m.pooling_note == "pooled cohorts not published: 1 count(s) the pools give away"
    )
    assert set(m.yearly["dimension"]) == {"statewide", "gender"} and m.pooled.empty
    assert audit(m.flagged, threshold=11, relations=m.relations) == []
    files = publication.write_files(tmp_path, run_id="r1")
    assert [f.name for f in files] == ["m__statewide.csv", "m__by_gender.csv"]


def test_the_order_spark_hands_the_cells_over_in_changes_nothing(tmp_path):
    """Spark returns cells in no set order and the suppressor breaks ties by row order: the
    publication sorts them first, so shuffled cells publish the same files. F and M are alike, so
    which of them protects X is a tie."""
    yearly, pooled = _cells({**PEOPLE, "M": PEOPLE["F"]})
    written = []
    for seed in (None, 1, 2):
        shuffle = (lambda f: f) if seed is None else (lambda f, s=seed: f.sample(frac=1, random_state=s))
        publication = Publication.of(
            CATALOG, 2021,
            {"m": {"mart": MART, "cells": shuffle(yearly), "pooled": shuffle(pooled), "cohort_sizes": {},
                   "match_rate": 1.0}},
        )  # fmt: skip
        folder = tmp_path / str(seed)
        files = publication.write_files(folder, run_id="r1")
        written.append({f.name: f.read_bytes() for f in files})
    assert written[0] == written[1] == written[2]
