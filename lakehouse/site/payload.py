"""The dashboard's data: published tables grouped into views (one per mart), as plain JSON.

The page gets only what the published CSVs and sidecars hold, regrouped for it: per mart, its
metrics (name, label, description, kind and the columns holding them) and its tables (one per
breakdown, rows as arrays in the CSV's column order). Nothing is computed from the cells: no sums
across groups, no derived counts, so the page cannot show a number the published tables do not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from lakehouse.privacy.pools import pool_order
from lakehouse.site.published import PublishedTable

# The teacher pipeline is the system's first product: it leads, student pathways follows, then
# workforce programs.
MART_ORDER = ("teacher_pipeline", "student_pathways", "workforce_programs")
DIMENSION_LABELS = {
    "statewide": "Statewide",
    "credential_type": "Credential type",
    "subject": "Subject",
    "preparing_institution": "Preparing institution",
    "segment": "Preparing segment",
    "county": "County",
    "teaching_county": "County where teaching",
    "region": "Region",
    "race_ethnicity": "Race/ethnicity",
    "gender": "Gender",
    "low_income": "Low income",
    "english_learner": "English learner",
    "foster": "Foster youth",
    "homeless": "Homeless",
    "disability": "Disability",
    "district": "District",
    "program": "Program",
}
# Breakdowns whose groups are the state's two-digit county codes: named, and drawn as a map.
COUNTY_DIMENSIONS = ("county", "teaching_county")
NOTE_KEYS = (
    "cohort_definition",
    "data_vintage",
    "match_rate",
    "match_rate_note",
    "coverage",
    "wages_note",
    "suppression_note",
    "cells_with_suppression",
    "pooled_cohorts_note",
)


def dimension_label(dimension: str) -> str:
    return DIMENSION_LABELS.get(dimension, dimension.replace("_", " ").capitalize())


ACRONYMS = {"ccc": "CCC", "csu": "CSU", "uc": "UC", "aiccu": "AICCU"}  # college segments


def metric_label(name: str) -> str:
    """`retained_same_district_3y` -> `Retained same district 3 years` (the description says more)."""
    words = []
    for word in name.split("_"):
        if m := re.fullmatch(r"(\d+)(y|yr|mo|pct)", word):
            n, unit = m.groups()
            unit_text = {"y": "year", "yr": "year", "mo": "month"}.get(unit)
            words.append(f"{n}%" if unit == "pct" else f"{n} {unit_text}{'' if n == '1' else 's'}")
        else:
            words.append(ACRONYMS.get(word, word))
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _metrics(meta: dict) -> list[dict]:
    """Each metric of a sidecar with its kind and the columns that publish it."""
    published = {c for cols in meta["measures"].values() for c in cols}
    out = []
    for name, description in meta["metrics"].items():
        if f"{name}_rate" in published:
            kind, cols = "rate", [f"{name}_denominator", f"{name}_numerator", f"{name}_rate"]
        else:
            kind, cols = "median", [f"{name}_count", f"{name}_median", f"{name}_median_real"]
        if published.issuperset(cols):
            out.append(
                {"name": name, "label": metric_label(name), "description": description, "kind": kind,
                 "columns": cols}
            )  # fmt: skip
    return out


def _curves(meta: dict, metrics: list[dict]) -> list[dict]:
    """The sidecar's curves whose every metric the table publishes, each with its metrics' kind."""
    columns = {m["name"]: m for m in metrics}
    out = []
    for curve in meta.get("curves", []):
        points = curve["points"]
        if all(p["metric"] in columns for p in points):
            kind = columns[points[0]["metric"]]["kind"]
            out.append({"title": curve["title"], "axis": curve["axis"], "kind": kind, "points": points})
    return out


def _parts(meta: dict, metrics: list[dict]) -> list[dict]:
    """The sidecar's splits of a whole into parts whose every metric the table publishes."""
    names = {m["name"] for m in metrics}
    return [
        p
        for p in meta.get("parts", [])
        if p["whole"] in names and all(part["metric"] in names for part in p["parts"])
    ]


def _flows(meta: dict, metrics: list[dict]) -> list[dict]:
    """The sidecar's flows whose every stage the table publishes."""
    names = {m["name"] for m in metrics}
    return [f for f in meta.get("flows", []) if all(s["metric"] in names for s in f["stages"])]


def _order(tables: list[PublishedTable], order: Sequence[str]) -> list[PublishedTable]:
    """Marts in MART_ORDER then by name; in a mart, statewide first, then `order` (the catalog's
    breakdown order, when known), then by name."""

    def key(t: PublishedTable) -> tuple:
        mart = MART_ORDER.index(t.mart) if t.mart in MART_ORDER else len(MART_ORDER)
        dim = (
            -1
            if t.dimension == "statewide"
            else (list(order).index(t.dimension) if t.dimension in order else len(order))
        )
        return (mart, t.mart, not t.pooled, dim, t.dimension)

    return sorted(tables, key=key)


def build_payload(
    tables: list[PublishedTable],
    *,
    breakdown_order: Sequence[str] = (),
    group_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> dict:
    """The JSON the page reads (as `window.C2C_DATA`): one view per mart, teacher pipeline first.
    `group_labels` names the groups of a breakdown whose published values are codes (county code
    -> county name); the page shows the name beside the code."""
    marts: dict[str, dict] = {}
    group_labels = group_labels or {}
    for t in _order(tables, breakdown_order):
        meta = t.meta
        metrics = _metrics(meta)
        view = marts.setdefault(
            t.mart,
            {
                "name": t.mart,
                "title": meta["title"].rsplit(": ", 1)[0],
                "metrics": metrics,
                "curves": _curves(meta, metrics),
                "parts": _parts(meta, metrics),
                "flows": _flows(meta, metrics),
                "tables": [],
            },
        )
        years = sorted({row[0] for row in t.rows}, key=pool_order)
        groups = list(dict.fromkeys(row[1] for row in sorted(t.rows, key=lambda r: r[1])))
        view["tables"].append(
            {
                "name": t.name,
                "dimension": t.dimension,
                "pooled": t.pooled,
                "label": dimension_label(t.dimension),
                "title": meta["title"],
                "csv": f"data/{t.csv_path.name}",
                "sidecar": f"data/{t.json_path.name}",
                "columns": list(t.columns),
                "metrics": [m["name"] for m in _metrics(meta)],
                "map": t.dimension in COUNTY_DIMENSIONS,
                "years": years,
                "groups": groups,
                "group_labels": {
                    g: group_labels[t.dimension][g] for g in groups if g in group_labels.get(t.dimension, {})
                },
                "rows": [list(r) for r in t.rows],
                "notes": {k: meta[k] for k in NOTE_KEYS if k in meta},
            }
        )
    return {"marts": list(marts.values())}
