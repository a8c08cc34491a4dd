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

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lakehouse.privacy.cells import FIELDS, KEY_COLUMNS, MART_COLUMNS, Cells, Relation


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


def absent_related_rows(cells: Cells, relations: Sequence[Relation]) -> pd.DataFrame:
    """Keys and kind of the rows a declared relation tells a reader are 0: in a (cohort_year,
    dimension, group) where some of the relation's metrics have a row and others none, and the
    relation holds with the missing ones as 0 (everyone placed, so nobody is in "not placed"). A
    blank there publishes a 0 that the relation turns into other small counts (placed minus placed
    numerator), so the row is published as a suppressed zero. Sorted by key."""
    keys = cells.keys.assign(row=np.arange(cells.n_rows))
    kinds = keys.assign(kind=np.where(cells.is_rate, "rate", "median")).drop_duplicates("metric")
    kind_of = kinds.set_index("metric")["kind"]
    found = []
    for relation in relations:
        metrics = list(dict.fromkeys(metric for _, metric, _ in relation.terms))
        if any(m not in kind_of.index for m in metrics):
            continue
        rows = keys[keys["metric"].isin(metrics)].pivot_table(
            index=["cohort_year", "dimension", "group"], columns="metric", values="row", aggfunc="first"
        )
        rows = rows.reindex(columns=metrics)
        partial = rows[rows.isna().any(axis=1) & rows.notna().any(axis=1)]
        for key, present in partial.iterrows():
            total = sum(
                coef * int(cells.count[2 * int(present[metric]) + FIELDS.index(field)])
                for coef, metric, field in relation.terms
                if not pd.isna(present[metric])
            )
            if total == 0:
                found += [(metric, *key, kind_of[metric]) for metric in metrics if pd.isna(present[metric])]
    if not found:
        return _empty()
    missing = pd.DataFrame(found, columns=[*KEY_COLUMNS, "kind"]).drop_duplicates(list(KEY_COLUMNS))
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
