"""How close published metrics come to the generator's true metrics (`_truth/metrics.csv`).

The truth is computed from the simulated life courses, never from the extracts, so the gap measures
everything between them: extract noise, linkage errors and the pipeline's own definitions. The
targets: within 1 percentage point for rates and 2% for median wages on every cell whose true
denominator is at least 100, and within 0.5 points on statewide rates.

`truth_crosswalk` and `compare_exactly` prove gold's own logic apart from linkage: gold built
on the truth's person ids instead of the pipeline's crosswalk must publish every cell exactly as the
truth computes it, since the truth counts only what the extracts carry.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
from pyspark.sql import DataFrame

FLAG_GROUPS = {"1": "Yes", "0": "No", "": "Unknown"}
FLAG_DIMENSIONS = ("low_income", "english_learner", "foster", "homeless", "disability")
KEYS = ["metric", "cohort_year", "dimension", "group"]


def read_true_metrics(path: str | Path) -> pd.DataFrame:
    """The truth's cells, with group labels spelled as the marts spell them."""
    with Path(path).open(newline="") as f:
        rows = list(csv.DictReader(f))
    df = pd.DataFrame(rows)
    df["cohort_year"] = df["cohort_year"].astype(int)
    df["denominator"] = df["denominator"].astype(int)
    df["numerator"] = pd.to_numeric(df["numerator"], errors="coerce").astype("Int64")
    df["rate"] = pd.to_numeric(df["rate"], errors="coerce")
    df["median_wage"] = pd.to_numeric(df["median_wage"], errors="coerce")
    flags = df["dimension"].isin(FLAG_DIMENSIONS)
    df.loc[flags, "group"] = df.loc[flags, "group"].map(FLAG_GROUPS).fillna(df.loc[flags, "group"])
    df.loc[df["group"] == "", "group"] = "Unknown"
    return df


def cell_errors(cells: pd.DataFrame, truth: pd.DataFrame, *, min_denominator: int = 100) -> pd.DataFrame:
    """The cells `compare_to_truth` compares, one row each, with the truth's columns (suffix `_true`
    where both have one) and `error_pp` (rates) or `error_pct` (medians)."""
    ours = cells.copy()
    if "value_suppressed" in ours:
        ours = ours[~ours["value_suppressed"].astype(bool)]
    joined = truth[truth["denominator"] >= min_denominator].merge(
        ours, on=KEYS, how="inner", suffixes=("_true", "")
    )
    rate = joined["kind"] == "rate"
    joined["error_pp"] = ((joined["value"] - joined["rate"]).abs() * 100).where(rate)
    joined["error_pct"] = (
        (joined["value"] - joined["median_wage"]).abs() / joined["median_wage"] * 100
    ).where(joined["kind"] == "median")
    return joined


def compare_to_truth(cells: pd.DataFrame, truth: pd.DataFrame, *, min_denominator: int = 100) -> dict:
    """Errors of the pipeline's cells (columns of gold metric cells) against the true ones.

    Compared: cells whose true denominator is at least `min_denominator` and that the pipeline
    published (unsuppressed value when the frame has `value_suppressed`). Returns the largest rate
    error in points, the largest median-wage error in percent, the largest statewide rate error, how
    many cells were compared, and the worst cells."""
    joined = cell_errors(cells, truth, min_denominator=min_denominator)
    rates = joined[joined["kind"] == "rate"]
    wages = joined[joined["kind"] == "median"]
    statewide = rates[rates["dimension"] == "statewide"]
    worst = pd.concat(
        [
            rates.nlargest(5, "error_pp")[
                [*KEYS, "denominator_true", "denominator", "rate", "value", "error_pp"]
            ],
            wages.nlargest(3, "error_pct")[[*KEYS, "denominator_true", "median_wage", "value", "error_pct"]],
        ]
    )
    return {
        "cells_compared": int(len(joined)),
        "max_rate_error_pp": round(float(rates["error_pp"].max()), 3) if len(rates) else None,
        "max_wage_error_pct": round(float(wages["error_pct"].max()), 3) if len(wages) else None,
        "max_statewide_rate_error_pp": round(float(statewide["error_pp"].max()), 3)
        if len(statewide)
        else None,
        "worst": worst.to_dict(orient="records"),
    }


