"""Runs killed after each identity commit and after each gold commit are repaired by the next run, which
leaves the uninterrupted run's lake, whole (tests/jobs/test_layers.py says how the runs are cut short;
the shared parts are in tests/layer_kills.py); and `c2c train-linkage` on a copy of the shared lake."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from jobs import gold_job, identity_job, pipeline
from jobs.cli import main
from lakehouse.identity import registry
from lakehouse.storage import open_storage
from lakehouse.tables import (
    GOLD_PUBLISHED_CELLS,
    IDENTITY_CROSSWALK,
    IDENTITY_PAIRS,
    IDENTITY_PERSON_ID_HISTORY,
)
from lakehouse.tables.manifest import OPS_LAYER_MANIFESTS, latest_manifest
from tests.layer_kills import killed_then_repaired, lake_results


@pytest.mark.slow
def test_runs_killed_after_each_identity_commit_are_repaired_by_the_retry(
    spark, lake, monkeypatch, uninterrupted
):
    """Identity and gold removed, silver's manifest kept: runs die after identity.person_crosswalk,
    after the linkage pairs and after the id history (before the manifest). The first two are
    attempts of one run id, whose retry skips what the earlier attempt committed; the third and the
    repairing run have new run ids, which write it again. The repairing run ends with the
    uninterrupted run's identity and gold."""
    for root in ("lake", "restricted"):
        for layer in ("identity", "gold"):
            shutil.rmtree(Path("var") / root / layer, ignore_errors=True)
    storage = open_storage(spark, lake)
    silver_only = storage.read(OPS_LAYER_MANIFESTS).where("layer = 'silver'").localCheckpoint()
    storage.write(silver_only, OPS_LAYER_MANIFESTS, "overwrite")
    kills = [("r-2", 1), ("r-2", 2), ("r-3", 3)]
    commits = killed_then_repaired(spark, lake, monkeypatch, identity_job, "identity", kills, "r-4")
    assert commits == [
        IDENTITY_CROSSWALK.fqn,
        IDENTITY_PAIRS.fqn,
        IDENTITY_PERSON_ID_HISTORY.fqn,
        "identity manifest",
    ]
    assert lake_results(spark, lake) == uninterrupted
    assert latest_manifest(storage, "identity").run_id == "r-4"
    report = json.loads((lake.runs_dir() / "r-4" / "report.json").read_text())
    assert report["silver"] == "unchanged (no new bronze rows)"
    # The model the first run trained and registered is the champion, and every retry links with it.
    assert report["identity"]["model"] == {"version": "1", "trained_in_this_run": False}


@pytest.mark.slow
def test_runs_killed_after_each_gold_commit_are_repaired_by_the_retry(
    spark, lake, monkeypatch, uninterrupted
):
    """Gold and its manifests removed (silver and identity kept): attempts of one run id die after
    gold.person_timeline, after the cohort outcomes, after the pooled published cells (just before the
    published cells, which the site's files follow) and before the manifest, each a commit later than
    the one before. Nothing is published before the published cells are committed; the attempt past
    the last kill publishes what the uninterrupted run published, byte for byte. (Every gold table is
    committed the same way, by `promote`; an attempt per commit would cost a gold build each.)"""
    for root in ("lake", "restricted"):
        shutil.rmtree(Path("var") / root / "gold", ignore_errors=True)
    site = Path("var") / "site" / "data"
    shutil.rmtree(site)
    storage = open_storage(spark, lake)
    kept = storage.read(OPS_LAYER_MANIFESTS).where("layer <> 'gold'").localCheckpoint()
    storage.write(kept, OPS_LAYER_MANIFESTS, "overwrite")
    real_run = pipeline.run

    def run_and_look(*args, **kwargs):
        try:
            return real_run(*args, **kwargs)
        finally:
            published = storage.info(GOLD_PUBLISHED_CELLS).exists
            assert site.exists() == published or latest_manifest(storage, "gold") is not None

    monkeypatch.setattr(pipeline, "run", run_and_look)
    last = len(gold_job.GOLD_TABLES)
    kills = [("r-2", k) for k in (1, 3, last - 1, last)]
    commits = killed_then_repaired(spark, lake, monkeypatch, gold_job, "gold", kills, "r-2")
    assert commits == [*(t.fqn for t in gold_job.GOLD_TABLES), "gold manifest"]
    report = json.loads((lake.runs_dir() / "r-2" / "report.json").read_text())
    assert (report["silver"], report["identity"]) == (
        "unchanged (no new bronze rows)",
        "unchanged (no new person records)",
    )
    assert isinstance(report["gold"], dict), report
    assert report["attempt"] == len(kills) + 1
    assert lake_results(spark, lake) == uninterrupted
    assert latest_manifest(storage, "gold").run_id == "r-2"


@pytest.mark.slow
def test_train_linkage_registers_a_version_and_promote_makes_it_the_champion(
    spark, lake, monkeypatch, capsys
):
    """`c2c train-linkage` trains on silver and registers a new version; only `--promote` moves the
    champion alias, which the next run loads (the first run's trained model is version 1)."""
    assert registry.load_champion(lake)[1] == "1"
    trained = []
    real_link = identity_job.link
    monkeypatch.setattr(
        identity_job, "link", lambda *a, **k: trained.append(real_link(*a, **k)) or trained[-1]
    )
    assert main(["train-linkage"]) == 0
    assert "registered c2c-person-linkage version 2\n" in capsys.readouterr().out
    assert registry.load_champion(lake)[1] == "1"
    # The same training promoted (its resolution reused: training again would only cost time).
    monkeypatch.setattr(identity_job, "link", lambda *a, **k: trained[0])
    assert main(["train-linkage", "--promote"]) == 0
    assert "version 3 as champion" in capsys.readouterr().out
    assert registry.load_champion(lake) == (trained[0].model, "3")
    assert registry.load_model(lake, "2") == (trained[0].model, "2")
