"""Identity resolution on one Splink backend: deterministic pairs, scored candidate pairs, clusters.

`resolve` takes the linkage input (lakehouse/identity/features.py) and returns, as Spark DataFrames,
the pairs that decided the clusters, the clusters, and the trained model. The backend is a setting:
`spark` (a cluster: every step runs in Spark, and nothing per record comes to the driver) or
`duckdb` (one machine: the input is handed to an in-process DuckDB through Arrow, which on these
machines is ~30x faster than Spark local mode for the same model). Both run the same steps
(lakehouse/identity/steps.py), written once in SQL that lakehouse/identity/engine.py runs on either
engine. The same model JSON (DuckDB's dialect) serves both.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from pyspark import SparkFiles
from pyspark.sql import DataFrame, SparkSession

from lakehouse.identity.attach import attach_unique_names
from lakehouse.identity.engine import DuckEngine, SparkEngine
from lakehouse.identity.features import LINKAGE_COLUMNS
from lakehouse.identity.joins import join_near_misses, join_renamed
from lakehouse.identity.record_ids import numbered, restored
from lakehouse.identity.sizing import PREDICT_CHUNK_RECORDS, duckdb_memory_limit, duckdb_scratch
from lakehouse.identity.steps import LinkageError, Resolution, run_steps, tell

__all__ = [
    "LinkageError",
    "Resolution",
    "attach_unique_names",
    "join_near_misses",
    "join_renamed",
    "release",
    "resolve",
    "resolve_in_duckdb",
]

PAIRS_SCHEMA = "record_token_l STRING, record_token_r STRING, match_probability DOUBLE, method STRING"


def resolve(
    spark: SparkSession,
    linkage_input: DataFrame,
    *,
    backend: str,
    model: dict[str, Any] | None,
    threshold: float,
    review_floor: float,
    max_cluster_size: int,
    train_max_pairs: float,
    checkpoint_dir: str | None = None,
    as_of: date | None = None,
    near_miss_floor: float | None = None,
    training: str = "labels",
    county_neighbors: Mapping[str, Sequence[str]] | None = None,
    duckdb_memory_gb: float | None = None,
    predict_chunk_records: int = PREDICT_CHUNK_RECORDS,
    progress: Callable[[str, float], None] | None = None,
) -> Resolution:
    """Link every record of `linkage_input` (LINKAGE_COLUMNS): deterministic pairs are matches; other
    candidate pairs are scored by `model` (trained here on the input when None) and are matches at or
    above `threshold`; matches are clustered by connected components, oversized or conflicting
    clusters are split at their weakest links (lakehouse/identity/guards.py), and clusters of wage
    records that carry only a name join the one cluster their name points to. `as_of` (the run
    date; the data is no newer) rules out people too young to have had wages by then. With
    `near_miss_floor`, two clusters whose best pair scored in [floor, threshold) join when each is
    the other's only such near miss (lakehouse/identity/joins.py). `county_neighbors` (county code
    -> the codes of the counties bordering it) lets a wage cluster's several namesakes be told apart
    by a bordering county when none is in the county itself (`attach_unique_names`). `training`: see
    `run_steps`.
    `checkpoint_dir` (backend spark): where the steps' tables are checkpointed (default: the
    session's checkpoint directory, else local checkpoints on the executors).
    `duckdb_memory_gb` (backend duckdb): DuckDB's memory limit (default: `duckdb_memory_limit`).
    `predict_chunk_records` (backend duckdb): scoring runs in chunks of about this many records a side
    (`predict_chunks`). `progress(what, seconds)` is told each step as it ends."""
    _quiet_splink()
    records = linkage_input.select(*LINKAGE_COLUMNS)
    if backend not in ("duckdb", "spark"):
        raise LinkageError(f"identity.backend must be 'duckdb' or 'spark', not {backend!r}")
    options = {
        "threshold": threshold,
        "review_floor": review_floor,
        "max_cluster_size": max_cluster_size,
        "train_max_pairs": train_max_pairs,
        "as_of": as_of,
        "near_miss_floor": near_miss_floor,
        "training": training,
        "county_neighbors": county_neighbors,
        "predict_chunk_records": predict_chunk_records,
        "progress": progress,
    }
    if backend == "spark":
        return _resolve_spark(spark, records, model, checkpoint_dir, **options)
    memory_gb = duckdb_memory_gb or duckdb_memory_limit(spark.conf.get("spark.driver.memory", "1g"))
    return _resolve_duckdb(spark, records, model, memory_gb=memory_gb, **options)


def _resolve_duckdb(
    spark: SparkSession, records: DataFrame, model: dict[str, Any] | None, *, memory_gb: float, **options
) -> Resolution:
    import duckdb

    t0 = time.perf_counter()
    arrow = records.toArrow()
    con = duckdb.connect(config={"memory_limit": f"{memory_gb}GB", **duckdb_scratch(spark)})
    con.register("linkage_input_arrow", arrow)
    con.execute("CREATE TABLE linkage_input AS SELECT * FROM linkage_input_arrow")
    con.unregister("linkage_input_arrow")
    staged, arrow = arrow.num_rows, None  # DuckDB holds its own copy: free the Arrow one for the steps
    to_duckdb = round(time.perf_counter() - t0, 3)
    tell(options.get("progress"), f"{staged:,} records in DuckDB", to_duckdb)
    try:
        result = resolve_in_duckdb(con, model, **options)
    finally:
        con.close()
    folder = _handover_folder(spark)
    return Resolution(
        pairs=_to_spark(spark, result.pairs, PAIRS_SCHEMA, folder),
        clusters=_to_spark(spark, result.clusters, "record_token STRING, cluster_id STRING", folder),
        model=result.model,
        guard=result.guard,
        seconds={"to_duckdb": to_duckdb, **result.seconds},
        decision=result.decision,
        handover=[folder] if folder else [],
    )


def release(resolution: Resolution) -> None:
    """Delete the files a Resolution's frames were handed over in, once nothing reads them any more
    (otherwise they go when the Spark session stops)."""
    for folder in resolution.handover:
        shutil.rmtree(folder, ignore_errors=True)
    resolution.handover = []


def _resolve_spark(
    spark: SparkSession,
    records: DataFrame,
    model: dict[str, Any] | None,
    checkpoint_dir: str | None,
    **options,
) -> Resolution:
    """Every step on Spark: Splink's Spark backend trains, scores and clusters; the SQL of the other
    steps runs as Spark SQL (lakehouse/identity/engine.py). The pairs and clusters come back as
    checkpointed DataFrames."""
    from lakehouse.identity.spark_backend import spark_api

    if checkpoint_dir and not spark.sparkContext.getCheckpointDir():
        spark.sparkContext.setCheckpointDir(checkpoint_dir)
    db = SparkEngine(spark)
    t0 = time.perf_counter()
    db.put("linkage_input", records)
    staged = round(time.perf_counter() - t0, 3)
    try:
        result = run_steps(db, spark_api(spark), model, **options)
        pairs, clusters = db.frame("pairs"), db.frame("clusters")
    finally:
        db.close()
    result.pairs = pairs.select("record_token_l", "record_token_r", "match_probability", "method")
    result.clusters = clusters.select("record_token", "cluster_id")
    result.seconds = {"stage": staged, **result.seconds}
    return result


def resolve_in_duckdb(con: Any, model: dict[str, Any] | None, **options) -> Resolution:
    """`run_steps` on a DuckDB connection that holds `linkage_input` (LINKAGE_COLUMNS): returns a
    Resolution whose `pairs` and `clusters` are Arrow tables. No Spark here, so the same code serves
    the pipeline, `c2c link` and an analyst's (or a developer's) loop on exported features. The steps
    run on record numbers (lakehouse/identity/record_ids.py); the tables `linkage_input`, `pairs` and
    `clusters` that they leave on `con` hold the tokens again."""
    from splink import DuckDBAPI

    numbered(con)  # every step joins records: on numbers, not 64-character tokens
    result = run_steps(DuckEngine(con), DuckDBAPI(con), model, **options)
    result.guard = restored(con, result.guard)
    result.pairs = con.sql("SELECT * FROM pairs").to_arrow_table()
    result.clusters = con.sql("SELECT record_token, cluster_id FROM clusters").to_arrow_table()
    return result


def _handover_folder(spark: SparkSession) -> str | None:
    """Where DuckDB's pairs and clusters go to Spark as Parquet: a folder in the driver's own scratch
    folder (Spark's `userFiles`, under `spark.local.dir`, deleted when the session stops), which Spark
    local mode's tasks read. None when the executors are other machines, which cannot read it."""
    if not spark.sparkContext.master.startswith("local"):
        return None
    folder = os.path.join(SparkFiles.getRootDirectory(), f"identity-{uuid.uuid4().hex[:12]}")
    os.makedirs(folder, mode=0o700)
    return folder


def _to_spark(spark: SparkSession, table: Any, schema: str, folder: str | None = None) -> DataFrame:
    """An Arrow table as a DataFrame of `schema`. With a `folder` (Spark local mode) the table is written
    there as Parquet and read back: a DataFrame made from Arrow batches keeps them all in the driver's
    JVM heap while it lives, which for 10^6 people's 26 million linkage pairs is about half of an 8g
    heap, and the crosswalk's join then ran the heap out. The files hold record tokens, as the Spark
    shuffles and DuckDB's spills in the same scratch folder do. Without one (executors on other
    machines), the table goes as Arrow batches: still no Python object per value (pandas would make
    two strings per pair, several times the bytes of the pairs)."""
    if table.num_rows == 0:
        return spark.createDataFrame([], schema)
    if folder is not None:
        import pyarrow.parquet as pq

        path = os.path.join(folder, f"{uuid.uuid4().hex[:12]}.parquet")
        pq.write_table(table, path)
        frame = spark.read.parquet(path)
    else:
        frame = spark.createDataFrame(table)
    return frame.selectExpr(
        *(f"CAST({name} AS {kind}) AS {name}" for name, kind in (c.split() for c in schema.split(", ")))
    )


def _quiet_splink() -> None:
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.WARNING)


def match_counts(pairs: DataFrame) -> dict[str, int]:
    """Pairs per method (small: collected)."""
    return {r["method"]: r["count"] for r in pairs.groupBy("method").count().collect()}
