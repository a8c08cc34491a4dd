"""Identity resolution on one Splink backend: deterministic pairs, scored candidate pairs, clusters.

`resolve` takes the linkage input (lakehouse/identity/features.py) and returns, as Spark DataFrames,
the pairs that decided the clusters, the clusters, and the trained model. The backend is a setting:
`spark` (clusters: the data stays in Spark) or `duckdb` (one machine: the input is handed to an
in-process DuckDB through Arrow, which on these machines is ~30x faster than Spark local mode for
the same model). The same model JSON serves both. After the clusters and their guards
(lakehouse/identity/guards.py), wage records that carry nothing but a name join the one cluster
their name points to, and clusters of one person under two surnames join
(lakehouse/identity/attach.py).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from lakehouse.errors import C2CError
from lakehouse.identity import model as linkage_model
from lakehouse.identity.attach import attach_unique_names, join_near_misses, join_renamed
from lakehouse.identity.decide import Decision, decide, fit_prior
from lakehouse.identity.features import LINKAGE_COLUMNS
from lakehouse.identity.guards import (
    PERSON_KEYED_SOURCES,
    Edge,
    Identity,
    apply_guards,
    fact_sql,
    suspect_clusters_sql,
)
from lakehouse.identity.pair_guards import drop_ssn_conflicts, drop_too_young_for_wages
from lakehouse.identity.spark_backend import spark_scorer

__all__ = [
    "LinkageError",
    "Resolution",
    "attach_unique_names",
    "join_renamed",
    "resolve",
    "resolve_in_duckdb",
]

PAIRS_SCHEMA = "record_token_l STRING, record_token_r STRING, match_probability DOUBLE, method STRING"


class LinkageError(C2CError):
    """Identity resolution could not run (a bad model, a backend that is not available)."""


@dataclass
class Resolution:
    # Spark DataFrames from `resolve`, Arrow tables from `resolve_in_duckdb`:
    pairs: Any  # PAIRS_SCHEMA: every pair at or above the review floor, with how it was decided
    clusters: Any  # [record_token, cluster_id]
    model: dict[str, Any]  # the trained Splink settings (JSON-ready)
    guard: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    decision: Decision | None = None  # the match threshold and what the model expects of it


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
) -> Resolution:
    """Link every record of `linkage_input` (LINKAGE_COLUMNS): deterministic pairs are matches; other
    candidate pairs are scored by `model` (trained here on the input when None) and are matches at or
    above `threshold`; matches are clustered by connected components, oversized or conflicting
    clusters are split at their weakest links (lakehouse/identity/guards.py), and clusters of wage
    records that carry only a name join the one cluster their name points to. `as_of` (the run
    date; the data is no newer) rules out people too young to have had wages by then. With
    `near_miss_floor`, two clusters whose best pair scored in [floor, threshold) join when each is
    the other's only such near miss (lakehouse/identity/attach.py). `training`: see
    `resolve_in_duckdb`."""
    _quiet_splink()
    records = linkage_input.select(*LINKAGE_COLUMNS)
    if backend not in ("duckdb", "spark"):
        raise LinkageError(f"identity.backend must be 'duckdb' or 'spark', not {backend!r}")
    on_spark = backend == "spark"
    if on_spark:  # read twice: into DuckDB, and by every blocking rule of Splink on Spark
        records = records.persist()
    try:
        return _resolve_duckdb(
            spark,
            records,
            model,
            threshold,
            review_floor,
            max_cluster_size,
            train_max_pairs,
            as_of,
            near_miss_floor,
            scorer=spark_scorer(spark, records) if on_spark else None,
            training=training,
        )
    finally:
        if on_spark:
            records.unpersist()


def _resolve_duckdb(
    spark: SparkSession,
    records: DataFrame,
    model: dict[str, Any] | None,
    threshold: float,
    review_floor: float,
    max_cluster_size: int,
    train_max_pairs: float,
    as_of: date | None,
    near_miss_floor: float | None = None,
    scorer: Callable[[dict[str, Any], float], Any] | None = None,
    training: str = "labels",
) -> Resolution:
    import duckdb

    t0 = time.perf_counter()
    arrow = records.toArrow()
    con = duckdb.connect()
    con.register("linkage_input_arrow", arrow)
    con.execute("CREATE TABLE linkage_input AS SELECT * FROM linkage_input_arrow")
    to_duckdb = round(time.perf_counter() - t0, 3)
    try:
        result = resolve_in_duckdb(
            con,
            model,
            threshold=threshold,
            review_floor=review_floor,
            max_cluster_size=max_cluster_size,
            train_max_pairs=train_max_pairs,
            as_of=as_of,
            near_miss_floor=near_miss_floor,
            scorer=scorer,
            training=training,
        )
    finally:
        con.close()
    return Resolution(
        pairs=_to_spark(spark, result.pairs, PAIRS_SCHEMA),
        clusters=_to_spark(spark, result.clusters, "record_token STRING, cluster_id STRING"),
        model=result.model,
        guard=result.guard,
        seconds={"to_duckdb": to_duckdb, **result.seconds},
    )


def resolve_in_duckdb(
    con: Any,
    model: dict[str, Any] | None,
    *,
    threshold: float | None,
    review_floor: float,
    max_cluster_size: int,
    train_max_pairs: float,
    as_of: date | None = None,
    near_miss_floor: float | None = None,
    scorer: Callable[[dict[str, Any], float], Any] | None = None,
    training: str = "labels",
    all_candidates: bool = False,
    link_only: bool = False,
) -> Resolution:
    """The DuckDB backend's work on a connection that holds `linkage_input` (LINKAGE_COLUMNS):
    returns a Resolution whose `pairs` and `clusters` are Arrow tables. No Spark here, so the same
    code serves the pipeline, `c2c link` and an analyst's (or a developer's) loop on exported features.
    `scorer` (trained model, floor) -> Arrow pairs scores the candidate pairs elsewhere (Splink on
    Spark: `spark_backend.spark_scorer`) instead of Splink on this connection.

    `training` (when `model` is None): "labels" learns m from the pairs that share an id
    (`linkage_model.train`, the pipeline, whose agencies share ids); "em" learns everything from the
    data by expectation maximisation (`linkage_model.train_em`, a file we know nothing of).
    `threshold` None: the threshold is chosen from the fitted model (lakehouse/identity/decide.py).
    `all_candidates` scores every candidate pair, not only those above the review floor, so that the
    decision's expected precision and recall cover them all. `link_only` keeps the pairs across
    sources only, and clusters hold at most one record of each source (two files, each taken to
    hold a person once: a cluster with two records of one file is split like one with two CINs)."""
    from splink import DuckDBAPI, Linker

    seconds: dict[str, float] = {}
    skipped: list[str] = []
    db_api = DuckDBAPI(con)

    t0 = time.perf_counter()
    con.execute(f"CREATE TABLE certain AS {linkage_model.deterministic_sql('linkage_input')}")
    n = con.execute("SELECT count(*) FROM linkage_input").fetchall()[0][0]
    if link_only:
        _keep_across_sources(con, "certain")
    if training not in ("labels", "em"):
        raise LinkageError(f"training must be 'labels' or 'em', not {training!r}")
    if model is None:
        certain = con.execute("SELECT count(*) FROM certain").fetchall()[0][0]
        if training == "em":
            settings = linkage_model.linkage_settings(
                prior_probability=linkage_model.prior(certain, n), learn_m=True
            )
        else:
            con.execute(f"CREATE TABLE labels AS {linkage_model.labels_sql('linkage_input')}")
            counts = con.execute(linkage_model.measured_m_sql("labels", "linkage_input")).fetchall()
            settings = linkage_model.linkage_settings(
                prior_probability=linkage_model.prior(certain, n), measured=linkage_model.measured_m(counts)
            )
    input_table = db_api.register("linkage_input", dataset_display_name="linkage_input")
    linker = Linker(input_table, model if model is not None else settings, log_level=logging.WARNING)
    if model is None and training == "em":
        skipped = linkage_model.train_em(linker, max_pairs=train_max_pairs)
    elif model is None:
        labels = db_api.register("labels", dataset_display_name="labels")
        skipped = linkage_model.train(linker, labels, max_pairs=train_max_pairs)
    trained = linker.misc.save_model_to_json()
    # Levels that u-sampling never saw get the bound the sample vouches for (so does a registered
    # model trained before this rule): the same data must not give a model that ignores them.
    sampled = min(train_max_pairs, n * (n - 1) / 2)
    unseen = linkage_model.fill_unseen_u(trained, sampled_pairs=sampled)
    if unseen:
        linker = Linker(input_table, trained, log_level=logging.WARNING)
    seconds["train"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    fitting = model is None and training == "em"  # the prior is fitted to every candidate's score
    score_floor = None if all_candidates or fitting or threshold is None else review_floor
    if scorer is None:
        scored = linker.inference.predict(threshold_match_probability=score_floor).physical_name
    else:
        con.register("scored_elsewhere", scorer(trained, score_floor or 0.0))
        scored = "scored_elsewhere"
    con.execute(
        "CREATE TABLE scored AS SELECT record_token_l, record_token_r, match_weight, match_probability "
        f"FROM {scored}"
    )
    if link_only:
        _keep_across_sources(con, "scored")
    if fitting:
        trained["probability_two_random_records_match"] = fit_prior(
            con,
            "scored",
            prior=trained["probability_two_random_records_match"],
            total_pairs=_pairs_of(con, link_only=link_only),
        )
    con.execute(
        """CREATE TABLE candidates AS
        SELECT coalesce(c.record_token_l, s.record_token_l) AS record_token_l,
               coalesce(c.record_token_r, s.record_token_r) AS record_token_r,
               CASE WHEN c.record_token_l IS NOT NULL THEN 1.0 ELSE s.match_probability END
                 AS match_probability,
               c.record_token_l IS NOT NULL AS certain
        FROM certain c FULL OUTER JOIN scored s
          ON c.record_token_l = s.record_token_l AND c.record_token_r = s.record_token_r"""
    )
    decision = decide(con, "candidates", threshold=threshold)
    cut = decision.match_probability
    con.execute(
        f"""CREATE TABLE pairs AS
        SELECT record_token_l, record_token_r, match_probability,
               CASE WHEN certain THEN 'deterministic'
                    WHEN match_probability >= {cut} THEN 'probabilistic'
                    ELSE 'below_threshold' END AS method
        FROM candidates WHERE certain OR match_probability >= {min(review_floor, cut)}"""
    )
    con.execute("DROP TABLE candidates")
    too_young = drop_too_young_for_wages(con, as_of=as_of)
    ssn_conflicts = drop_ssn_conflicts(con)
    seconds["predict"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    keyed = PERSON_KEYED_SOURCES
    if link_only:  # each file holds a person once: two records of one file are two people
        keyed += tuple(r[0] for r in con.execute("SELECT DISTINCT source FROM linkage_input").fetchall())
    clusters, guard = _cluster_duckdb(con, db_api, max_cluster_size, keyed)
    if near_miss_floor is not None:
        guard["joined_near_misses"] = join_near_misses(
            con, floor=near_miss_floor, max_cluster_size=max_cluster_size
        )
    guard["attached_by_unique_name"] = attach_unique_names(
        con, max_cluster_size=max_cluster_size, as_of=as_of
    )
    guard["joined_renamed"] = join_renamed(con, max_cluster_size=max_cluster_size, as_of=as_of)
    clusters = con.sql("SELECT record_token, cluster_id FROM clusters").to_arrow_table()
    seconds["cluster"] = round(time.perf_counter() - t0, 3)

    pairs = con.sql("SELECT * FROM pairs").to_arrow_table()
    return Resolution(
        pairs=pairs,
        clusters=clusters,
        model=json.loads(json.dumps(trained)),
        guard={
            **guard,
            "training_skipped": skipped,
            "u_bounded_unseen_levels": unseen,
            "too_young_for_wages": too_young,
            "ssn_conflicts": ssn_conflicts,
        },
        seconds=seconds,
        decision=decision,
    )


def _pairs_of(con: Any, *, link_only: bool) -> float:
    """How many pairs of records `linkage_input` makes (across sources only, with `link_only`)."""
    n, same_source = con.execute(
        "SELECT sum(n), sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM linkage_input GROUP BY source)"
    ).fetchone()
    every = (n or 0) * ((n or 0) - 1) / 2
    return float(every - (same_source or 0)) if link_only else float(every)


def _keep_across_sources(con: Any, table: str) -> None:
    """Drop the pairs of `table` whose two records come from one source."""
    con.execute(
        f"CREATE OR REPLACE TABLE {table} AS SELECT p.* FROM {table} p "
        "JOIN linkage_input l ON l.record_token = p.record_token_l "
        "JOIN linkage_input r ON r.record_token = p.record_token_r WHERE l.source <> r.source"
    )


def _cluster_duckdb(
    con: Any, db_api: Any, max_cluster_size: int, keyed: tuple[str, ...] = PERSON_KEYED_SOURCES
) -> tuple[Any, dict]:
    """Connected components of the matched pairs (Splink's), then the chaining guards (`keyed`: the
    sources that hold a person once)."""
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    con.execute(
        "CREATE TABLE matched AS SELECT record_token_l, record_token_r, match_probability, method "
        "FROM pairs WHERE method <> 'below_threshold'"
    )
    con.execute("CREATE TABLE cluster_nodes AS SELECT record_token FROM linkage_input")
    nodes = db_api.register("cluster_nodes", dataset_display_name="cluster_nodes")
    edges = db_api.register("matched", dataset_display_name="cluster_edges")
    result = cluster_pairwise_predictions_at_threshold(nodes, edges, db_api, "record_token")
    con.execute(f"CREATE TABLE clusters AS SELECT record_token, cluster_id FROM {result.physical_name}")
    suspect = suspect_clusters_sql("clusters", "linkage_input", max_cluster_size, keyed)
    con.execute(f"CREATE TABLE suspect AS {suspect}")
    members = con.execute(
        "SELECT c.record_token, c.cluster_id FROM clusters c JOIN suspect USING (cluster_id)"
    ).fetchall()
    guard: dict = {"suspect_clusters": 0, "links_broken": [], "unresolved": []}
    if members:
        edges_in = con.execute(
            "SELECT m.* FROM matched m JOIN clusters c ON m.record_token_l = c.record_token "
            "JOIN suspect USING (cluster_id)"
        ).fetchall()
        facts = con.execute(
            f"SELECT r.record_token, {', '.join(fact_sql(keyed))} FROM linkage_input r "
            "JOIN clusters c USING (record_token) JOIN suspect USING (cluster_id)"
        ).fetchall()
        moved, guard = apply_guards(
            [(t, c) for t, c in members],
            [Edge(*e) for e in edges_in],
            {t: Identity(*rest) for t, *rest in facts},
            max_size=max_cluster_size,
        )
        if moved:
            con.execute("CREATE TABLE moved (record_token VARCHAR, cluster_id VARCHAR)")
            con.executemany("INSERT INTO moved VALUES (?, ?)", list(moved.items()))
            con.execute(
                "CREATE OR REPLACE TABLE clusters AS SELECT c.record_token, "
                "coalesce(m.cluster_id, c.cluster_id) AS cluster_id FROM clusters c "
                "LEFT JOIN moved m USING (record_token)"
            )
    return con.sql("SELECT record_token, cluster_id FROM clusters").to_arrow_table(), guard


def _to_spark(spark: SparkSession, table: Any, schema: str) -> DataFrame:
    frame = table.to_pandas() if hasattr(table, "to_pandas") else table
    if len(frame) == 0:
        return spark.createDataFrame([], schema)
    return spark.createDataFrame(frame, schema)


def _quiet_splink() -> None:
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.WARNING)


def match_counts(pairs: DataFrame) -> dict[str, int]:
    """Pairs per method (small: collected)."""
    return {r["method"]: r["count"] for r in pairs.groupBy("method").count().collect()}
