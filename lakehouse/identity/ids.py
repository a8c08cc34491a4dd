"""Stable pseudonymous person ids for the master person index.

Each run clusters every agency record anew, and a cluster label means nothing outside its run. This
module turns the run's clusters into a crosswalk record_token -> person_id that keeps every id whose
cluster persists, and writes a history event for every id that is created, merged, split or retired.

- A previous id *goes to* the new cluster that holds most of its records (ties: smallest cluster_id).
- A new cluster *inherits*, among the ids that go to it, the one with most records in it (ties:
  smallest person_id); the other ids that go to it are "merged" into the survivor.
- A cluster that inherits nothing gets a new id: a "split" when some of its records had an id that went
  elsewhere (related: the one with most records in it, ties smallest), else "created".
- A previous id with no record left is "retired". An id kept unchanged has no event.

A new id is "p" + 20 hex chars of HMAC-SHA256("person:" + the cluster's smallest record_token), so two
independent runs on the same data issue the same ids, and nobody without the key can compute an id
from a record token. An id is never reused: when the derivation hits an id already issued (or another
new id of the run), it is derived again from "person:<token>:1", ":2", ... Only those rare colliding
clusters go to the driver; everything else stays in Spark, because the crosswalk has ~100M rows.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lakehouse.silver.tokens import hmac_sha256

CLUSTERS_DDL = "record_token STRING, cluster_id STRING"
CROSSWALK_DDL = "record_token STRING, person_id STRING"
HISTORY_DDL = "run_id STRING, person_id STRING, event STRING, related_person_id STRING, records BIGINT"
EVENTS = ("created", "merged", "split", "retired")
ID_HEX_CHARS = 20
# Each attempt after the first is hit with odds ~ (issued ids / 16^20); reaching this means the
# `issued` table is not what it claims to be, not bad luck.
MAX_ATTEMPTS = 20


def derive_person_id(min_token: Column, *, key: bytes, attempt: int = 0) -> Column:
    """The person id derived from a cluster's smallest record token; `attempt` > 0 after a collision.

    "p" + the first 20 hex chars of HMAC-SHA256(key, "person:<token>" or "person:<token>:<attempt>").
    80 bits keep collisions rare at statewide scale (tens of millions of ids) and the id short.
    """
    message = F.concat(F.lit("person:"), min_token)
    if attempt:
        message = F.concat(message, F.lit(f":{attempt}"))
    return F.concat(F.lit("p"), F.substring(hmac_sha256(message, key), 1, ID_HEX_CHARS))


def assign_person_ids(
    clusters: DataFrame,
    previous: DataFrame | None,
    issued: DataFrame | None,
    *,
    key: bytes,
    run_id: str,
) -> tuple[DataFrame, DataFrame]:
    """Person ids for this run's clusters, carried over from the previous run's crosswalk.

    In:  `clusters` [record_token, cluster_id] (every record once; cluster_id is a per-run label),
         `previous` [record_token, person_id] (last run's crosswalk, or None on the first run),
         `issued` [person_id] (every id ever issued, or None).
    Out: the crosswalk [record_token, person_id], one row per row of `clusters`, and the history
         [run_id, person_id, event, related_person_id, records] with the events in the module docstring.

    Not a pure transform: it runs Spark jobs before returning. One reads `clusters` and `previous` once
    and keeps the counts per (cluster, previous id) as a local checkpoint (executor storage, about one
    row per person, released when the returned frames are dropped). Another finds colliding new ids and
    collects only those (normally none). Writing the crosswalk reads `clusters` once more.
    """
    spark = clusters.sparkSession
    clusters = clusters.select("record_token", "cluster_id")
    previous = (
        spark.createDataFrame([], CROSSWALK_DDL)
        if previous is None
        else previous.select("record_token", "person_id")
    )
    # The one pass over both raw inputs (~100M rows each): everything below but the final crosswalk join
    # works on `parts`, about one row per person. A record only in `previous` has a null cluster_id, one
    # only in `clusters` a null person_id. Checkpointed because the optimizer would otherwise push each
    # branch's filters and column pruning into its own copy of the join, and no exchange is reused.
    parts = (
        clusters.join(previous, "record_token", "full")
        .groupBy("cluster_id", "person_id")
        .agg(F.count(F.lit(1)).alias("records"), F.min("record_token").alias("min_token"))
        .localCheckpoint()
    )
    counts = parts.where(F.col("cluster_id").isNotNull() & F.col("person_id").isNotNull())
    taken = parts.where(F.col("person_id").isNotNull()).select("person_id")
    if issued is not None:
        taken = taken.unionByName(issued.select("person_id"))

    goes = _first(counts, by="person_id", order=[F.desc("records"), F.asc("cluster_id")]).withColumn(
        "rank",
        F.row_number().over(Window.partitionBy("cluster_id").orderBy(F.desc("records"), "person_id")),
    )
    kept = goes.where(F.col("rank") == 1).select("cluster_id", "person_id")
    merged = (
        goes.where(F.col("rank") > 1)
        .join(kept.withColumnRenamed("person_id", "related_person_id"), "cluster_id")
        .select("person_id", F.lit("merged").alias("event"), "related_person_id", "records")
    )
    largest_previous = _first(counts, by="cluster_id", order=[F.desc("records"), F.asc("person_id")])

    summary = (
        parts.where(F.col("cluster_id").isNotNull())
        .groupBy("cluster_id")
        .agg(F.min("min_token").alias("min_token"), F.sum("records").alias("size"))
    )
    new = (
        summary.join(kept, "cluster_id", "left_anti")
        .join(
            largest_previous.select("cluster_id", F.col("person_id").alias("split_from")),
            "cluster_id",
            "left",
        )
        .transform(with_new_person_ids, taken=taken, key=key)
    )
    born = new.select(
        "person_id",
        F.when(F.col("split_from").isNull(), F.lit("created")).otherwise(F.lit("split")).alias("event"),
        F.col("split_from").alias("related_person_id"),
        F.col("size").alias("records"),
    )
    retired = (
        parts.where(F.col("person_id").isNotNull())
        .groupBy("person_id")
        .agg(F.count("cluster_id").alias("in_clusters"))
        .where(F.col("in_clusters") == 0)
        .select(
            "person_id",
            F.lit("retired").alias("event"),
            F.lit(None).cast("string").alias("related_person_id"),
            F.lit(0).cast("bigint").alias("records"),
        )
    )

    ids = kept.unionByName(new.select("cluster_id", "person_id"))
    # `ids` descends from `clusters` through `parts`, whose local checkpoint keeps the column ids it was
    # built with, so joining the two is a self-join on one `cluster_id`; Spark fails to tell the sides
    # apart when `clusters` is read from files ("conflicting references in Join"). A fresh name for
    # the key on one side keeps them apart.
    keyed = ids.select(F.col("cluster_id").alias("_cluster"), "person_id")
    crosswalk = clusters.join(keyed, F.col("cluster_id") == F.col("_cluster"))
    crosswalk = crosswalk.select("record_token", "person_id")
    history = (
        born.unionByName(merged)
        .unionByName(retired)
        .select(
            F.lit(run_id).alias("run_id"),
            "person_id",
            "event",
            "related_person_id",
            F.col("records").cast("bigint").alias("records"),
        )
    )
    return crosswalk, history


def with_new_person_ids(new: DataFrame, *, taken: DataFrame, key: bytes) -> DataFrame:
    """Add `person_id` to clusters that need a new id, never one in `taken` or given twice.

    In:  `new` [cluster_id, min_token, ...], `taken` [person_id] (ids that may not be issued again).
    Out: `new` plus person_id. The first derivation is kept unless it is taken or another cluster of
    the run derives it too (then the cluster with the smallest min_token keeps it); the others are
    derived again with attempt 1, 2, ... on the driver, where only those few rows are collected.
    """
    new = new.withColumn("person_id", derive_person_id(F.col("min_token"), key=key))
    twins = Window.partitionBy("person_id").orderBy("min_token")
    clashing = (
        new.join(taken, "person_id", "left_semi")
        .select("cluster_id", "min_token")
        .unionByName(
            new.withColumn("_twin", F.row_number().over(twins))
            .where(F.col("_twin") > 1)
            .select("cluster_id", "min_token")
        )
        .distinct()
    )
    pending = sorted((row.min_token, row.cluster_id) for row in clashing.collect())
    if not pending:
        return new

    spark = new.sparkSession
    # Every id of this run's first derivation counts as taken: a retry must not land on one of them.
    unavailable = taken.unionByName(new.select("person_id"))
    fixed: dict[str, str] = {}
    chosen: set[str] = set()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        candidates = spark.createDataFrame(pending, "min_token STRING, cluster_id STRING").withColumn(
            "person_id", derive_person_id(F.col("min_token"), key=key, attempt=attempt)
        )
        rows = sorted(candidates.collect(), key=lambda row: row.min_token)
        hit = {
            row.person_id
            for row in unavailable.join(
                F.broadcast(candidates.select("person_id")), "person_id", "left_semi"
            ).collect()
        }
        pending = []
        for row in rows:
            if row.person_id in hit or row.person_id in chosen:
                pending.append((row.min_token, row.cluster_id))
            else:
                fixed[row.cluster_id] = row.person_id
                chosen.add(row.person_id)
        if not pending:
            break
    else:
        raise RuntimeError(
            f"{len(pending)} clusters (e.g. cluster {pending[0][1]}) still derive an issued person id "
            f"after {MAX_ATTEMPTS} attempts: check that the issued-id table holds only issued ids"
        )
    fixes = spark.createDataFrame(list(fixed.items()), "cluster_id STRING, fixed_id STRING")
    return (
        new.join(F.broadcast(fixes), "cluster_id", "left")
        .withColumn("person_id", F.coalesce("fixed_id", "person_id"))
        .drop("fixed_id")
    )


def id_events_summary(history: DataFrame) -> dict[str, int]:
    """Number of history events of each kind (every known kind, 0 when absent), for the run log.

    In: the history of `assign_person_ids` [.., event, ..]. Collects one row per event kind.
    """
    counts = dict.fromkeys(EVENTS, 0)
    for row in history.groupBy("event").count().collect():
        counts[row["event"]] = row["count"]
    return counts


def _first(df: DataFrame, *, by: str, order: list[Column]) -> DataFrame:
    """The first row of each `by` group in `order` (one row per group, ties settled by `order`)."""
    window = Window.partitionBy(by).orderBy(*order)
    return df.withColumn("_n", F.row_number().over(window)).where(F.col("_n") == 1).drop("_n")