def truth_crosswalk(person_records: DataFrame, truth: DataFrame, *, run_id: str = "truth") -> DataFrame:
    """identity.person_crosswalk as a perfect linkage would write it: every silver person record
    (source, source_record_key, record_token) with its true person id. `truth` is
    `lakehouse.identity.evaluate.read_truth`'s frame (keys spelled as silver spells them); a record
    the truth does not list has no owner (gold leaves its events out, as it does an unlinked one)."""
    records = person_records.select("source", "source_record_key", "record_token")
    owners = truth.select("source", "source_record_key", truth["true_person_id"].alias("person_id"))
    return records.join(owners, ["source", "source_record_key"]).selectExpr("*", f"'{run_id}' AS run_id")


def _number(value) -> float:
    return float("nan") if value is None or pd.isna(value) else float(value)


def compare_exactly(published: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """Every number of gold's published cells (gold.published_cells, suppressed ones null; or
    gold.metric_cells, every cell before suppression) against the truth's cell of the same key,
    whatever its size: denominator, numerator, and the value. A rate is compared with the truth's
    numerator / denominator (the file rounds `rate` to 6 places), in points; a median with
    `median_wage` (both rounded to the cent, ties up), in percent.

    Returns `cells_compared` (published cells with a published value), `cells_equal` (every
    published number within 1e-9 points or 1e-9 %), `cells_without_truth` (published values the
    truth has no cell for), `truth_cells_missing` (truth cells gold has no row for at all, suppressed
    or not), `max_rate_diff_pp`, `max_median_diff_pct`, `exact` and `differing`: the cells that
    differ (a DataFrame, worst first)."""
    ours = published.copy()
    for flag in ("denominator_suppressed", "numerator_suppressed", "value_suppressed"):
        if flag not in ours:  # gold.metric_cells: every cell, before disclosure control
            ours[flag] = False
    shown = ~ours["value_suppressed"].astype(bool)
    joined = ours[shown].merge(truth, on=KEYS, how="left", suffixes=("", "_true"), indicator=True)
    has_truth = joined["_merge"] == "both"
    rate = joined["kind"] == "rate"
    true_rate = joined["numerator_true"].astype("Float64") / joined["denominator_true"].astype("Float64")
    joined["diff_pp"] = ((joined["value"] - true_rate.astype(float)).abs() * 100).where(rate)
    joined["diff_pct"] = (
        (joined["value"] - joined["median_wage"]).abs() / joined["median_wage"] * 100
    ).where(~rate)
    counts_differ = pd.Series(False, index=joined.index)
    for field in ("denominator", "numerator"):
        given = ~joined[f"{field}_suppressed"].astype(bool) & joined[field].notna()
        ours_n = joined[field].map(_number)
        true_n = joined[f"{field}_true"].map(_number)
        counts_differ |= given & (ours_n != true_n)
    tolerance = 1e-9
    value_differs = (joined["diff_pp"].fillna(0) > tolerance) | (joined["diff_pct"].fillna(0) > tolerance)
    value_differs |= joined["diff_pp"].isna() & rate | joined["diff_pct"].isna() & ~rate
    differs = has_truth & (value_differs | counts_differ)
    joined["_order"] = joined["diff_pp"].fillna(joined["diff_pct"]).fillna(float("inf"))
    differing = joined[differs | ~has_truth]
    columns = ["mart", *KEYS, "kind", "denominator_true", "denominator", "numerator_true", "numerator",
               "rate", "median_wage", "value", "diff_pp", "diff_pct"]  # fmt: skip
    differing = differing.sort_values("_order", ascending=False)[columns].reset_index(drop=True)
    gold_keys = ours[KEYS].drop_duplicates()
    missing = truth.merge(gold_keys, on=KEYS, how="left", indicator=True)["_merge"] == "left_only"
    compared = int(has_truth.sum())
    return {
        "cells_compared": compared,
        "cells_equal": compared - int(differs.sum()),
        "cells_without_truth": int((~has_truth).sum()),
        "truth_cells_missing": int(missing.sum()),
        "max_rate_diff_pp": float(joined.loc[has_truth & rate, "diff_pp"].max(skipna=False))
        if (has_truth & rate).any()
        else None,
        "max_median_diff_pct": float(joined.loc[has_truth & ~rate, "diff_pct"].max(skipna=False))
        if (has_truth & ~rate).any()
        else None,
        "exact": bool(compared > 0 and not differs.any() and has_truth.all() and not missing.any()),
        "differing": differing,
    }
