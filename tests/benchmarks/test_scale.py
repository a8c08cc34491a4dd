"""benchmarks/scale.py --resume: a run's figures over a failed attempt and the attempt that finished it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from scale import failed_attempt, load, resumed, save  # noqa: E402

FAILED_IN_IDENTITY = {
    "start_s": 15.0, "bronze_s": 990.0, "silver_s": 1220.0, "identity_s": 2400.0, "gold_s": None,
    "end_to_end_s": 4680.0, "peak_rss_gb": 15.2, "peak_pss_gb": 15.1, "peak_tmp_gb": 8.4, "complete": False,
}  # fmt: skip
FINISHED = {
    "start_s": 14.0, "bronze_s": 3.0, "silver_s": 2.0, "identity_s": 1800.0, "gold_s": 2000.0,
    "report_s": 4.0, "publish_s": 60.0, "end_to_end_s": 3900.0, "peak_rss_gb": 14.0, "peak_pss_gb": 15.5,
    "peak_tmp_gb": 6.0, "complete": True,
}  # fmt: skip


def test_each_step_is_timed_by_the_attempt_that_completed_it():
    r = resumed(FAILED_IN_IDENTITY, FINISHED, "identity")
    # bronze and silver: the first attempt's, plus the second's finding them unchanged
    assert r["bronze_s"] == 993.0 and r["silver_s"] == 1222.0
    assert r["identity_s"] == 1800.0 and r["gold_s"] == 2000.0
    assert r["lost_s"] == 2400.0  # the failed attempt's identity, not counted in the run's time
    assert r["end_to_end_s"] == 15.0 + 990.0 + 1220.0 + 3900.0
    assert (r["peak_rss_gb"], r["peak_pss_gb"], r["peak_tmp_gb"]) == (15.2, 15.5, 8.4)
    assert r["attempts"] == 2 and r["complete"]
    third = resumed({**r, "identity_s": 1600.0, "complete": False}, FINISHED, "identity")
    assert third["lost_s"] == 4000.0 and third["attempts"] == 3  # both failed attempts' identity
    assert third["bronze_s"] == 996.0


def test_a_run_failed_in_its_evaluation_keeps_the_identity_it_linked():
    r = resumed({**FAILED_IN_IDENTITY, "evaluate_s": 50.0}, {**FINISHED, "identity_s": None}, "evaluate")
    assert r["identity_s"] == 2400.0 and r["lost_s"] == 50.0
    assert r["end_to_end_s"] == 15.0 + 990.0 + 1220.0 + 2400.0 + 3900.0


def test_a_run_failed_in_its_first_step_counts_only_the_last_attempt():
    r = resumed({**FAILED_IN_IDENTITY, "bronze_s": 50.0}, FINISHED, "bronze")
    assert r["bronze_s"] == 3.0 and r["lost_s"] == 50.0
    assert r["end_to_end_s"] == 15.0 + 3900.0


def test_only_a_failed_report_is_gone_on_from(tmp_path):
    runs = tmp_path / "var" / "runs" / "scale-10-duckdb"
    assert failed_attempt(tmp_path, "scale-10-duckdb") is None  # no report: run afresh
    runs.mkdir(parents=True)
    (runs / "report.json").write_text(json.dumps({"status": "failed", "failed_step": "gold"}))
    assert failed_attempt(tmp_path, "scale-10-duckdb") == "gold"
    (runs / "report.json").write_text(json.dumps({"status": "succeeded"}))
    assert failed_attempt(tmp_path, "scale-10-duckdb") is None


@pytest.mark.parametrize("sizes", [(10_000,), (100_000, 1_000_000)])
def test_saved_figures_load_keyed_as_the_benchmark_keys_them(tmp_path, sizes):
    results = {
        "generate": {n: {"ok": True, "generate_s": 1.0} for n in sizes},
        "runs": {(n, "duckdb"): {"complete": True, "end_to_end_s": 2.0} for n in sizes},
    }
    save(tmp_path / "scale.json", results)
    assert load(tmp_path / "scale.json") == results
    assert load(tmp_path / "nothing.json") == {"generate": {}, "runs": {}}
