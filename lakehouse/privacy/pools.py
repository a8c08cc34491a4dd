"""Pooled cohorts: the equations a reader gets from cohort years published together.

A pooled cohort is a row whose `cohort_year` is a label `first-last` ("2016-2018"): it holds the
people of cohort years first to last, so each of its counts is the sum of the same count over those
years. Agencies publish small groups this way. Per (metric, dimension, group) and field, that gives a
reader two kinds of equation besides the additivity within each pool (its groups add up to its
statewide row, as within one cohort year, see `equations`):

- **sums**: where the mart also holds that (metric, dimension) per cohort year, a pooled count is the
  sum of its years' counts (a year without the row adds 0);
- **dependences among pools**: whatever the per-year counts are, a pool's count is a fixed sum of
  them, so when a combination of pools adds up to zero year by year (the all-years pool minus the
  3-year windows that tile it), the same combination of their counts is zero. These hold even where
  the per-year counts are never published.

When a breakdown is published only pooled, its per-year counts are unknowns to the reader, and every
published count is a sum of them: a pooled group's over its years, a statewide count (per year or
pooled) over every group and its years. Every linear identity among such sums is then a combination
of the three kinds above: write an identity's statewide terms as one vector of years; for each group
its own terms must equal that vector, so they differ from one representation of it by a dependence
among pools, and the statewide terms are tied to per-year statewide counts by the sums. So the audit
stays exact without the unpublished counts as unknowns, and its connected pieces stay as small as a
single cohort year's.
"""

from __future__ import annotations

import re
from fractions import Fraction
from math import gcd, lcm

import numpy as np
import pandas as pd

from lakehouse.privacy.cells import KEY_COLUMNS, STATEWIDE, Cells, MartError

POOL_LABEL = re.compile(r"^(\d{4})-(\d{4})$")
_Part = tuple[np.ndarray, np.ndarray, np.ndarray]  # flat cells, flat coefficients, terms per equation


def pool_years(label: object) -> tuple[int, int] | None:
    """(first, last) of a pooled cohort label `first-last`; None for a single cohort year."""
    match = POOL_LABEL.match(str(label))
    if not match:
        return None
    first, last = int(match.group(1)), int(match.group(2))
    if last <= first:
        raise MartError(f"Cohort {label!r}: a pooled cohort runs from an earlier year to a later one.")
    return first, last


def pool_order(label: object) -> tuple:
    """Sort key of cohorts as the published tables list them: single years, then windows by their
    last year, then the all-years pool (the widest) last."""
    span = pool_years(label)
    if span is None:
        return (0, int(label), 0)
    return (1, span[1], span[1] - span[0])


def absent_pool_rows(cells: Cells) -> pd.DataFrame:
    """Keys and kind of the pooled rows a mart leaves out although a reader can tell they are 0: a
    group with a row in some pool of a metric and none in another pool that the metric has (its
    statewide row is there). The dependences among pools count such a row as 0, so, as for a group
    missing in one year (`absent`), it is published as a suppressed zero rather than left out."""
    keys = cells.keys.assign(kind=np.where(cells.is_rate, "rate", "median"))
    pooled = keys[keys["cohort_year"].map(lambda y: pool_years(y) is not None).to_numpy()]
    if pooled.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in (*KEY_COLUMNS, "kind")})
    statewide = pooled[pooled["dimension"] == STATEWIDE][["metric", "cohort_year"]]
    groups = pooled[pooled["dimension"] != STATEWIDE][
        ["metric", "dimension", "group", "kind"]
    ].drop_duplicates()
    wanted = groups.merge(statewide, on="metric")
    present = pooled[list(KEY_COLUMNS)].assign(present=True)
    wanted = wanted.merge(present, on=list(KEY_COLUMNS), how="left")
    missing = wanted[wanted["present"].isna()][[*KEY_COLUMNS, "kind"]]
    return missing.sort_values(list(KEY_COLUMNS), kind="stable").reset_index(drop=True)


