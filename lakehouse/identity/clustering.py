"""Clusters from the matched pairs, on either engine (lakehouse/identity/engine.py): Splink's
connected components on the backend's own database, then the chaining guards
(lakehouse/identity/guards.py) on the clusters that may be suspect.

Only suspect clusters are split, each on its own: on DuckDB their members, links and facts are read
into Python; on Spark each suspect cluster is a group of a cogrouped pandas function, so the work
stays on the executors and only the guards' report (counts and the links left out) comes back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lakehouse.identity.engine import DuckEngine, Engine, SparkEngine
from lakehouse.identity.guards import (
    PERSON_KEYED_SOURCES,
    Edge,
    Identity,
    apply_guards,
    fact_sql,
    suspect_clusters_sql,
)

GUARDED_SCHEMA = (
    "kind STRING, record_token STRING, record_token_r STRING, cluster_id STRING, "
    "match_probability DOUBLE, records BIGINT"
)


def cluster(
    db: Engine, db_api: Any, max_cluster_size: int, keyed: tuple[str, ...] = PERSON_KEYED_SOURCES
) -> dict:
    """Connected components of the pairs in `pairs` that are not 'below_threshold' (Splink's, on
    `db_api`, the backend of `db`), into table `clusters` [record_token, cluster_id]; then the
    chaining guards (`keyed`: the sources that hold a person once). Returns the guards' report."""
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    db.create(
        "matched",
        "SELECT record_token_l, record_token_r, match_probability, method "
        "FROM pairs WHERE method <> 'below_threshold'",
    )
    db.create("cluster_nodes", "SELECT record_token FROM linkage_input")
    if isinstance(db, SparkEngine):
        from lakehouse.identity.spark_backend import register_input

        nodes = register_input(db_api, db.frame("cluster_nodes"), "c2c_cluster_nodes")
        edges = register_input(db_api, db.frame("matched"), "c2c_cluster_edges")
    else:
        nodes = db_api.register("cluster_nodes", dataset_display_name="cluster_nodes")
        edges = db_api.register("matched", dataset_display_name="cluster_edges")
    result = cluster_pairwise_predictions_at_threshold(nodes, edges, db_api, "record_token")
    if isinstance(db, SparkEngine):
        db.put("clusters", result.as_spark_dataframe().select("record_token", "cluster_id"))
    else:
        db.create("clusters", f"SELECT record_token, cluster_id FROM {result.physical_name}")
    db.create("suspect", suspect_clusters_sql("clusters", "linkage_input", max_cluster_size, keyed))
    if isinstance(db, SparkEngine):
        return _guard_on_spark(db, max_cluster_size, keyed)
    return _guard_in_duckdb(db, max_cluster_size, keyed)


def _move(db: Engine) -> None:
    """Rebuild `clusters` with the new cluster ids of table `moved` [record_token, cluster_id]."""
    db.create(
        "clusters",
        "SELECT c.record_token, coalesce(m.cluster_id, c.cluster_id) AS cluster_id FROM clusters c "
        "LEFT JOIN moved m ON m.record_token = c.record_token",
    )


def _suspect_members_sql(keyed: Iterable[str]) -> tuple[str, str]:
    """SQL for the suspect clusters' records with their facts, and for their links."""
    facts = ", ".join(f"{sql} AS fact_{i}" for i, sql in enumerate(fact_sql(tuple(keyed))))
    members = (
        f"SELECT c.cluster_id, r.record_token, {facts} FROM linkage_input r "
        "JOIN clusters c ON c.record_token = r.record_token JOIN suspect s ON s.cluster_id = c.cluster_id"
    )
    links = (
        "SELECT c.cluster_id, m.record_token_l, m.record_token_r, m.match_probability, m.method "
        "FROM matched m JOIN clusters c ON m.record_token_l = c.record_token "
        "JOIN suspect s ON s.cluster_id = c.cluster_id"
    )
    return members, links


