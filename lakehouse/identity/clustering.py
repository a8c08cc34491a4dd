"""Clusters from the matched pairs, on either engine (lakehouse/identity/engine.py): connected
components (Splink's on DuckDB; on Spark our own, `components_on_spark`), then the chaining guards
(lakehouse/identity/guards.py) on the clusters that may be suspect. On both engines a cluster's id is
the smallest record token among its records.

Only suspect clusters are split, each on its own: on DuckDB their members, links and facts are read
into Python; on Spark each suspect cluster is a group of a cogrouped pandas function, so the work
stays on the executors and only the guards' report (counts and the links left out) comes back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lakehouse.errors import C2CError
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
    """Connected components of the pairs in `pairs` that are not 'below_threshold', into table
    `clusters` [record_token, cluster_id]; then the chaining guards (`keyed`: the sources that hold a
    person once). Returns the guards' report. On DuckDB the components are Splink's, on `db_api`;
    on Spark they are `components_on_spark`, whose memory and scratch do not grow with the number
    of iterations. The working tables are dropped at the end."""
    db.create(
        "matched",
        "SELECT record_token_l, record_token_r, match_probability, method "
        "FROM pairs WHERE method <> 'below_threshold'",
    )
    db.create("cluster_nodes", "SELECT record_token FROM linkage_input")
    if isinstance(db, SparkEngine):
        components_on_spark(db, "matched", "cluster_nodes", "clusters")
    else:
        from splink.clustering import cluster_pairwise_predictions_at_threshold

        nodes = db_api.register("cluster_nodes", dataset_display_name="cluster_nodes")
        edges = db_api.register("matched", dataset_display_name="cluster_edges")
        result = cluster_pairwise_predictions_at_threshold(nodes, edges, db_api, "record_token")
        db.create("clusters", f"SELECT record_token, cluster_id FROM {result.physical_name}")
    db.drop("cluster_nodes")
    db.create("suspect", suspect_clusters_sql("clusters", "linkage_input", max_cluster_size, keyed))
    if isinstance(db, SparkEngine):
        guard = _guard_on_spark(db, max_cluster_size, keyed)
    else:
        guard = _guard_in_duckdb(db, max_cluster_size, keyed)
    for table in ("matched", "suspect", "suspect_records", "suspect_links", "guarded", "moved"):
        db.drop(table)
    return guard


# Rounds of `components_on_spark` before it gives up: each round at least halves the longest chain
# of most graphs, and the alternating algorithm needs O(log^2 n) rounds at worst.
MAX_ROUNDS = 200


def components_on_spark(db: SparkEngine, edges: str, nodes: str, out: str) -> int:
    """Connected components of the graph whose edges are table `edges` [record_token_l,
    record_token_r] and whose nodes are table `nodes` [record_token], into table `out`
    [record_token, cluster_id]: every node of `nodes` once, its cluster id the smallest token of
    its component (as Splink's). Returns the number of rounds.

    The alternating algorithm of Kiveris et al. ("Connected Components in MapReduce and Beyond",
    2014): the edges, each kept once as (hi, lo) with hi > lo, are rewritten by a large-star step
    (every node's larger neighbours are linked to the smallest node of its neighbourhood) and a
    small-star step (a node and its smaller neighbours are linked to the smallest of them) until
    every component is a star around its smallest node. Each step is one SELECT whose result the
    engine checkpoints and whose previous version it releases, so the query plan, the memory and
    the scratch space of a round do not depend on the rounds before it: a chain of records that
    takes many rounds costs time, not memory."""
    db.create(
        "cc_edges",
        f"SELECT DISTINCT greatest(record_token_l, record_token_r) AS hi, "
        f"least(record_token_l, record_token_r) AS lo FROM {edges} "
        "WHERE record_token_l <> record_token_r",
    )
    rounds = 0
    while _unsettled(db):
        rounds += 1
        if rounds > MAX_ROUNDS:
            raise C2CError(f"connected components did not settle in {MAX_ROUNDS} rounds")
        db.create(  # large star
            "cc_edges",
            "SELECT DISTINCT e.hi, coalesce(m.lo, e.lo) AS lo FROM cc_edges e "
            "LEFT JOIN (SELECT hi, min(lo) AS lo FROM cc_edges GROUP BY hi) m ON m.hi = e.lo",
        )
        db.create(  # small star
            "cc_edges",
            "WITH m AS (SELECT hi, min(lo) AS lo FROM cc_edges GROUP BY hi) "
            "SELECT hi, lo FROM m UNION "
            "SELECT e.lo AS hi, m.lo FROM cc_edges e JOIN m ON m.hi = e.hi WHERE e.lo <> m.lo",
        )
    db.create(
        out,
        f"SELECT n.record_token, coalesce(e.lo, n.record_token) AS cluster_id "
        f"FROM (SELECT DISTINCT record_token FROM {nodes}) n LEFT JOIN cc_edges e ON e.hi = n.record_token",
    )
    db.drop("cc_edges")
    return rounds


def _unsettled(db: Engine) -> bool:
    """Whether table `cc_edges` is not yet a set of stars, each around its smallest node: some node
    has two smaller neighbours, or is both a centre and a leaf."""
    forks = db.one("SELECT count(*) - count(DISTINCT hi) FROM cc_edges")[0]
    chained = db.one("SELECT count(*) FROM cc_edges WHERE lo IN (SELECT hi FROM cc_edges)")[0]
    return bool(forks or chained)


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
        db.create("moved", "SELECT record_token, cluster_id FROM clusters LIMIT 0")  # their types
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
