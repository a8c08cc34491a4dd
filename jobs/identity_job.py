"""Identity step of `c2c run`, and `c2c train-linkage`: link every silver person record to one
pseudonymous person id (identity.person_crosswalk), keep ids stable across runs
(identity.person_id_history), and manage the linkage model in MLflow.

The identity step reads no truth: a real state has none. On a synthetic state `c2c run` scores the
crosswalk in a step of its own, after this one (jobs/evaluate_job.py).

The identity tables commit one by one, then the layer's manifest (lakehouse/tables/manifest.py). A
rebuild starts from the identity state the last manifest committed, not from tables a cut-short run
left behind, so that it issues the same ids and history events as the run it replaces.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import evaluate_job
from jobs.layer import LayerReport, RunContext
from jobs.progress import count
from jobs.silver_job import SILVER_TABLES
from lakehouse.identity import registry
from lakehouse.identity.attach import load_county_neighbors
from lakehouse.identity.features import nickname_roots, record_counties, with_linkage_features
from lakehouse.identity.ids import assign_person_ids, id_events_summary
from lakehouse.identity.link import LinkageError, Resolution, match_counts, release, resolve
from lakehouse.settings import Settings
from lakehouse.silver.tokens import check_pii_key, pii_key
from lakehouse.storage import Storage
from lakehouse.tables import (
    IDENTITY_CROSSWALK,
    IDENTITY_PAIRS,
    IDENTITY_PERSON_ID_HISTORY,
    SILVER_BENEFITS,
    SILVER_K12_ENROLLMENTS,
    SILVER_PERSON_RECORDS,
    SILVER_SERVICES,
    SILVER_WAGES,
    Table,
)
from lakehouse.tables.manifest import (
    Manifest,
    committed_frame,
    latest_manifest,
    layer_due,
    refuse_stale_rerun,
    table_versions,
    upstream_versions,
    write_manifest,
)

# Every table the identity step writes: the layer its manifest covers.
IDENTITY_TABLES: tuple[Table, ...] = (IDENTITY_CROSSWALK, IDENTITY_PAIRS, IDENTITY_PERSON_ID_HISTORY)


def link(
    spark: SparkSession,
    settings: Settings,
    storage: Storage,
    *,
    model: dict | None,
    as_of: date | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> Resolution:
    """Resolve the current silver person records with `model` (trained on them when None). `as_of` (the
    run date) lets the guards rule out wage records for people too young to work."""
    records = storage.read(SILVER_PERSON_RECORDS)
    features = with_linkage_features(records, roots=nickname_roots(spark), **_activity(storage))
    ident = settings.identity
    return resolve(
        spark,
        features,
        backend=ident.backend,
        model=model,
        threshold=ident.match_threshold,
        review_floor=ident.review_floor,
        max_cluster_size=ident.max_cluster_size,
        train_max_pairs=ident.train_max_pairs,
        as_of=as_of,
        near_miss_floor=ident.near_miss_floor,
        training=ident.training,
        county_neighbors=load_county_neighbors(settings.conf_dir),
        duckdb_memory_gb=ident.duckdb_memory_gb,
        predict_chunk_records=ident.predict_chunk_records,
        progress=progress,
    )


def _activity(storage: Storage) -> dict[str, DataFrame | None]:
    """What the events add to the linkage input: when wages began, and which counties a record names."""
    located = [
        (storage.read(table), column)
        for table, column in (
            (SILVER_K12_ENROLLMENTS, "county_code"),
            (SILVER_BENEFITS, "county_code"),
            (SILVER_SERVICES, "county_code"),
            (SILVER_WAGES, "employer_county_code"),
        )
        if storage.info(table).exists
    ]
    wages = storage.read(SILVER_WAGES) if storage.info(SILVER_WAGES).exists else None
    return {"wages": wages, "counties": record_counties(located) if located else None}


def input_versions(storage: Storage) -> dict[str, int]:
    """What identity is built from: the silver tables' versions that silver's last manifest names."""
    return upstream_versions(storage, {"silver": SILVER_TABLES})


def due(storage: Storage) -> bool:
    """True when silver person records exist and identity is due: no manifest, an identity table newer
    than its manifest (a promotion cut short), or silver's manifest newer than the one identity was
    built on."""
    if not storage.info(SILVER_PERSON_RECORDS).exists:
        return False
    return layer_due(storage, "identity", IDENTITY_TABLES, input_versions(storage))


def run(ctx: RunContext) -> LayerReport:
    """The identity step of `c2c run`: link and promote when due (see `link_and_promote`)."""
    if not due(ctx.storage):
        return LayerReport.unchanged("identity", "no new person records")
    ctx.progress.say("identity", f"linking person records on {ctx.settings.identity.backend}")
    started = time.perf_counter()
    section = link_and_promote(
        ctx.spark,
        ctx.settings,
        ctx.storage,
        run_id=ctx.run_id,
        progress=lambda what, seconds: ctx.progress.say("identity", what, seconds),
    )
    return LayerReport(
        "identity",
        section,
        f"{count(section['records'])} person records -> {count(section['persons'])} persons",
        timings_s={"identity": round(time.perf_counter() - started, 3)},
    )


def link_and_promote(
    spark: SparkSession,
    settings: Settings,
    storage: Storage,
    *,
    run_id: str,
    progress: Callable[[str, float], None] | None = None,
) -> dict:
    """Link, assign stable ids, write the identity tables and then the layer's manifest; returns the
    report section. Ids carry over from the crosswalk and history of the last manifest: what a run
    killed before its manifest committed does not count. Re-running gives the same tables: the
    crosswalk and pairs are overwritten, and the history is appended to only when it is still at its
    committed version (otherwise rewritten as committed rows + this run's events)."""
    started = time.perf_counter()
    built_from = input_versions(storage)
    committed = latest_manifest(storage, "identity")
    refuse_stale_rerun(committed, run_id, built_from)
    champion = registry.load_champion(settings)
    today = datetime.now(UTC).date()
    resolution = link(
        spark, settings, storage, model=champion[0] if champion else None, as_of=today, progress=progress
    )
    records = storage.read(SILVER_PERSON_RECORDS).select("source", "source_record_key", "record_token")
    previous = committed_frame(storage, committed, IDENTITY_CROSSWALK)
    if previous is not None:
        previous = previous.select("record_token", "person_id")
    committed_history = committed_frame(storage, committed, IDENTITY_PERSON_ID_HISTORY)
    issued = committed_history.select("person_id") if committed_history is not None else None
    tokens, history = assign_person_ids(
        resolution.clusters, previous, issued, key=pii_key(settings), run_id=run_id
    )
    crosswalk = records.join(tokens, "record_token").select(
        "source", "source_record_key", "record_token", "person_id", F.lit(run_id).alias("run_id")
    )
    crosswalk = crosswalk.localCheckpoint()  # written and counted: compute it once
    report: dict = {"backend": settings.identity.backend, "timings_s": dict(resolution.seconds)}
    if champion is None:
        # No champion yet (a new deployment): the model trained on this data becomes version 1.
        version = registry.log_model(
            settings,
            resolution.model,
            params=_params(settings),
            metrics={},
            run_name=f"trained-in-run-{run_id}",
            champion=True,
        )
        report["model"] = {"version": version, "trained_in_this_run": True}
    else:
        report["model"] = {"version": champion[1], "trained_in_this_run": False}
    storage.write(crosswalk, IDENTITY_CROSSWALK, "overwrite", run_id=run_id, step="identity/crosswalk")
    pairs = resolution.pairs.withColumn("run_id", F.lit(run_id))
    storage.write(pairs, IDENTITY_PAIRS, "overwrite", run_id=run_id, step="identity/pairs")
    history = history.withColumn("recorded_at", F.lit(datetime.now(UTC)).cast("timestamp"))
    _write_history(storage, history, committed_history, committed, run_id=run_id)
    write_manifest(storage, "identity", IDENTITY_TABLES, built_from, run_id=run_id)
    persons = crosswalk.select("person_id").distinct().count()
    report.update(
        {
            "records": crosswalk.count(),
            "persons": persons,
            "pairs": match_counts(resolution.pairs),
            "id_events": id_events_summary(history),
            "guard": {
                "suspect_clusters": resolution.guard.get("suspect_clusters", 0),
                "links_broken": len(resolution.guard.get("links_broken", [])),
                "unresolved": len(resolution.guard.get("unresolved", [])),
                "unresolved_examples": resolution.guard.get("unresolved", [])[:10],
                "attached_by_unique_name": resolution.guard.get("attached_by_unique_name", 0),
                "joined_renamed": resolution.guard.get("joined_renamed", 0),
                "training_skipped": resolution.guard.get("training_skipped", []),
            },
        }
    )
    release(resolution)  # everything that reads its pairs and clusters has run
    report["timings_s"]["total"] = round(time.perf_counter() - started, 3)
    return report


def _write_history(
    storage: Storage,
    history: DataFrame,
    committed_history: DataFrame | None,
    committed: Manifest | None,
    *,
    run_id: str,
) -> None:
    """Append this run's id events, or, when a run cut short appended its own after the last manifest,
    rewrite the history as the committed rows plus this run's (the same step key: a retry of the run
    that did append skips it)."""
    recorded = committed.tables.get(IDENTITY_PERSON_ID_HISTORY.fqn) if committed else None
    current = table_versions(storage, [IDENTITY_PERSON_ID_HISTORY]).get(IDENTITY_PERSON_ID_HISTORY.fqn)
    if current == recorded:
        storage.write(history, IDENTITY_PERSON_ID_HISTORY, "append", run_id=run_id, step="identity/history")
        return
    rows = history if committed_history is None else committed_history.unionByName(history)
    storage.write(rows, IDENTITY_PERSON_ID_HISTORY, "overwrite", run_id=run_id, step="identity/history")


def _params(settings: Settings) -> dict:
    return {k: v for k, v in settings.identity.model_dump().items() if k != "tracking_uri"}


def train_main(settings: Settings, *, promote: bool) -> int:
    """`c2c train-linkage`: train on the current silver person records, score the trained clustering
    against the raw root's truth when it holds one (a synthetic state), log the run and register the
    model; `promote` (or no champion yet) makes it the champion that scheduled runs load."""
    from lakehouse.spark import build_spark
    from lakehouse.storage import open_storage

    check_pii_key(settings)
    spark = build_spark(settings)
    storage = open_storage(spark, settings)
    if not storage.info(SILVER_PERSON_RECORDS).exists:
        raise LinkageError("no silver.person_records yet: run `c2c run` first")
    resolution = link(spark, settings, storage, model=None, as_of=datetime.now(UTC).date())
    records = storage.read(SILVER_PERSON_RECORDS).select("source", "source_record_key", "record_token")
    crosswalk = records.join(resolution.clusters.withColumnRenamed("cluster_id", "person_id"), "record_token")
    evaluation = evaluate_job.score(spark, settings, crosswalk) or {}
    champion = promote or registry.load_champion(settings) is None
    version = registry.log_model(
        settings,
        resolution.model,
        params=_params(settings),
        metrics={
            **evaluate_job.metrics(evaluation),
            **{f"seconds_{k}": v for k, v in resolution.seconds.items()},
        },
        run_name="train-linkage",
        champion=champion,
        artifacts={"evaluation.json": evaluation, "guard.json": resolution.guard},
    )
    print(
        f"registered {settings.identity.model_name} version {version}" + (" as champion" if champion else "")
    )
    if evaluation:
        print(f"  vs truth: {evaluate_job.figures(evaluation)}")
    print(f"  tracking: {registry.tracking_uri(settings)}")
    return 0
