"""Identity resolution on one Splink backend: deterministic pairs, scored candidate pairs, clusters.

`resolve` takes the linkage input (lakehouse/identity/features.py) and returns, as Spark DataFrames,
the pairs that decided the clusters, the clusters, and the trained model. The backend is a setting:
`spark` (clusters: the data stays in Spark) or `duckdb` (one machine: the input is handed to an
in-process DuckDB through Arrow, which on these machines is ~30x faster than Spark local mode for
the same model, TRAPS.md 7). The same model JSON serves both. After the clusters and their guards
(lakehouse/identity/guards.py), wage records that carry nothing but a name join the one cluster
their name points to (`attach_unique_names`).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from lakehouse.errors import C2CError
from lakehouse.identity import model as linkage_model
from lakehouse.identity.features import LINKAGE_COLUMNS
from lakehouse.identity.guards import (
    FACT_COLUMNS,
    WAGE_SOURCES,
    Edge,
    Identity,
    apply_guards,
    born_by,
    drop_too_young_for_wages,
    suspect_clusters_sql,
)

PAIRS_SCHEMA = "record_token_l STRING, record_token_r STRING, match_probability DOUBLE, method STRING"


class LinkageError(C2CError):
    """Identity resolution could not run (a bad model, a backend that is not available)."""


@dataclass
class Resolution:
    pairs: DataFrame  # PAIRS_SCHEMA: every pair at or above the review floor, with how it was decided
    clusters: DataFrame  # [record_token, cluster_id]
    model: dict[str, Any]  # the trained Splink settings (JSON-ready)
    guard: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


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
) -> Resolution:
    """Link every record of `linkage_input` (LINKAGE_COLUMNS): deterministic pairs are matches; other
    candidate pairs are scored by `model` (trained here on the input when None) and are matches at or
    above `threshold`; matches are clustered by connected components, oversized or conflicting
    clusters are split at their weakest links (lakehouse/identity/guards.py), and clusters of wage
    records that carry only a name join the one cluster their name points to. `as_of` (the run
    date; the data is no newer) rules out people too young to have had wages by then."""
    _quiet_splink()
    records = linkage_input.select(*LINKAGE_COLUMNS)
    if backend == "duckdb":
        return _resolve_duckdb(
            spark, records, model, threshold, review_floor, max_cluster_size, train_max_pairs, as_of
        )
    if backend == "spark":
        raise LinkageError("identity.backend 'spark' is not wired yet; use 'duckdb'")
    raise LinkageError(f"identity.backend must be 'duckdb' or 'spark', not {backend!r}")


def _resolve_duckdb(
    spark: SparkSession,
    records: DataFrame,
    model: dict[str, Any] | None,
    threshold: float,
    review_floor: float,
    max_cluster_size: int,
    train_max_pairs: float,
    as_of: date | None,
) -> Resolution:
    import duckdb
    from splink import DuckDBAPI, Linker

    seconds: dict[str, float] = {}
    skipped: list[str] = []
    t0 = time.perf_counter()
    arrow = records.toArrow()
    con = duckdb.connect()
    con.register("linkage_input_arrow", arrow)
    con.execute("CREATE TABLE linkage_input AS SELECT * FROM linkage_input_arrow")
    db_api = DuckDBAPI(con)
    seconds["to_duckdb"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    con.execute(f"CREATE TABLE certain AS {linkage_model.deterministic_sql('linkage_input')}")
    if model is None:
        certain = con.execute("SELECT count(*) FROM certain").fetchall()[0][0]
        n = con.execute("SELECT count(*) FROM linkage_input").fetchall()[0][0]
        con.execute(f"CREATE TABLE labels AS {linkage_model.labels_sql('linkage_input')}")
        counts = con.execute(linkage_model.measured_m_sql("labels", "linkage_input")).fetchall()
        settings = linkage_model.linkage_settings(
            prior_probability=linkage_model.prior(certain, n), measured=linkage_model.measured_m(counts)
        )
    linker = Linker(
        db_api.register("linkage_input", dataset_display_name="linkage_input"),
        model if model is not None else settings,
        log_level=logging.WARNING,
    )
    if model is None:
        labels = db_api.register("labels", dataset_display_name="labels")
        skipped = linkage_model.train(linker, labels, max_pairs=train_max_pairs)
    trained = linker.misc.save_model_to_json()
    seconds["train"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    scored = linker.inference.predict(threshold_match_probability=review_floor)
    con.execute(
        f"CREATE TABLE scored AS SELECT record_token_l, record_token_r, match_probability "
        f"FROM {scored.physical_name}"
    )
    con.execute(
        f"""CREATE TABLE pairs AS
        SELECT coalesce(c.record_token_l, s.record_token_l) AS record_token_l,
               coalesce(c.record_token_r, s.record_token_r) AS record_token_r,
               CASE WHEN c.record_token_l IS NOT NULL THEN 1.0 ELSE s.match_probability END
                 AS match_probability,
               CASE WHEN c.record_token_l IS NOT NULL THEN 'deterministic'
                    WHEN s.match_probability >= {threshold} THEN 'probabilistic'
                    ELSE 'below_threshold' END AS method
        FROM certain c FULL OUTER JOIN scored s
          ON c.record_token_l = s.record_token_l AND c.record_token_r = s.record_token_r"""
    )
    too_young = drop_too_young_for_wages(con, as_of=as_of)
    seconds["predict"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    clusters, guard = _cluster_duckdb(con, db_api, max_cluster_size)
    guard["attached_by_unique_name"] = attach_unique_names(
        con, max_cluster_size=max_cluster_size, as_of=as_of
    )
    clusters = con.sql("SELECT record_token, cluster_id FROM clusters").to_arrow_table()
    seconds["cluster"] = round(time.perf_counter() - t0, 3)

    pairs = con.sql("SELECT * FROM pairs").to_arrow_table()
    con.close()
    return Resolution(
        pairs=_to_spark(spark, pairs, PAIRS_SCHEMA),
        clusters=_to_spark(spark, clusters, "record_token STRING, cluster_id STRING"),
        model=json.loads(json.dumps(trained)),
        guard={**guard, "training_skipped": skipped, "too_young_for_wages": too_young},
        seconds=seconds,
    )


def attach_unique_names(con: Any, *, max_cluster_size: int, as_of: date | None = None) -> int:
    """Attach each unanchored cluster (no birth date and no native id in any record: wage records,
    which carry a name, a middle initial and the SSN the employer reported, nothing more) to the one
    anchored cluster that its name points to, when exactly one does. Reads `linkage_input` and
    `clusters`, updates `clusters`, adds the pairs to `pairs` as method 'unique_name'.

    A pairwise score cannot weigh these: a name alone is evidence in proportion to how few people
    hold it, and the model's term frequencies treat first and last name as independent, while names
    run in communities (the same pair of names is far more common than the product of its parts).
    So the rule asks the data instead: how many clusters could this be?
    - A worker who had no SSN (WAGE_SOURCES records without one) can only be a cluster with
      no SSN anywhere. Candidates have a record with the same first and last name; failing any, the
      names may differ as the model's name levels allow (nickname, surname in common, close
      spelling, one slip in a name of four letters or more, first and last swapped).
    - A wage cluster with an SSN can only be a cluster with no SSN, and only with the same first and
      last name; one that was asked for an SSN (some of its sources carry SSNs) only when it also
      shares a county with the wage cluster (see below).
    - Middle initials, where both sides have some, must share one; twins differ in first name.
    - Where several clusters hold a wage cluster's exact name, the one that has lived or worked in a
      county where the worker's employers are (`counties`: K-12 schools, benefits, services, wages)
      is the worker, when exactly one has. A wage cluster with an SSN may join a namesake from
      sources that do ask for SSNs (whose records happen to lack one) only when that namesake is the
      only one or the only local one.
    - With `as_of`, a wage cluster cannot be someone born less than MIN_WORKING_AGE years before it
      (the earliest birth date a cluster holds counts: one typo must not rule a person out).
    A candidate that is not alone leaves the cluster unattached, and so does an attachment that would
    make a cluster larger than `max_cluster_size` (the chaining guards have run already)."""
    wages = ", ".join(f"'{s}'" for s in WAGE_SOURCES)
    con.execute(
        f"""CREATE OR REPLACE TABLE cluster_identity AS
        SELECT c.cluster_id, count(*) AS records, min(c.record_token) AS token,
            bool_or(i.birth_date IS NOT NULL OR i.ssid IS NOT NULL OR i.seid IS NOT NULL
                    OR i.cin IS NOT NULL) AS anchored,
            count(i.ssn_token) > 0 AS has_ssn,
            coalesce(list(DISTINCT i.middle_initial) FILTER (WHERE i.middle_initial IS NOT NULL), [])
                AS initials,
            bool_and(i.source IN ({wages}) AND i.ssn_token IS NULL) AS had_no_ssn,
            bool_and(i.source IN ({wages})) AS wages_only,
            min(i.birth_date) AS earliest_birth, min(i.wages_from) AS wages_from,
            list_distinct(flatten(list(coalesce(i.counties, [])))) AS counties,
            bool_or(i.source IN (SELECT source FROM linkage_input WHERE ssn_token IS NOT NULL))
                AS asked_ssn
        FROM clusters c JOIN linkage_input i USING (record_token) GROUP BY c.cluster_id"""
    )
    # Names of the unanchored clusters and of their possible partners (anchored, no SSN anywhere).
    con.execute(
        """CREATE OR REPLACE TABLE named AS
        SELECT c.cluster_id, k.anchored, k.had_no_ssn, i.first_name, i.first_roots, i.first_soundex,
            i.last_name, i.last_names, i.last_soundex
        FROM clusters c JOIN linkage_input i USING (record_token) JOIN cluster_identity k USING (cluster_id)
        WHERE i.first_name IS NOT NULL AND i.last_name IS NOT NULL AND NOT (k.anchored AND k.has_ssn)"""
    )
    close = " AND ".join(
        f"""(w.{n} = s.{n} OR len(list_intersect(w.{v}, s.{v})) > 0
            OR jaro_winkler_similarity(w.{n}, s.{n}) >= 0.92
            OR (least(length(w.{n}), length(s.{n})) >= 4 AND damerau_levenshtein(w.{n}, s.{n}) <= 1))"""
        for n, v in (("first_name", "first_roots"), ("last_name", "last_names"))
    )
    # (unanchored, anchored) record pairs: the same name, or (for a worker who had no SSN) a Soundex
    # code in common or the names swapped
    name_pairs = " UNION ".join(
        f"""SELECT w.cluster_id AS weak_id, s.cluster_id AS strong_id,
            w.first_name = s.first_name AND w.last_name = s.last_name AS same_name,
            ({close}) OR (w.first_name = s.last_name AND w.last_name = s.first_name) AS close_name
        FROM named w JOIN named s ON {on} WHERE NOT w.anchored AND s.anchored"""
        for on in ("w.first_name = s.first_name AND w.last_name = s.last_name",
                   "w.had_no_ssn AND w.first_soundex = s.first_soundex",
                   "w.had_no_ssn AND w.last_soundex = s.last_soundex",
                   "w.had_no_ssn AND w.first_name = s.last_name")
    )  # fmt: skip
    con.execute(
        f"""CREATE OR REPLACE TABLE attach AS
        WITH candidates AS (
            SELECT p.weak_id, p.strong_id, w.had_no_ssn, s.asked_ssn, bool_or(p.same_name) AS same_name,
                len(list_intersect(w.counties, s.counties)) > 0 AS same_county
            FROM ({name_pairs}) AS p
            JOIN cluster_identity w ON w.cluster_id = p.weak_id
            JOIN cluster_identity s ON s.cluster_id = p.strong_id
            WHERE p.close_name
              AND (len(w.initials) = 0 OR len(s.initials) = 0
                   OR len(list_intersect(w.initials, s.initials)) > 0)
              AND NOT coalesce(w.wages_only AND s.earliest_birth > {born_by("w.wages_from", as_of)}, FALSE)
            GROUP BY ALL),
        counted AS (
            SELECT weak_id, had_no_ssn, count(*) FILTER (WHERE same_name) AS n_same, count(*) AS n_close,
                min(strong_id) FILTER (WHERE same_name) AS same_id, min(strong_id) AS close_id,
                count(*) FILTER (WHERE same_name AND same_county) AS n_local,
                min(strong_id) FILTER (WHERE same_name AND same_county) AS local_id,
                bool_or(asked_ssn) FILTER (WHERE same_name) AS same_asked_ssn
            FROM candidates GROUP BY ALL),
        chosen AS (
            SELECT weak_id, CASE WHEN n_same = 1 THEN same_id WHEN n_same > 1 THEN local_id
                ELSE close_id END AS strong_id
            FROM counted
            WHERE CASE WHEN had_no_ssn THEN n_same = 1 OR (n_same > 1 AND n_local = 1)
                       OR (n_same = 0 AND n_close = 1)
                       ELSE (n_same = 1 AND (NOT same_asked_ssn OR n_local = 1))
                       OR (n_same > 1 AND n_local = 1) END)
        SELECT c.weak_id, c.strong_id, w.token AS weak_token, s.token AS strong_token
        FROM chosen c JOIN cluster_identity w ON w.cluster_id = c.weak_id
        JOIN cluster_identity s ON s.cluster_id = c.strong_id
        -- every attachment to one cluster counts against its size
        QUALIFY s.records + sum(w.records) OVER (PARTITION BY c.strong_id) <= {int(max_cluster_size)}"""
    )
    attached = con.execute("SELECT count(*) FROM attach").fetchall()[0][0]
    if attached:
        con.execute(
            "UPDATE clusters SET cluster_id = a.strong_id FROM attach a WHERE clusters.cluster_id = a.weak_id"
        )
        con.execute(
            """DELETE FROM pairs USING attach a
            WHERE pairs.record_token_l = least(a.weak_token, a.strong_token)
              AND pairs.record_token_r = greatest(a.weak_token, a.strong_token)"""
        )
        con.execute(
            """INSERT INTO pairs SELECT least(weak_token, strong_token), greatest(weak_token, strong_token),
            NULL, 'unique_name' FROM attach"""
        )
    return int(attached)


def _cluster_duckdb(con: Any, db_api: Any, max_cluster_size: int) -> tuple[Any, dict]:
    """Connected components of the matched pairs (Splink's), then the chaining guards."""
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
    suspect = suspect_clusters_sql("clusters", "linkage_input", max_cluster_size)
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
            f"SELECT r.record_token, {', '.join(f'r.{c}' for c in FACT_COLUMNS)} FROM linkage_input r "
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
