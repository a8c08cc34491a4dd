"""A layer (silver, identity, gold) is promoted whole or not at all: its tables commit, then its manifest.

The end-to-end tests start from copies of the shared `pipeline_run` lake (3,000 people), cut a run short
by making one table's commit raise (as a killed process would leave it: the earlier tables committed,
no manifest), then run `pipeline.run` in process on the shared Spark session and compare what the lake
holds, whole, with the uninterrupted run's lake."""

from __future__ import annotations

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
    GOLD_COHORT_MEMBERS,
    GOLD_COHORT_OUTCOMES,
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


def _kill_at(monkeypatch, storage, *, method: str, table: Table) -> None:
    """Make `storage.<method>` (commit or write) raise Killed for `table`, as if the process died
    just before that table's commit."""
    engine = type(storage)
    real = getattr(engine, method)

    def killing(self, first, *args, **kwargs):
        target = first.table if method == "commit" else args[0]
        if target == table:
            raise Killed(f"killed before {table.fqn} committed")
        return real(self, first, *args, **kwargs)

    monkeypatch.setattr(engine, method, killing)


def _versions(storage) -> dict[str, int]:
    infos = [storage.info(t) for t in (*ALL_TABLES, OPS_LAYER_MANIFESTS)]
    return {info.table: info.version for info in infos if info.exists}


@pytest.mark.slow
def test_an_unchanged_lake_is_unchanged_in_every_layer(spark, lake):
    storage = open_storage(spark, lake)
    before = _versions(storage)
    report = _run(spark, lake, "r-2")
    assert (report["silver"], report["identity"], report["gold"]) == (
        "unchanged (no new bronze rows)",
        "unchanged (no new person records)",
        "unchanged (no new silver or identity data)",
    )
    assert _versions(storage) == before
    assert {layer: latest_manifest(storage, layer).run_id for layer in LAYERS} == dict.fromkeys(LAYERS, "r-1")


@pytest.mark.slow
def test_a_run_killed_inside_silver_is_repaired_by_the_next_run(spark, lake, monkeypatch, uninterrupted):
    """Silver, identity and gold removed (bronze kept): r-2 dies after silver.person_records committed,
    before the event tables did. That lake used to be stuck (identity ran on the new person records,
    gold found no event tables); now r-3 rebuilds silver whole and reaches gold, as the uninterrupted
    run did."""
    for root in ("lake", "restricted"):
        for layer in LAYERS:
            shutil.rmtree(Path("var") / root / layer, ignore_errors=True)
    shutil.rmtree(Path(OPS_LAYER_MANIFESTS.path(lake.storage)))
    storage = open_storage(spark, lake)
    with monkeypatch.context() as m:
        _kill_at(m, storage, method="commit", table=SILVER_K12_ENROLLMENTS)
        with pytest.raises(RunFailed, match="killed before silver.k12_enrollments"):
            _run(spark, lake, "r-2")
    assert storage.info(SILVER_PERSON_RECORDS).exists and not storage.info(SILVER_K12_ENROLLMENTS).exists
    assert latest_manifest(storage, "silver") is None and silver_job.due(storage)

    report = _run(spark, lake, "r-3")
    assert report["status"] == "succeeded"
    assert all(isinstance(report[layer], dict) for layer in LAYERS), report
    assert _results(spark, lake) == uninterrupted
    assert {layer: latest_manifest(storage, layer).run_id for layer in LAYERS} == dict.fromkeys(LAYERS, "r-3")
    assert not pipeline._identity_behind(storage) and not pipeline._gold_behind(storage)


@pytest.mark.slow
@pytest.mark.parametrize("retry_id", ["r-2", "r-3"], ids=["same-run-id", "new-run-id"])
def test_a_run_killed_inside_identity_is_repaired_by_the_retry(
    spark, lake, monkeypatch, uninterrupted, retry_id
):
    """Identity and gold removed, silver's manifest kept: r-2 dies after identity.person_crosswalk
    committed. The retry (under the same or a new run id) finds identity partly promoted, writes the
    linkage pairs and the id history, and ends with the uninterrupted run's identity and gold."""
    for root in ("lake", "restricted"):
        for layer in ("identity", "gold"):
            shutil.rmtree(Path("var") / root / layer, ignore_errors=True)
    storage = open_storage(spark, lake)
    silver_only = storage.read(OPS_LAYER_MANIFESTS).where("layer = 'silver'").localCheckpoint()
    storage.write(silver_only, OPS_LAYER_MANIFESTS, "overwrite")
    with monkeypatch.context() as m:
        _kill_at(m, storage, method="write", table=IDENTITY_PAIRS)
        with pytest.raises(RunFailed, match="killed before identity.linkage_pairs"):
            _run(spark, lake, "r-2")
    assert storage.info(IDENTITY_CROSSWALK).exists
    assert not storage.info(IDENTITY_PAIRS).exists and not storage.info(IDENTITY_PERSON_ID_HISTORY).exists
    assert pipeline._identity_behind(storage)

    report = _run(spark, lake, retry_id)
    assert report["silver"] == "unchanged (no new bronze rows)"
    assert isinstance(report["identity"], dict) and isinstance(report["gold"], dict), report
    # The model the first run trained and registered is the champion, and the retry links with it.
    assert report["identity"]["model"] == {"version": "1", "trained_in_this_run": False}
    assert _results(spark, lake) == uninterrupted
    assert latest_manifest(storage, "identity").run_id == retry_id


@pytest.mark.slow
def test_a_run_killed_inside_gold_is_repaired_by_the_next_run(spark, lake, monkeypatch, uninterrupted):
    """Gold and its manifests removed (silver and identity kept): r-2 dies after gold.person_timeline
    and gold.cohort_members committed, before the outcomes and the published cells did. Nothing is
    published from the cut-short run; r-3 rebuilds gold whole and publishes what the uninterrupted run
    published, byte for byte."""
    for root in ("lake", "restricted"):
        shutil.rmtree(Path("var") / root / "gold", ignore_errors=True)
    shutil.rmtree(Path("var") / "site" / "data")
    storage = open_storage(spark, lake)
    kept = storage.read(OPS_LAYER_MANIFESTS).where("layer <> 'gold'").localCheckpoint()
    storage.write(kept, OPS_LAYER_MANIFESTS, "overwrite")
    with monkeypatch.context() as m:
        _kill_at(m, storage, method="write", table=GOLD_COHORT_OUTCOMES)
        with pytest.raises(RunFailed, match="killed before gold.cohort_outcomes"):
            _run(spark, lake, "r-2")
    assert storage.info(GOLD_COHORT_MEMBERS).exists and not storage.info(GOLD_PUBLISHED_CELLS).exists
    assert not (Path("var") / "site" / "data").exists()
    assert latest_manifest(storage, "gold") is None and pipeline._gold_behind(storage)

    report = _run(spark, lake, "r-3")
    assert (report["silver"], report["identity"]) == (
        "unchanged (no new bronze rows)",
        "unchanged (no new person records)",
    )
    assert isinstance(report["gold"], dict), report
    assert _results(spark, lake) == uninterrupted
    assert latest_manifest(storage, "gold").run_id == "r-3"


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
