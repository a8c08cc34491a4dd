"""Guards against chaining: connected components turn a few wrong links into one giant 'person'.

A cluster is suspect when it is larger than any one person's records can be (`max_cluster_size`) or
when it holds two records whose SSN tokens and birth dates both differ (two strong identities that
contradict each other). A suspect cluster is split at its bridges (links whose removal disconnects
it), weakest first, until no part is suspect; deterministic links are never broken. What was broken,
and any suspect cluster that has no bridge to break, is reported for clerical review.

The clusters themselves come from the backend (Splink's connected components); only suspect clusters
come to the driver, which at any scale is a small set.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Edge:
    left: str
    right: str
    probability: float
    method: str


def suspect_clusters_sql(clusters: str, records: str, max_cluster_size: int) -> str:
    """SQL (DuckDB and Spark) for the ids of suspect clusters in `clusters` [cluster_id, record_token]
    joined to `records` [record_token, ssn_token, birth_date]."""
    return f"""
        SELECT c.cluster_id
        FROM {clusters} AS c JOIN {records} AS r ON c.record_token = r.record_token
        GROUP BY c.cluster_id
        HAVING count(*) > {int(max_cluster_size)}
            OR (count(DISTINCT r.ssn_token) > 1 AND count(DISTINCT r.birth_date) > 1
                AND count(DISTINCT CASE WHEN r.ssn_token IS NOT NULL AND r.birth_date IS NOT NULL
                                        THEN r.ssn_token || '|' || r.birth_date END) > 1)
    """


def is_suspect(nodes: Iterable[str], facts: dict[str, tuple[str | None, str | None]], max_size: int) -> bool:
    nodes = list(nodes)
    if len(nodes) > max_size:
        return True
    identities = {facts.get(n, (None, None)) for n in nodes}
    strong = [(s, b) for s, b in identities if s is not None and b is not None]
    return any(s1 != s2 and b1 != b2 for i, (s1, b1) in enumerate(strong) for s2, b2 in strong[i + 1 :])


def components(nodes: Iterable[str], edges: Iterable[Edge]) -> list[list[str]]:
    parent = {n: n for n in nodes}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for e in edges:
        a, b = find(e.left), find(e.right)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[str, list[str]] = defaultdict(list)
    for n in parent:
        groups[find(n)].append(n)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: g[0])


def bridges(nodes: list[str], edges: list[Edge]) -> list[Edge]:
    """Edges whose removal disconnects their component (Tarjan, iterative: clusters can be deep)."""
    adjacency: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for i, e in enumerate(edges):
        adjacency[e.left].append((e.right, i))
        adjacency[e.right].append((e.left, i))
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    found: list[Edge] = []
    counter = 0
    for root in nodes:
        if root in order:
            continue
        order[root] = low[root] = counter
        counter += 1
        stack = [(root, -1, iter(adjacency[root]))]
        while stack:
            node, via, neighbours = stack[-1]
            advanced = False
            for nxt, idx in neighbours:
                if idx == via:
                    continue
                if nxt in order:
                    low[node] = min(low[node], order[nxt])
                else:
                    order[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append((nxt, idx, iter(adjacency[nxt])))
                    advanced = True
                    break
            if not advanced:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > order[parent]:
                        found.append(edges[via])
    return found


def split_suspect(
    nodes: list[str],
    edges: list[Edge],
    facts: dict[str, tuple[str | None, str | None]],
    *,
    max_size: int,
) -> tuple[list[list[str]], list[Edge], bool]:
    """Split one suspect cluster at its weakest probabilistic bridges until no part is suspect.
    Returns the parts, the edges broken, and whether every part is now clean."""
    live = list(edges)
    broken: list[Edge] = []
    while True:
        parts = components(nodes, live)
        bad = [p for p in parts if is_suspect(p, facts, max_size)]
        if not bad:
            return parts, broken, True
        in_bad = {n for p in bad for n in p}
        candidates = [
            e
            for e in bridges(sorted(in_bad), [e for e in live if e.left in in_bad])
            if e.method != "deterministic"
        ]
        if not candidates:
            return parts, broken, False
        weakest = min(candidates, key=lambda e: (e.probability, e.left, e.right))
        live.remove(weakest)
        broken.append(weakest)


def apply_guards(
    clusters: list[tuple[str, str]],
    edges: list[Edge],
    facts: dict[str, tuple[str | None, str | None]],
    *,
    max_size: int,
) -> tuple[dict[str, str], dict]:
    """Split the suspect clusters given as (record_token, cluster_id) with their edges and facts.
    Returns record_token -> new cluster id (for the records whose cluster changed) and a report."""
    members: dict[str, list[str]] = defaultdict(list)
    for token, cluster in clusters:
        members[cluster].append(token)
    by_cluster: dict[str, list[Edge]] = defaultdict(list)
    cluster_of = dict(clusters)
    for e in edges:
        by_cluster[cluster_of[e.left]].append(e)
    moved: dict[str, str] = {}
    report: dict = {"suspect_clusters": len(members), "links_broken": [], "unresolved": []}
    for cluster, nodes in sorted(members.items()):
        parts, broken, clean = split_suspect(sorted(nodes), by_cluster[cluster], facts, max_size=max_size)
        report["links_broken"] += [
            {"record_token_l": e.left, "record_token_r": e.right, "match_probability": e.probability}
            for e in broken
        ]
        if not clean:
            report["unresolved"].append({"cluster_id": cluster, "records": len(nodes)})
        for part in parts[1:]:  # the part with the smallest token keeps the cluster id
            for token in part:
                moved[token] = f"{cluster}~{part[0]}"
    return moved, report
