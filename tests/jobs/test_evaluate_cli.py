"""`c2c evaluate`: the lake's committed identity scored against a synthetic state's truth, printed and
filed under a run (var/runs/<run_id>/evaluation.json and the MLflow run evaluate-<run_id>); a raw root
without a truth is a user error, exit 2.

The scored lake is a copy of the shared `pipeline_run` lake (3,000 people), which stays untouched."""

from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path

import pytest
from mlflow import MlflowClient

from jobs import evaluate_job
from jobs.cli import main
from lakehouse.identity import registry
from lakehouse.identity.evaluate import CROSSWALK_COLUMNS, evaluation_report, read_truth, shared_truth_keys
from lakehouse.settings import load_settings
from lakehouse.storage import open_storage
from lakehouse.synth.records import TRUTH_FILE
from lakehouse.tables import IDENTITY_CROSSWALK
from lakehouse.tables.manifest import committed_frame, latest_manifest
from tests.conftest import ROOT


@pytest.fixture
def scored_lake(pipeline_run, tmp_path, monkeypatch):
    """A copy of the finished shared lake and its settings, with a tracking store of its own (the copied
    one names the shared lake's artifact folder)."""
    shutil.copytree(pipeline_run.var, tmp_path / "var", symlinks=True)
    shutil.rmtree(tmp_path / "var" / "mlflow")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("C2C_PII_KEY", raising=False)  # the lake's own dev key, copied with it
    return load_settings("local", ROOT / "conf")


def _evaluation_runs(settings) -> list:
    client = MlflowClient(tracking_uri=registry.tracking_uri(settings))
    experiment = client.get_experiment_by_name(evaluate_job.EXPERIMENT)
    return client.search_runs([experiment.experiment_id], "attributes.run_name LIKE 'evaluate-%'")


@pytest.mark.slow
def test_evaluate_prints_and_files_the_scores_of_the_committed_identity(spark, scored_lake, capsys):
    assert main(["evaluate"]) == 0
    out = capsys.readouterr().out.splitlines()

    # The same scores, computed here by lakehouse.identity.evaluate on the crosswalk the manifest names.
    storage = open_storage(spark, scored_lake)
    manifest = latest_manifest(storage, "identity")
    crosswalk = committed_frame(storage, manifest, IDENTITY_CROSSWALK).select(*CROSSWALK_COLUMNS)
    scores = evaluation_report(crosswalk, read_truth(spark, scored_lake))
    truth = Path(scored_lake.storage.raw_root) / TRUTH_FILE
    expected = {
        "identity_run_id": "r-1",
        "crosswalk_version": manifest.tables[IDENTITY_CROSSWALK.fqn],
        "truth": str(truth),
        **scores,
        "truth_shared_keys": shared_truth_keys(spark, scored_lake),
    }
    assert expected["truth_shared_keys"] == 0  # the embedded default's employers report SSNs no two share
    filed = scored_lake.runs_dir() / "r-1" / "evaluation.json"
    assert json.loads(filed.read_text()) == expected
    pw, bc = scores["pairwise"], scores["bcubed"]
    assert pw["precision"] > 0.99 and bc["f1"] > 0.96  # what the embedded default reaches
    rates = [
        f"    {r['source']:<{max(len(s['source']) for s in scores['match_rates'])}}  "
        f"{r['match_rate']:.4f}  {r['true_match_rate']:.4f}"
        for r in scores["match_rates"]
    ]
    assert out == [
        f"identity committed by run r-1 (identity.person_crosswalk version "
        f"{expected['crosswalk_version']}) vs {truth}",
        f"  pairwise: precision {pw['precision']:.4f} recall {pw['recall']:.4f} F1 {pw['f1']:.4f} "
        f"({pw['correct_pairs']:,} correct of {pw['predicted_pairs']:,} predicted pairs, "
        f"{pw['true_pairs']:,} true pairs)",
        f"  B-cubed:  precision {bc['precision']:.4f} recall {bc['recall']:.4f} F1 {bc['f1']:.4f}",
        f"  records:  {pw['records']:,} (0 missing from the crosswalk, 0 missing from the truth)",
        "  match rate per source (linked, with perfect linkage):",
        *rates,
        f"  written:  {filed}",
        f"  MLflow:   run evaluate-r-1 in experiment c2c-identity ({registry.tracking_uri(scored_lake)})",
    ]
    assert len(rates) >= 10  # every source with person records

    (run,) = _evaluation_runs(scored_lake)
    assert run.info.run_name == "evaluate-r-1"
    assert run.data.tags["c2c.identity_run_id"] == "r-1"
    assert run.data.metrics == {
        f"{group}_{k}": float(v) for group in ("pairwise", "bcubed") for k, v in scores[group].items()
    }
    artifact = Path(
        MlflowClient(registry.tracking_uri(scored_lake)).download_artifacts(run.info.run_id, "evaluation")
    )
    assert json.loads((artifact / "evaluation.json").read_text()) == expected

    # The step `c2c run` calls, on a run id evaluated before: the same evaluation, in the same MLflow run.
    filed.unlink()
    assert evaluate_job.evaluate(spark, scored_lake, storage, run_id="r-1") == expected
    assert json.loads(filed.read_text()) == expected
    assert [r.info.run_id for r in _evaluation_runs(scored_lake)] == [run.info.run_id]


def test_a_raw_root_without_truth_exits_2_before_spark_starts(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    raw = tmp_path / "extracts"
    (raw / "edd").mkdir(parents=True)  # agency extracts, as a real state's raw root holds, and no _truth/
    assert main(["evaluate", "--raw", str(raw)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"c2c: error: the raw root {raw} holds no truth (_truth/person_truth.csv): only a synthetic state "
        "written by `c2c generate` can be evaluated; give its folder with --raw\n"
    )
    assert not (tmp_path / "var" / "runs").exists()  # nothing filed


def test_a_lake_without_identity_exits_2(spark, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("C2C_PII_KEY", secrets.token_hex(32))
    truth = tmp_path / "var" / "raw" / TRUTH_FILE
    truth.parent.mkdir(parents=True)
    truth.write_text("source,source_record_key,true_person_id\n")
    assert main(["evaluate"]) == 2
    assert capsys.readouterr().err == (
        "c2c: error: the lake has no committed identity.person_crosswalk yet: run `c2c run` first\n"
    )
    assert not (tmp_path / "var" / "runs").exists()
