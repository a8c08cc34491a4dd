"""The DuckDB tables the post-cluster joins (lakehouse/identity/attach.py) read and update, for tests."""

from __future__ import annotations

from typing import Any


def add_clusters_and_pairs(con: Any, tokens: list[str], clusters: dict[str, str] | None = None) -> None:
    """`clusters`: each token its own cluster unless `clusters` maps it to another; `pairs`: empty."""
    con.execute("CREATE TABLE clusters (record_token VARCHAR, cluster_id VARCHAR)")
    con.executemany("INSERT INTO clusters VALUES (?, ?)", [(t, (clusters or {}).get(t, t)) for t in tokens])
    con.execute(
        "CREATE TABLE pairs (record_token_l VARCHAR, record_token_r VARCHAR, match_probability DOUBLE, "
        "method VARCHAR)"
    )
