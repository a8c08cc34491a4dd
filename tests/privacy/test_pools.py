"""Pooled cohorts in disclosure control: the equations they give a reader, checked against a reader
who solves the whole system with the unpublished per-year counts as unknowns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lakehouse.privacy import MartError, audit, suppress
from lakehouse.privacy.pools import dependences, pool_years

YEARS = list(range(2011, 2017))
WINDOWS = [(y - 2, y) for y in YEARS[2:]]
POOLS = [*WINDOWS, (YEARS[0], YEARS[-1])]


def test_pool_labels():
    assert pool_years("2016-2018") == (2016, 2018) and pool_years("2016") is None and pool_years(2016) is None
    with pytest.raises(MartError, match="earlier year to a later one"):
        pool_years("2018-2016")


def test_the_all_years_pool_depends_on_windows_only_when_they_tile_it():
    # six years: all = 2011-13 + 2014-16; five years: no combination of pools adds up to zero
    assert dependences(POOLS) == [[-1, 0, 0, -1, 1]]
    assert dependences([(2011, 2013), (2012, 2014), (2013, 2015), (2011, 2015)]) == []
    assert dependences([(2011, 2012), (2011, 2012)]) == [[-1, 1]]


def _joint(counts: dict[str, list[int]], pools=POOLS) -> pd.DataFrame:
    """One median metric: per-year statewide rows (the groups' per-year counts are not published) and
    every pool for statewide and each group; a group's pooled count is the sum of its years."""
    rows = []
    statewide = np.sum(list(counts.values()), axis=0)
    for i, year in enumerate(YEARS):
        rows.append(("statewide", "All", str(year), int(statewide[i])))
    for first, last in pools:
        span = slice(first - YEARS[0], last - YEARS[0] + 1)
        rows.append(("statewide", "All", f"{first}-{last}", int(statewide[span].sum())))
        for group, years in counts.items():
            rows.append(("gender", group, f"{first}-{last}", int(sum(years[span]))))
    return pd.DataFrame(
        [
            dict(metric="wage", cohort_year=label, dimension=dim, group=group, kind="median", denominator=n,
                 numerator=None, value=1.0 if n else None)
            for dim, group, label, n in rows
        ]
    )  # fmt: skip


def _functional(row: pd.Series, groups: list[str]) -> np.ndarray:
    """A published count as a sum of the unknown per-year group counts (groups x years)."""
    years = pool_years(row["cohort_year"]) or (int(row["cohort_year"]),) * 2
    f = np.zeros((len(groups), len(YEARS)))
    chosen = range(len(groups)) if row["dimension"] == "statewide" else [groups.index(row["group"])]
    for g in chosen:
        f[g, years[0] - YEARS[0] : years[1] - YEARS[0] + 1] = 1
    return f.ravel()


def _recoverable(flagged: pd.DataFrame, groups: list[str]) -> list[int]:
    """The suppressed rows whose count follows from the published ones, for a reader who treats every
    per-year group count as an unknown (the reference the audit's equations must agree with)."""
    funcs = np.array([_functional(r, groups) for _, r in flagged.iterrows()])
    published = funcs[~flagged["denominator_suppressed"].to_numpy()]
    rank = np.linalg.matrix_rank(published) if len(published) else 0
    return [
        i
        for i in np.flatnonzero(flagged["denominator_suppressed"].to_numpy())
        if np.linalg.matrix_rank(np.vstack([published, funcs[i]])) == rank
    ]


def test_a_pool_the_windows_tile_is_recoverable_and_the_audit_says_so():
    """Both groups' all-years counts hidden: additivity gives only their sum, but each is its two
    tiling windows' sum. The audit must find both; `suppress` must hide more until none is found."""
    table = _joint({"F": [30, 30, 30, 30, 30, 30], "M": [20, 20, 20, 20, 20, 20]})
    flagged = suppress(table, threshold=11).assign(denominator_suppressed=False, value_suppressed=False)
    is_all = flagged["cohort_year"].eq("2011-2016") & flagged["dimension"].eq("gender")
    flagged.loc[is_all, ["denominator_suppressed", "value_suppressed"]] = True
    problems = audit(flagged, threshold=11)
    assert len(problems) == 2 and all("recoverable" in p for p in problems), problems
    assert _recoverable(flagged, ["F", "M"]) == list(np.flatnonzero(is_all.to_numpy()))


@pytest.mark.parametrize("seed", range(12))
def test_suppressed_pools_stay_hidden_from_a_reader_who_solves_everything(seed):
    """Random small groups: after `suppress`, the reference reader recovers no suppressed count,
    and the audit agrees."""
    rng = np.random.default_rng(seed)
    groups = ["F", "M", "X"]
    counts = {g: list(rng.integers(0, 4 if g == "X" else 25, len(YEARS))) for g in groups}
    flagged = suppress(_joint(counts), threshold=11)
    assert audit(flagged, threshold=11) == []
    assert _recoverable(flagged, groups) == []
    assert flagged["denominator_suppressed"].any()  # X's windows are all below 11


def test_a_pool_that_is_not_its_years_sum_is_a_builder_error_in_strict_mode():
    table = _joint({"F": [30] * 6, "M": [20] * 6})
    table.loc[table["cohort_year"].eq("2011"), "denominator"] += 1  # the year, not its pools
    with pytest.raises(MartError, match="not the sum of the cohort years it pools"):
        suppress(table, threshold=11, strict=True)


def test_a_year_the_pools_give_away_is_caught():
    """Per-year statewide rows and pooled statewide rows: a pooled statewide count is the sum of the
    years it pools, so hiding a single year's statewide count that the pools give away is caught."""
    table = _joint({"F": [30] * 6, "M": [20] * 6})
    flagged = suppress(table, threshold=11)
    year = flagged["cohort_year"].eq("2013") & flagged["dimension"].eq("statewide")
    flagged.loc[year, ["denominator_suppressed", "value_suppressed"]] = True
    problems = audit(flagged, threshold=11)
    assert len(problems) == 1 and problems[0].startswith("wage 2013 statewide=All denominator"), problems
