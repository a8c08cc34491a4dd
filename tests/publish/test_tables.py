"""Published CSVs and sidecars: suppressed cells say `suppressed`, blanks mean nobody in the cell."""

from __future__ import annotations

import csv
import json

import pandas as pd

from lakehouse.gold.catalog import Catalog, Mart, Metric
from lakehouse.publish.tables import write_mart

MART = Mart(
    name="m",
    title="Test mart",
    cohort="first_teaching_credential",
    cohort_definition="People in a test.",
    breakdowns=("gender",),
    coverage="Test coverage.",
    metrics=(
        Metric("placed", "Placed."),
        Metric("wage", "Median wage.", kind="median", value="placed", among=(("placed", True),)),
    ),
)
CATALOG = Catalog(vintage=None, cpi_base_year=2024, min_cell_size=11, employment_threshold=1, marts=(MART,))


def _row(metric, year, dim, group, kind, d, n, value, real, sup_d=False, sup_n=False, sup_v=False):
    return dict(
        metric=metric, cohort_year=year, dimension=dim, group=group, kind=kind, denominator=d, numerator=n,
        value=value, value_real=real, denominator_suppressed=sup_d, numerator_suppressed=sup_n,
        value_suppressed=sup_v, suppression="primary" if (sup_d or sup_n or sup_v) else "",
    )  # fmt: skip


def test_write_mart_marks_suppressed_cells_and_describes_the_table(tmp_path):
    cells = pd.DataFrame(
        [
            _row("placed", 2020, "statewide", "All", "rate", 100, 60, 0.6, None),
            _row("wage", 2020, "statewide", "All", "median", 60, None, 41234.5, 43000.0),
            _row("placed", 2020, "gender", "F", "rate", 95, 57, 0.6, None),
            _row("placed", 2020, "gender", "M", "rate", 5, 3, 0.6, None, True, True, True),
            _row("wage", 2020, "gender", "F", "median", 57, None, 40000.0, 41700.0),
        ]
    )
    files = write_mart(cells, MART, CATALOG, tmp_path, vintage=2025, match_rate=0.9731, run_id="r1")
    assert [f.name for f in files] == ["m__statewide.csv", "m__by_gender.csv"]
    with (tmp_path / "m__by_gender.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [
        ["cohort_year", "gender", "placed_denominator", "placed_numerator", "placed_rate", "wage_count",
         "wage_median", "wage_median_real"],
        ["2020", "F", "95", "57", "0.6000", "57", "40000.00", "41700.00"],
        ["2020", "M", "suppressed", "suppressed", "suppressed", "", "", ""],
    ]  # fmt: skip
    meta = json.loads((tmp_path / "m__by_gender.json").read_text())
    assert meta["dimensions"] == ["cohort_year", "gender"]
    assert meta["measures"] == {
        "counts": ["placed_denominator", "placed_numerator", "wage_count"],
        "rates": ["placed_rate"],
        "medians": ["wage_median", "wage_median_real"],
    }
    assert meta["match_rate"] == 0.9731 and meta["cells_with_suppression"] == 1
    assert meta["data_vintage"].startswith("academic year 2024-25")
    assert "below 11" in meta["suppression_note"] and meta["cohort_definition"] == "People in a test."