def pool_equations(cells: Cells) -> tuple[list[_Part], list[str]]:
    """The sums and the dependences among pools (module docstring) that hold exactly on the counts;
    the ones that do not are returned as problems (a builder bug: a pool that is not its years' sum)."""
    keys = cells.keys.assign(row=np.arange(cells.n_rows))
    spans = keys["cohort_year"].map(pool_years)
    is_pool = spans.notna().to_numpy()
    if not is_pool.any():
        return [], []
    pooled = keys[is_pool].assign(span=spans[is_pool])
    years = keys[~is_pool].assign(year=pd.to_numeric(keys.loc[~is_pool, "cohort_year"].astype(str)))
    equations: list[tuple[np.ndarray, np.ndarray]] = []
    yearly = set(years[["metric", "dimension"]].itertuples(index=False, name=None))
    by_key = years.set_index(["metric", "dimension", "group", "year"])["row"].to_dict()
    for row, metric, dimension, group, (first, last) in pooled[
        ["row", "metric", "dimension", "group", "span"]
    ].itertuples(index=False, name=None):
        if (metric, dimension) not in yearly:
            continue
        members = [
            by_key[k] for y in range(first, last + 1) if (k := (metric, dimension, group, y)) in by_key
        ]
        equations.append((np.array([row, *members]), np.array([1] + [-1] * len(members))))
    labels = sorted(set(pooled["cohort_year"]), key=pool_years)
    rows_of = pooled.set_index(["metric", "dimension", "group", "cohort_year"])["row"]
    for combination in dependences([pool_years(label) for label in labels]):
        terms = {labels[i]: c for i, c in enumerate(combination) if c}
        for _, at in rows_of[rows_of.index.get_level_values(3).isin(terms)].groupby(level=[0, 1, 2]):
            labelled = at.index.get_level_values(3)
            equations.append((at.to_numpy(), np.array([terms[label] for label in labelled])))
    return _per_field(cells, equations)


def _per_field(cells: Cells, equations: list[tuple[np.ndarray, np.ndarray]]) -> tuple[list[_Part], list[str]]:
    """Each row equation once per field the rows have (numerators only between rate rows), kept where
    it holds on the counts."""
    flat_cells, flat_coefs, lengths, problems = [], [], [], []
    for rows, coefs in equations:
        for field in range(2 if cells.is_rate[rows].all() else 1):
            members = 2 * rows + field
            if (cells.count[members] * coefs).sum() != 0:
                problems.append(f"{cells.label(int(members[0]))}: not the sum of the cohort years it pools")
                continue
            flat_cells.append(members)
            flat_coefs.append(coefs)
            lengths.append(len(members))
    if not lengths:
        return [], problems
    part = (np.concatenate(flat_cells), np.concatenate(flat_coefs), np.array(lengths, dtype=np.int64))
    return [part], problems


def dependences(spans: list[tuple[int, int]]) -> list[list[int]]:
    """A basis (integer vectors) of the combinations of pools whose year-by-year sum is zero: the
    left null space of the pools-by-years matrix, by exact Gauss-Jordan elimination over fractions
    (a mart has a few dozen pools at most)."""
    if not spans:
        return []
    first, last = min(s[0] for s in spans), max(s[1] for s in spans)
    # Columns are pools, rows are years: a combination c of pools with M c = 0.
    matrix = [[Fraction(int(a <= y <= b)) for a, b in spans] for y in range(first, last + 1)]
    n = len(spans)
    pivots: list[int] = []
    top = 0
    for col in range(n):
        pick = next((r for r in range(top, len(matrix)) if matrix[r][col] != 0), None)
        if pick is None:
            continue
        matrix[top], matrix[pick] = matrix[pick], matrix[top]
        lead = matrix[top][col]
        matrix[top] = [x / lead for x in matrix[top]]
        for r in range(len(matrix)):
            if r != top and matrix[r][col] != 0:
                factor = matrix[r][col]
                matrix[r] = [x - factor * p for x, p in zip(matrix[r], matrix[top], strict=True)]
        pivots.append(col)
        top += 1
    basis = []
    for free in (c for c in range(n) if c not in pivots):
        vector = [Fraction(0)] * n
        vector[free] = Fraction(1)
        for r, col in enumerate(pivots):
            vector[col] = -matrix[r][free]
        scale = lcm(*(v.denominator for v in vector))
        ints = [int(v * scale) for v in vector]
        common = gcd(*ints)
        basis.append([v // common for v in ints])
    return basis
