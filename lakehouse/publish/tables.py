"""Published tables: one CSV per mart and breakdown under `<var>/site/data/`, with a JSON sidecar.

Only suppressed cells (the output of lakehouse.privacy.suppress) reach this module. A suppressed
count or value is written as the word `suppressed`, never as 0 or blank; a blank means "not
applicable" (a window not yet observed for that cohort). Groups with nobody in a metric's population
come back from suppress() as suppressed zero rows, so a blank never gives a 0 away. The sidecar says
which columns are dimensions, counts, rates and medians, and carries the cohort definition, data
vintage, match rate, coverage caveat and suppression note docs/domain.md asks every published table for.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from lakehouse.gold.catalog import Catalog, Mart
from lakehouse.privacy.pools import pool_order

SUPPRESSED = "suppressed"


def table_name(mart: str, dimension: str, *, pooled: bool = False) -> str:
    """`<mart>__statewide`, `<mart>__by_<dimension>`; pooled cohorts: `<mart>__pooled__...`."""
    prefix = f"{mart}__pooled" if pooled else mart
    return f"{prefix}__statewide" if dimension == "statewide" else f"{prefix}__by_{dimension}"


def _columns(mart: Mart, dimension: str = "statewide") -> list[tuple[str, str, str, str]]:
    """(column, metric, field, role) for every measure column the table of `dimension` publishes, in
    catalog order."""
    cols = []
    for m in mart.metrics_by(dimension):
        if m.kind == "rate":
            cols += [
                (f"{m.name}_denominator", m.name, "denominator", "count"),
                (f"{m.name}_numerator", m.name, "numerator", "count"),
                (f"{m.name}_rate", m.name, "value", "rate"),
            ]
        else:
            cols += [
                (f"{m.name}_count", m.name, "denominator", "count"),
                (f"{m.name}_median", m.name, "value", "median"),
                (f"{m.name}_median_real", m.name, "value_real", "median"),
            ]
    return cols


def _cell_text(row: pd.Series | None, field: str) -> str:
    if row is None:
        return ""
    flag = {"denominator": "denominator_suppressed", "numerator": "numerator_suppressed"}.get(
        field, "value_suppressed"
    )
    if bool(row[flag]):
        return SUPPRESSED
    value = row[field]
    if pd.isna(value):
        return ""
    if field in ("denominator", "numerator"):
        return str(int(value))
    return f"{value:.4f}" if field == "value" and row["kind"] == "rate" else f"{value:.2f}"


def write_mart(
    cells: pd.DataFrame,
    mart: Mart,
    catalog: Catalog,
    out_dir: Path,
    *,
    vintage: int,
    match_rate: float,
    run_id: str,
    breakdowns: Sequence[str] | None = None,
    pooled: bool = False,
) -> list[Path]:
    """Write every table of one mart (statewide plus one per breakdown, by default the catalog's)
    and its sidecar. `pooled`: the cells are pooled cohorts (a `cohort` label column, see
    lakehouse/gold/pooling.py), written as the `__pooled__` tables."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cohort = "cohort" if pooled else "cohort_year"
    written = []
    for dimension in ("statewide", *(mart.breakdowns if breakdowns is None else breakdowns)):
        columns = _columns(mart, dimension)
        part = cells[cells["dimension"] == dimension]
        by_key = {(getattr(r, cohort), r.group, r.metric): r for r in part.itertuples(index=False)}
        keys = sorted({(y, g) for y, g, _ in by_key}, key=lambda k: (pool_order(k[0]), k[1]))
        label = "group" if dimension == "statewide" else dimension
        name = table_name(mart.name, dimension, pooled=pooled)
        path = out_dir / f"{name}.csv"
        with path.open("w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow([cohort, label, *[c for c, *_ in columns]])
            for year, group in keys:
                values = []
                for _, metric, field, _ in columns:
                    row = by_key.get((year, group, metric))
                    values.append(_cell_text(None if row is None else pd.Series(row._asdict()), field))
                writer.writerow([year, group, *values])
        sidecar = _sidecar(
            mart, catalog, dimension, label, columns, vintage, match_rate, run_id, part, pooled=pooled
        )
        (out_dir / f"{name}.json").write_text(json.dumps(sidecar, indent=2))
        written.append(path)
    return written


def _sidecar(
    mart: Mart,
    catalog: Catalog,
    dimension: str,
    label: str,
    columns: list,
    vintage: int,
    match_rate: float,
    run_id: str,
    part: pd.DataFrame,
    pooled: bool = False,
) -> dict:
    suppressed = int(
        part[["denominator_suppressed", "numerator_suppressed", "value_suppressed"]].any(axis=1).sum()
    )
    where = "statewide" if dimension == "statewide" else f"by {dimension}"
    pooling = {}
    if pooled:
        pooling["pooled_cohorts_note"] = (
            "Each row pools the cohorts of the years it names (for example 2016-2018): "
            f"{catalog.pool_window_years}-year windows, and all years together. Counts are the sums over "
            "those years and medians are taken over everyone in them. Windows overlap: compare pools with "
            f"pools. Groups with fewer than {catalog.min_cell_size} people over all years are counted "
            "together as 'Other (small groups)'."
        )
    return {
        "table": table_name(mart.name, dimension, pooled=pooled),
        "mart": mart.name,
        "title": f"{mart.title}: " + (f"pooled cohorts, {where}" if pooled else where),
        "dimensions": ["cohort" if pooled else "cohort_year", label],
        "measures": {
            "counts": [c for c, _, _, role in columns if role == "count"],
            "rates": [c for c, _, _, role in columns if role == "rate"],
            "medians": [c for c, _, _, role in columns if role == "median"],
        },
        "metrics": {m.name: m.description for m in mart.metrics_by(dimension)},
        "curves": [
            {"title": c.title, "axis": c.axis, "points": [{"x": x, "metric": m} for x, m in c.points]}
            for c in mart.curves
        ],
        "parts": [
            {"title": p.title, "whole": p.whole, "parts": [{"label": lb, "metric": m} for lb, m in p.parts]}
            for p in mart.parts
        ],
        "flows": [
            {
                "title": f.title,
                "cohort": f.cohort,
                "stages": [{"label": lb, "metric": m} for lb, m in f.stages],
            }
            for f in mart.flows
        ],
        "cohort_definition": mart.cohort_definition,
        "data_vintage": f"academic year {vintage - 1}-{str(vintage)[2:]} (run {run_id})",
        "match_rate": round(match_rate, 4),
        "match_rate_note": "Share of the cohort linked to at least one record of an outcome source.",
        "coverage": mart.coverage,
        "wages_note": (
            "Annual wages are the sum of a fiscal year's four UI wage quarters; `_median_real` columns are "
            f"in fiscal-year {catalog.cpi_base_year} dollars (CPI-U)."
        ),
        "suppression_note": (
            f"Counts below {catalog.min_cell_size}, and rates whose numerator, denominator or denominator "
            f"minus numerator is below {catalog.min_cell_size}, are shown as '{SUPPRESSED}'. Some larger "
            "cells are suppressed too, so that no suppressed cell can be worked out from totals or "
            "other cells of this mart's tables. A blank cell has no one in it."
        ),
        "cells_with_suppression": suppressed,
        **pooling,
    }
