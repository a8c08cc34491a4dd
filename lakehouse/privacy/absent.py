"""Rows a mart leaves out are counts too: a missing row a reader can tell is empty publishes a 0.

A mart builder writes one row per group with someone in the metric's population, so a group of a
breakdown that has rows for other metrics but none for this one had nobody in it. When the metric's
groups of that breakdown already add up to its statewide row, the reader needs no guess: the absent
group is exactly 0. Blank is then a published count below the threshold, and through a declared
relation it gives other counts away as well (no retained_1y row for a county whose placed row is
suppressed says nobody there was placed). No suppression flag can hide a row that is not there, so
`suppress` adds these rows with zero counts (suppressed by the primary rule) and `audit` reports any
that are still missing. Both use `absent_zero_rows`, so they agree on which rows those are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lakehouse.privacy.cells import KEY_COLUMNS, MART_COLUMNS, Cells


def absent_zero_rows(cells: Cells) -> pd.DataFrame:
    """Keys and kind of the rows the mart leaves out although a reader can tell they are 0: for each
    metric, cohort year and breakdown where the metric has rows that add up (denominators) to its
    statewide row, the groups of that year and breakdown that other metrics have and it has not.
    Sorted by key; empty when the mart is complete."""
    keys = cells.keys.assign(kind=np.where(cells.is_rate, "rate", "median"), denominator=cells.count[0::2])
    statewide = keys[cells.is_statewide].set_index(["metric", "cohort_year"])["denominator"]
    statewide = statewide[~statewide.index.duplicated(keep=False)]  # build_equations reports those
    breakdowns = keys[~cells.is_statewide]
    sums = breakdowns.groupby(["metric", "cohort_year", "dimension"], sort=True)["denominator"].sum()
    total = statewide.reindex(sums.index.droplevel("dimension")).to_numpy()
    complete = sums[sums.to_numpy() == total].index.to_frame(index=False)
    if complete.empty:
        return _empty()
    kinds = keys.drop_duplicates("metric").set_index("metric")["kind"]
    groups = breakdowns[["cohort_year", "dimension", "group"]].drop_duplicates()
    wanted = complete.merge(groups, on=["cohort_year", "dimension"])
    present = breakdowns[list(KEY_COLUMNS)].assign(present=True)
    wanted = wanted.merge(present, on=list(KEY_COLUMNS), how="left")
    missing = wanted[wanted["present"].isna()].drop(columns="present")
    missing = missing.assign(kind=missing["metric"].map(kinds).to_numpy())
    return missing.sort_values(list(KEY_COLUMNS), kind="stable").reset_index(drop=True)


def with_zero_rows(mart: pd.DataFrame, missing: pd.DataFrame) -> pd.DataFrame:
    """`mart` followed by the `missing` rows (from `absent_zero_rows`) with zero counts and no value.
    A column outside the mart columns (e.g. `mart`) is copied where it is constant within the metric,
    and left empty otherwise. The new rows are labelled on from an integer index's largest label (from 0
    for any other index)."""
    if missing.empty:
        return mart
    rate = (missing["kind"] == "rate").to_numpy()
    added = missing.assign(
        denominator=0,
        numerator=np.where(rate, 0.0, np.nan),
        value=np.nan,
    )
    by_metric = mart.groupby("metric", sort=False)
    for column in mart.columns:
        if column in MART_COLUMNS:
            continue
        constant = by_metric[column].nunique(dropna=False) == 1
        values = by_metric[column].first()[constant]
        added[column] = added["metric"].map(values)
    start = int(mart.index.max()) + 1 if pd.api.types.is_integer_dtype(mart.index) and len(mart) else 0
    added.index = pd.RangeIndex(start, start + len(added))
    added = added[list(mart.columns)].astype(
        {c: mart[c].dtype for c in mart.columns if c != "numerator" and _fits(added[c], mart[c].dtype)}
    )
    return pd.concat([mart, added])


def _fits(values: pd.Series, dtype: np.dtype) -> bool:
    """Whether `values` can take the mart column's dtype without losing anything (no NaN in ints)."""
    return not (values.isna().any() and pd.api.types.is_integer_dtype(dtype))


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in (*KEY_COLUMNS, "kind")})
