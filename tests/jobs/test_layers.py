"""A layer (silver, identity, gold) is promoted whole or not at all: its tables commit, then its manifest.

The end-to-end tests start from copies of the shared `pipeline_run` lake (3,000 people), cut a run short
by making one table's commit raise (as a killed process would leave it: the earlier tables committed,
no manifest), then run `pipeline.run` in process on the shared Spark session and compare what the lake
holds, whole, with the uninterrupted run's lake. Here: the manifest rules on small tables, runs killed
inside silver, and a lake from before manifests; runs killed inside identity and gold are in
test_layers_identity_gold.py (a file of its own, so that the two halves can run on two test workers).
The shared parts are in tests/layer_kills.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jobs import gold_job, identity_job, silver_job
from lakehouse.storage import open_storage
from lakehouse.tables import SILVER_K12_ENROLLMENTS, SILVER_PERSON_RECORDS, Table
from lakehouse.tables.manifest import (
    OPS_LAYER_MANIFESTS,
    adopt_existing_lake,
    latest_manifest,
    layer_due,
    write_manifest,
)
from tests.layer_kills import (
    LAYERS,
    killed_then_repaired,
    lake_results,
    run_pipeline,
)

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
    commits = killed_then_repaired(spark, lake, monkeypatch, silver_job, "silver", kills, "r-6")
    assert commits[:2] == [SILVER_PERSON_RECORDS.fqn, SILVER_K12_ENROLLMENTS.fqn]
    storage = open_storage(spark, lake)
    assert lake_results(spark, lake) == uninterrupted
    assert {layer: latest_manifest(storage, layer).run_id for layer in LAYERS} == dict.fromkeys(LAYERS, "r-6")
    assert not identity_job.due(storage) and not gold_job.due(storage)


@pytest.mark.slow
def test_a_lake_from_before_manifests_is_rebuilt_once_and_keeps_its_person_ids(spark, lake, uninterrupted):
    """Without ops.layer_manifests, each layer above bronze is adopted as it is and rebuilt once: the
    same tables, the same person ids, no id events (nothing changed). Bronze is not adopted: its gate
    judges what landed after silver was built (nothing here) and promotes it. The run after that
    changes nothing."""
    shutil.rmtree(Path(OPS_LAYER_MANIFESTS.path(lake.storage)))
    storage = open_storage(spark, lake)
    report = run_pipeline(spark, lake, "r-2")
    assert all(isinstance(report[layer], dict) for layer in LAYERS), report
    assert lake_results(spark, lake) == uninterrupted
    promotions = storage.read(OPS_LAYER_MANIFESTS).orderBy("seq").select("layer", "run_id").collect()
    assert [tuple(r) for r in promotions] == [
        *((layer, "adopted-in-r-2") for layer in LAYERS),
        ("bronze", "r-2"),
        *((layer, "r-2") for layer in LAYERS),
    ]
    again = run_pipeline(spark, lake, "r-3")
    assert [again[layer].split(" ")[0] for layer in LAYERS] == ["unchanged"] * 3
