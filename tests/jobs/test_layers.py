"""A layer (silver, identity, gold) is promoted whole or not at all: its tables commit, then its manifest.

The end-to-end tests start from copies of the shared `pipeline_run` lake (3,000 people), cut a run short
by making one table's commit raise (as a killed process would leave it: the earlier tables committed,
no manifest), then run `pipeline.run` in process on the shared Spark session and compare what the lake
holds, whole, with the uninterrupted run's lake."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from jobs import gold_job, identity_job, pipeline, silver_job
from jobs.cli import main
from jobs.run_record import RunFailed
from lakehouse.identity import registry
from lakehouse.settings import load_settings
from lakehouse.storage import open_storage
from lakehouse.tables import (
    GOLD_PUBLISHED_CELLS,
    IDENTITY_CROSSWALK,
    IDENTITY_PAIRS,
    IDENTITY_PERSON_ID_HISTORY,
    SILVER_K12_ENROLLMENTS,
    SILVER_PERSON_RECORDS,
    Table,
)
from lakehouse.tables.manifest import (
    OPS_LAYER_MANIFESTS,
    adopt_existing_lake,
    latest_manifest,
    layer_due,
    write_manifest,
)
from tests.conftest import ROOT

LAYERS = ("silver", "identity", "gold")
ALL_TABLES = (*silver_job.SILVER_TABLES, *identity_job.IDENTITY_TABLES, *gold_job.GOLD_TABLES)


class Killed(RuntimeError):
    """Stands for the process being killed at that point."""


# ---- the manifest rules, on small tables -----------------------------------------------------------

A = Table(layer="silver", name="layer_test_a", schema="k STRING, v BIGINT", keys=("k",))
B = Table(layer="silver", name="layer_test_b", schema="k STRING, v BIGINT", keys=("k",))
UPSTREAM = Table(layer="bronze", name="layer_test_in", schema="k STRING, v BIGINT")


def test_a_layer_is_due_without_a_manifest_when_partly_promoted_and_when_its_inputs_move(spark, settings):
    storage = open_storage(spark, settings)

    def put(table: Table, v: int, run_id: str | None = None) -> None:
        df = spark.createDataFrame([("a", v)], table.schema)
        storage.write(df, table, "overwrite", run_id=run_id, step=table.name if run_id else None)

    def versions(*tables: Table) -> dict[str, int]:
        return {t.fqn: storage.info(t).version for t in tables}

    put(UPSTREAM, 1)
    put(A, 1)
    put(B, 1)
    assert layer_due(storage, "silver", (A, B), versions(UPSTREAM))  # no manifest yet
    first = write_manifest(storage, "silver", (A, B), versions(UPSTREAM), run_id="r-1")
    assert (first.seq, first.tables, first.inputs) == (1, versions(A, B), versions(UPSTREAM))
    assert not layer_due(storage, "silver", (A, B), versions(UPSTREAM))
    # The same promotion recorded again (a retry of the run that finds nothing new): no new row.
    assert write_manifest(storage, "silver", (A, B), versions(UPSTREAM), run_id="r-1") == first
    assert storage.info(OPS_LAYER_MANIFESTS).rows == 1

    put(A, 2)  # a promotion cut short: A committed, B and the manifest not
    assert layer_due(storage, "silver", (A, B), versions(UPSTREAM))
    put(B, 2)
    second = write_manifest(storage, "silver", (A, B), versions(UPSTREAM), run_id="r-2")
    assert second.seq == 2 and latest_manifest(storage, "silver") == second
    assert not layer_due(storage, "silver", (A, B), versions(UPSTREAM))

    put(UPSTREAM, 2)  # new input
    assert layer_due(storage, "silver", (A, B), versions(UPSTREAM))
    assert not layer_due(storage, "silver", (A, B), versions(UPSTREAM), ignore_inputs=[UPSTREAM.fqn])
    assert latest_manifest(storage, "identity") is None
    # A lake with manifests is never adopted again.
    assert adopt_existing_lake(storage, {"silver": (A, B)}, run_id="r-3") == []


def test_a_lake_from_before_manifests_is_adopted_once_and_then_due(spark, settings):
    storage = open_storage(spark, settings)
    storage.write(spark.createDataFrame([("a", 1)], A.schema), A, "overwrite")
    assert adopt_existing_lake(storage, {"silver": (A, B), "identity": ()}, run_id="r-9") == ["silver"]
    adopted = latest_manifest(storage, "silver")
    assert (adopted.run_id, adopted.tables, adopted.inputs) == ("adopted-in-r-9", {A.fqn: 0}, {})
    # Its tables count as committed (not partly promoted), and it is due once: its inputs are unknown.
    assert layer_due(storage, "silver", (A, B), {UPSTREAM.fqn: 0})
    assert adopt_existing_lake(storage, {"silver": (A, B)}, run_id="r-10") == []


# ---- the pipeline, cut short and run again ---------------------------------------------------------


@pytest.fixture
def lake(pipeline_run, tmp_path, monkeypatch, spark):
    """A copy of the finished shared lake, and the settings of `c2c run` in it (paths resolve from
    the working directory, as the CLI's do)."""
    shutil.copytree(pipeline_run.var, tmp_path / "var", symlinks=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("C2C_PII_KEY", raising=False)  # the lake's own dev key, copied with it
    return load_settings("local", ROOT / "conf")


@pytest.fixture(scope="module")
def uninterrupted(pipeline_run, spark, tmp_path_factory):
    """What the uninterrupted run left, read once (the shared lake is not written to)."""
    workdir = tmp_path_factory.mktemp("uninterrupted")
    shutil.copytree(pipeline_run.var, workdir / "var", symlinks=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(workdir)
        results = _results(spark, load_settings("local", ROOT / "conf"))
    assert len(results["csv"]) > 10, "no published CSV files: the comparison would prove nothing"
    return results


def _results(spark, settings) -> dict:
    """The whole outcome of silver, identity and gold, without run ids and timestamps: each table's row
    count, the crosswalk, the linkage pairs, the id history, the published cells and the published
    CSV files."""
    storage = open_storage(spark, settings)

    def rows(table: Table, *drop: str) -> list[tuple]:
        df = storage.read(table).drop("run_id", *drop)
        # NaN (a rule-made pair's probability) is not equal to itself: compare it as None.
        plain = [tuple(None if v != v else v for v in r) for r in df.collect()]
        return sorted(plain, key=repr)

    pairs = [(*r[:2], None if r[2] is None else round(r[2], 9), *r[3:]) for r in rows(IDENTITY_PAIRS)]
    return {
        "rows": {t.fqn: storage.info(t).rows for t in ALL_TABLES if storage.info(t).exists},
        "crosswalk": rows(IDENTITY_CROSSWALK),
        "pairs": pairs,
        "history": rows(IDENTITY_PERSON_ID_HISTORY, "recorded_at"),
        "published": rows(GOLD_PUBLISHED_CELLS),
        # The dashboard's published files, byte for byte.
        "csv": {p.name: p.read_bytes() for p in sorted((settings.var_dir / "site" / "data").glob("*.csv"))},
    }


def _run(spark, settings, run_id: str) -> dict:
    return pipeline.run(spark, settings, run_id=run_id, quiet=True)


class KillSwitch:
    """Counts the commits of one layer's tables and of its manifest, in order, and raises Killed just
    before the manifest (`kill_at` "manifest") or before the commit after the `kill_at`-th, as if the
    process died right after that commit. With `kill_at` None it only counts."""

    def __init__(self, tables: tuple[Table, ...], kill_at: int | str | None) -> None:
        self.tables, self.kill_at, self.seen, self.writing = tables, kill_at, [], False

    def count(self, name: str) -> None:
        if self.kill_at == len(self.seen) or self.kill_at == "manifest" and name.endswith(" manifest"):
            raise Killed(f"killed after {self.seen[-1]}")
        self.seen.append(name)

    def install(self, m: pytest.MonkeyPatch, engine: type, job) -> None:
        real_commit, real_write, real_manifest = engine.commit, engine.write, job.write_manifest

        def commit(storage, staged, *args, **kwargs):
            if staged.table in self.tables and not self.writing:
                self.count(staged.table.fqn)
            return real_commit(storage, staged, *args, **kwargs)

        def write(storage, df, table, *args, **kwargs):
            if table in self.tables:
                self.count(table.fqn)
            self.writing = True  # an engine's write may commit through `commit`: one commit, counted once
            try:
                return real_write(storage, df, table, *args, **kwargs)
            finally:
                self.writing = False

        def write_manifest(storage, layer, *args, **kwargs):
            self.count(f"{layer} manifest")
            return real_manifest(storage, layer, *args, **kwargs)

        m.setattr(engine, "commit", commit)
        m.setattr(engine, "write", write)
        m.setattr(job, "write_manifest", write_manifest)


def _killed_then_repaired(spark, lake, monkeypatch, job, layer: str, kills, repair_id: str) -> list[str]:
    """Runs of the pipeline killed inside `layer` (its tables committed by `job`, then its manifest),
    one per (run id, kill point) of `kills`, as a killed process would leave the lake: each must
    leave the layer unpromoted and due. Then the run `repair_id`, not killed. Returns that run's
    commits in order; the kill points are checked against them."""
    storage = open_storage(spark, lake)
    tables = {"silver": silver_job.SILVER_TABLES, "identity": identity_job.IDENTITY_TABLES}.get(
        layer, gold_job.GOLD_TABLES
    )
    due = {"silver": silver_job.due, "identity": identity_job.due}.get(layer, gold_job.due)
    run_ids = {run_id for run_id, _ in kills}
    killed_after: list[str] = []
    for run_id, kill_at in [*kills, (repair_id, None)]:
        switch = KillSwitch(tables, kill_at)
        with monkeypatch.context() as m:
            switch.install(m, type(storage), job)
            if kill_at is None:
                report = _run(spark, lake, run_id)
                break
            with pytest.raises(RunFailed) as failed:
                _run(spark, lake, run_id)
        assert isinstance(failed.value.__cause__, Killed), failed.value
        killed_after.append(switch.seen[-1])
        # Not promoted by a killed run (a first run cut short is adopted as a lake from before manifests:
        # as it is, with unknown inputs, so due).
        manifest = latest_manifest(storage, layer)
        assert manifest is None or manifest.run_id not in run_ids, manifest
        assert due(storage), f"{layer} not due after a run killed after {switch.seen[-1]}"
    assert report["status"] == "succeeded"
    seen = switch.seen
    points = [len(seen) - 1 if k == "manifest" else k for _, k in kills]
    assert seen[-1] == f"{layer} manifest" and killed_after == [seen[k - 1] for k in points], (
        killed_after,
        seen,
    )
    assert {t.fqn for t in tables if storage.info(t).exists} <= set(seen)
    return seen


@pytest.mark.slow
def test_runs_killed_inside_silver_are_repaired_by_the_next_run(spark, lake, monkeypatch, uninterrupted):
    """Silver, identity and gold removed (bronze kept): runs die after silver.person_records, after the
    next table, after the sixth and just before the manifest. Each leaves silver partly promoted (new
    person records, some event tables missing), which identity and gold must not build on; the next
    run rebuilds silver whole and reaches gold, as the uninterrupted run did. (Every silver table is
    committed the same way, by `promote`; a rebuild per commit would cost a silver build each.)"""
    for root in ("lake", "restricted"):
        for layer in LAYERS:
            shutil.rmtree(Path("var") / root / layer, ignore_errors=True)
    shutil.rmtree(Path(OPS_LAYER_MANIFESTS.path(lake.storage)))
    kills = [("r-2", 1), ("r-3", 2), ("r-4", 6), ("r-5", "manifest")]
    commits = _killed_then_repaired(spark, lake, monkeypatch, silver_job, "silver", kills, "r-6")
    assert commits[:2] == [SILVER_PERSON_RECORDS.fqn, SILVER_K12_ENROLLMENTS.fqn]
    storage = open_storage(spark, lake)
    assert _results(spark, lake) == uninterrupted
    assert {layer: latest_manifest(storage, layer).run_id for layer in LAYERS} == dict.fromkeys(LAYERS, "r-6")
    assert not identity_job.due(storage) and not gold_job.due(storage)


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
    commits = _killed_then_repaired(spark, lake, monkeypatch, identity_job, "identity", kills, "r-4")
    assert commits == [
        IDENTITY_CROSSWALK.fqn,
        IDENTITY_PAIRS.fqn,
        IDENTITY_PERSON_ID_HISTORY.fqn,
        "identity manifest",
    ]
    assert _results(spark, lake) == uninterrupted
    assert latest_manifest(storage, "identity").run_id == "r-4"
    report = json.loads((lake.runs_dir() / "r-4" / "report.json").read_text())
    assert report["silver"] == "unchanged (no new bronze rows)"
    # The model the first run trained and registered is the champion, and every retry links with it.
    assert report["identity"]["model"] == {"version": "1", "trained_in_this_run": False}


@pytest.mark.slow
def test_runs_killed_after_each_gold_commit_are_repaired_by_the_retry(
    spark, lake, monkeypatch, uninterrupted
):
    """Gold and its manifests removed (silver and identity kept): attempts of one run id die one gold
    commit later each, from after gold.person_timeline to before the manifest. Nothing is published
    before the published cells are committed; the attempt past the last kill publishes what the
    uninterrupted run published, byte for byte."""
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
    kills = [("r-2", k) for k in range(1, len(gold_job.GOLD_TABLES) + 1)]
    commits = _killed_then_repaired(spark, lake, monkeypatch, gold_job, "gold", kills, "r-2")
    assert commits == [*(t.fqn for t in gold_job.GOLD_TABLES), "gold manifest"]
    report = json.loads((lake.runs_dir() / "r-2" / "report.json").read_text())
    assert (report["silver"], report["identity"]) == (
        "unchanged (no new bronze rows)",
        "unchanged (no new person records)",
    )
    assert isinstance(report["gold"], dict), report
    assert report["attempt"] == len(kills) + 1
    assert _results(spark, lake) == uninterrupted
    assert latest_manifest(storage, "gold").run_id == "r-2"


@pytest.mark.slow
def test_a_lake_from_before_manifests_is_rebuilt_once_and_keeps_its_person_ids(spark, lake, uninterrupted):
    """Without ops.layer_manifests, each layer is adopted as it is and rebuilt once: the same tables,
    the same person ids, no id events (nothing changed); the run after that changes nothing."""
    shutil.rmtree(Path(OPS_LAYER_MANIFESTS.path(lake.storage)))
    storage = open_storage(spark, lake)
    report = _run(spark, lake, "r-2")
    assert all(isinstance(report[layer], dict) for layer in LAYERS), report
    assert _results(spark, lake) == uninterrupted
    promotions = storage.read(OPS_LAYER_MANIFESTS).orderBy("seq").select("layer", "run_id").collect()
    assert [tuple(r) for r in promotions] == [
        *((layer, "adopted-in-r-2") for layer in LAYERS),
        *((layer, "r-2") for layer in LAYERS),
    ]
    again = _run(spark, lake, "r-3")
    assert [again[layer].split(" ")[0] for layer in LAYERS] == ["unchanged"] * 3


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