def _guard_in_duckdb(db: DuckEngine, max_cluster_size: int, keyed: tuple[str, ...]) -> dict:
    members_sql, links_sql = _suspect_members_sql(keyed)
    members = db.rows(members_sql)
    guard: dict = {"suspect_clusters": 0, "links_broken": [], "unresolved": []}
    if not members:
        return guard
    moved, guard = apply_guards(
        [(token, cluster_id) for cluster_id, token, *_ in members],
        [Edge(*link[1:]) for link in db.rows(links_sql)],
        {token: Identity(*facts) for _, token, *facts in members},
        max_size=max_cluster_size,
    )
    if moved:
        db.con.execute("CREATE OR REPLACE TABLE moved (record_token VARCHAR, cluster_id VARCHAR)")
        db.con.executemany("INSERT INTO moved VALUES (?, ?)", list(moved.items()))
        _move(db)
    return guard


def _split_groups(max_cluster_size: int):
    """The pandas function of a cogroup of one suspect cluster's records and links: `apply_guards`
    on it, as rows of GUARDED_SCHEMA ('moved', 'suspect', 'broken', 'unresolved')."""

    def split(records: Any, links: Any) -> Any:
        import pandas as pd

        columns = [c.split()[0] for c in GUARDED_SCHEMA.split(", ")]
        if records.empty:
            return pd.DataFrame([], columns=columns)
        facts = [c for c in records.columns if c.startswith("fact_")]
        moved, report = apply_guards(
            list(zip(records["record_token"], records["cluster_id"], strict=True)),
            [
                Edge(left, right, float(p), method)
                for left, right, p, method in zip(
                    links["record_token_l"],
                    links["record_token_r"],
                    links["match_probability"],
                    links["method"],
                    strict=True,
                )
            ],
            {
                row[0]: Identity(*(None if v is None or v != v else v for v in row[1:]))
                for row in records[["record_token", *facts]].itertuples(index=False)
            },
            max_size=max_cluster_size,
        )
        rows = [("moved", token, None, cluster_id, None, None) for token, cluster_id in moved.items()]
        rows += [("suspect", None, None, None, None, report["suspect_clusters"])]
        rows += [
            ("broken", b["record_token_l"], b["record_token_r"], None, b["match_probability"], None)
            for b in report["links_broken"]
        ]
        rows += [
            ("unresolved", None, None, u["cluster_id"], None, u["records"]) for u in report["unresolved"]
        ]
        return pd.DataFrame(rows, columns=columns)

    return split


def _guard_on_spark(db: SparkEngine, max_cluster_size: int, keyed: tuple[str, ...]) -> dict:
    members_sql, links_sql = _suspect_members_sql(keyed)
    db.create("suspect_records", members_sql)  # each its own checkpoint: no self-join to resolve
    db.create("suspect_links", links_sql)
    records, links = db.frame("suspect_records"), db.frame("suspect_links")
    guarded = (
        records.groupBy("cluster_id")
        .cogroup(links.groupBy("cluster_id"))
        .applyInPandas(_split_groups(max_cluster_size), GUARDED_SCHEMA)
    )
    db.put("guarded", guarded)
    db.create("moved", "SELECT record_token, cluster_id FROM guarded WHERE kind = 'moved'")
    if db.one("SELECT count(*) FROM moved")[0]:
        _move(db)
    report = db.rows(
        "SELECT kind, record_token, record_token_r, cluster_id, match_probability, records FROM guarded "
        "WHERE kind <> 'moved' ORDER BY kind, cluster_id, record_token, record_token_r"
    )
    return {
        "suspect_clusters": int(sum(r[5] for r in report if r[0] == "suspect")),
        "links_broken": [
            {"record_token_l": r[1], "record_token_r": r[2], "match_probability": r[4]}
            for r in report
            if r[0] == "broken"
        ],
        "unresolved": [{"cluster_id": r[3], "records": r[5]} for r in report if r[0] == "unresolved"],
    }
