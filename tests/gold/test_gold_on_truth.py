"""Gold's own logic, apart from linkage: built on the truth's person ids instead of the
pipeline's crosswalk, gold publishes every cell exactly as the generator's truth computes it.

The state is the session's shared end-to-end run (`pipeline_run`: `c2c run` on a generated state of
3,000 people), read, never written: its silver is copied into a lake of this test's own, where the
truth crosswalk and gold are written (benchmarks/gold_on_truth.py, the benchmark's own code)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from lakehouse.gold.accuracy import compare_exactly, truth_crosswalk
from tests.conftest import make_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from gold_on_truth import gold_on_truth  # noqa: E402


@pytest.mark.slow
def test_gold_on_the_truth_crosswalk_publishes_the_true_metrics(spark, pipeline_run, tmp_path):
    var = pipeline_run.var
    run_lake = make_settings(
        tmp_path, root=str(var / "lake"), restricted_root=str(var / "restricted"), raw_root=str(var / "raw")
    )
    key_file = str(var / "secrets" / "pii_dev.key")
    pii = run_lake.pii.model_copy(update={"dev_key_file": key_file})
    run_lake = run_lake.model_copy(update={"pii": pii})
    lake = make_settings(tmp_path, raw_root=str(var / "raw")).model_copy(update={"pii": pii})

    result = gold_on_truth(spark, lake, run_id="truth", silver_from=run_lake)

    assert result["records_without_truth"] == 0 and result["records"] > 10_000
    # Per cohort year a 3,000-person state publishes some statewide cells (about 60, its wage medians):
    # its breakdowns go out as pooled cohorts, which the truth has no cells for, the teacher mart's
    # cells are all suppressed, and so are its yearly rates, whose small counts the rolling pools
    # would give away. Every rate is compared before suppression below.
    assert result["cells_compared"] > 50
    differing = result["differing"].head(10).to_dict(orient="records")
    assert result["cells_equal"] == result["cells_compared"], differing
    assert result["cells_without_truth"] == 0 and result["truth_cells_missing"] == 0
    assert result["max_rate_diff_pp"] in (None, 0.0) and result["max_median_diff_pct"] == 0.0
    assert result["exact"]
    # Every cell before suppression too, rates and medians: the published ones are a few of a small state's.
    every = result["all_cells"]
    assert every["exact"] and every["cells_compared"] > 5 * result["cells_compared"], every
    assert every["max_rate_diff_pp"] == 0.0 and every["max_median_diff_pct"] == 0.0, every


def _published(rows: list[tuple]) -> pd.DataFrame:
    """gold.published_cells rows: (metric, kind, denominator, numerator, value, value_suppressed)."""
    return pd.DataFrame(
        [
            {
                "mart": "m",
                "metric": metric,
                "kind": kind,
                "cohort_year": 2020,
                "dimension": "statewide",
                "group": "All",
                "denominator": d,
                "numerator": n,
                "value": v,
                "denominator_suppressed": d is None,
                "numerator_suppressed": n is None and kind == "rate",
                "value_suppressed": hidden,
            }
            for metric, kind, d, n, v, hidden in rows
        ]
    )


def _truth(rows: list[tuple]) -> pd.DataFrame:
    """_truth/metrics.csv rows as read_true_metrics reads them: (metric, denominator, numerator, rate,
    median_wage)."""
    return pd.DataFrame(
        [
            {
                "mart": "m",
                "metric": metric,
                "cohort_year": 2020,
                "dimension": "statewide",
                "group": "All",
                "denominator": d,
                "numerator": pd.NA if n is None else n,
                "rate": rate,
                "median_wage": wage,
            }
            for metric, d, n, rate, wage in rows
        ]
    ).astype({"numerator": "Int64"})


TRUTH = [("placed", 30, 10, round(10 / 30, 6), None), ("wage", 12, None, None, 10773.03)]


def test_compare_exactly_holds_rates_to_their_counts_not_the_rounded_rate():
    published = _published(
        [("placed", "rate", 30, 10, 10 / 30, False), ("wage", "median", 12, None, 10773.03, False)]
    )
    result = compare_exactly(published, _truth(TRUTH))
    assert result["exact"] and result["cells_equal"] == result["cells_compared"] == 2
    assert result["max_rate_diff_pp"] == 0.0 and result["max_median_diff_pct"] == 0.0


@pytest.mark.parametrize(
    "rows",
    [
        [("placed", "rate", 30, 10, 10 / 30 + 1e-6, False), ("wage", "median", 12, None, 10773.03, False)],
        [("placed", "rate", 31, 10, 10 / 30, False), ("wage", "median", 12, None, 10773.03, False)],
        [("placed", "rate", 30, 11, 10 / 30, False), ("wage", "median", 12, None, 10773.03, False)],
        [("placed", "rate", 30, 10, 10 / 30, False), ("wage", "median", 12, None, 10773.02, False)],
        [("placed", "rate", 30, 10, 10 / 30, False), ("wage", "median", 13, None, 10773.03, False)],
    ],
    ids=["rate", "denominator", "numerator", "median", "median-count"],
)
def test_compare_exactly_finds_any_differing_number(rows):
    result = compare_exactly(_published(rows), _truth(TRUTH))
    assert not result["exact"] and result["cells_equal"] == 1
    assert len(result["differing"]) == 1


def test_compare_exactly_skips_suppressed_numbers_and_counts_cells_either_side_lacks():
    published = _published(
        [("placed", "rate", None, None, 10 / 30, False), ("wage", "median", 12, None, None, True)]
    )
    result = compare_exactly(published, _truth(TRUTH))
    assert result["cells_compared"] == 1 and result["exact"]  # a suppressed median is not compared
    extra = _published([("placed", "rate", 30, 10, 10 / 30, False), ("other", "rate", 5, 1, 0.2, False)])
    result = compare_exactly(extra, _truth(TRUTH))
    assert result["cells_without_truth"] == 1 and result["truth_cells_missing"] == 1
    assert not result["exact"]


def test_truth_crosswalk_gives_every_record_its_true_person(spark):
    records = spark.createDataFrame(
        [("calpads", "S1", "t1"), ("edd", "A-tok", "t2"), ("ccc", "C9", "t3")],
        "source STRING, source_record_key STRING, record_token STRING",
    )
    truth = spark.createDataFrame(
        [("calpads", "S1", "7"), ("edd", "A-tok", "7"), ("uc", "U1", "8")],
        "source STRING, source_record_key STRING, true_person_id STRING",
    )
    rows = truth_crosswalk(records, truth, run_id="r").orderBy("record_token").collect()
    assert [(r["record_token"], r["person_id"], r["run_id"]) for r in rows] == [
        ("t1", "7", "r"),
        ("t2", "7", "r"),
    ]
