"""Guards against chaining: connected components turn a few wrong links into one giant 'person'.

A cluster is suspect when it is larger than any one person's records can be (`max_cluster_size`),
when it holds two records of a source that keys its records by a permanent person id
(PERSON_KEYED_SOURCES: one person, one record), when it holds a wage record of a worker who had no
SSN and a record with an SSN (WAGE_SOURCES), or when it holds two records whose SSNs and birth
dates both contradict each other, judged at the model's levels (lakehouse/identity/model.py): an
SSN with two digits transposed or with its first five or last four digits in common, and a birth
date with day and month swapped, one digit of the day or of the year wrong or off by one, are one
person's typos, not two identities. A suspect cluster is
rebuilt from its own links, strongest first, skipping any probabilistic link that would join two
parts into a suspect one (deterministic links are always kept): the weakest links between
contradicting identities are the ones left out, wherever they sit in the cluster. What was left
out, and any part that its deterministic links alone make suspect, is reported for clerical review.

The clusters themselves come from the backend (Splink's connected components); only suspect clusters
come to the driver, which at any scale is a small set.

The guards that act on the scored pairs before clustering are in
lakehouse/identity/pair_guards.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple


@dataclass(frozen=True)
class Edge:
    left: str
    right: str
    probability: float
    method: str


# Sources whose record key is a permanent id of the person, so one person has one record there:
# DHCS (CIN, permanent for life, docs/domain.md), DDS (UCI, the consumer's lifelong number), CSAC (the
# applicant's CSAC id, which payments carry too), WIOA (PIRL 100, the unique individual id) and
# the two SEID-keyed educator sources. Not here: sources keyed by a case or an enrollment (CDSS,
# DOR, colleges, early learning) or whose id a person can hold twice in practice (K-12 SSIDs: a
# district that cannot find a transferring student's SSID issues a new one, and CALPADS runs
# multiple-identifier reports to find the pairs).
PERSON_KEYED_SOURCES = ("dhcs", "dds", "csac", "wioa", "ctc", "calpads_staff")

# Wage records (DE 9C). Their SSN field is required: a record without an SSN token reported a number
# that is not an SSN (areas 000, 666, 9xx: an ITIN or a made-up number), i.e. a worker who had no
# SSN, and so is taken as no one whose records carry an SSN. Someone can obtain an SSN later (work
# authorization, naturalization); such a person stays in two clusters, which is the lesser error than
# joining two people of one name.
WAGE_SOURCES = ("edd",)


def sql_list(values: Iterable[str]) -> str:
    """`values` as the inside of a SQL IN list: 'a', 'b'."""
    return ", ".join(f"'{v}'" for v in values)


_KEYED = sql_list(PERSON_KEYED_SOURCES)


class Identity(NamedTuple):
    """What a record says about who it is, as far as the guards compare it (the linkage input's
    columns; birth_date as 'yyyy-MM-dd'). `person_key`: '<source>:<record_token>' for a record of a
    PERSON_KEYED_SOURCES source, else None; `no_ssn_wages`: a WAGE_SOURCES record without an SSN
    (see `FACT_SQL`)."""

    ssn_token: str | None = None
    birth_date: str | None = None
    ssn_first5_token: str | None = None
    ssn_last4_token: str | None = None
    person_key: str | None = None
    no_ssn_wages: bool = False


def person_key_sql(r: str, keyed: Iterable[str] = PERSON_KEYED_SOURCES) -> str:
    """SQL (DuckDB and Spark): a record's `person_key` from the linkage input aliased `r` (`keyed`:
    the sources that hold a person once)."""
    return f"CASE WHEN {r}.source IN ({sql_list(keyed)}) THEN concat({r}.source, ':', {r}.record_token) END"


def keyed_sources_sql(r: str) -> str:
    """SQL (DuckDB) aggregate: the PERSON_KEYED_SOURCES a group of linkage-input records (aliased
    `r`) holds, as a list (empty when none). Two clusters whose lists intersect are two people."""
    return f"coalesce(list(DISTINCT {r}.source) FILTER (WHERE {r}.source IN ({_KEYED})), [])"


def no_ssn_wages_sql(r: str) -> str:
    """SQL (DuckDB and Spark): the linkage-input record aliased `r` is a wage record without an SSN."""
    return f"coalesce({r}.source IN ({sql_list(WAGE_SOURCES)}) AND {r}.ssn_token IS NULL, FALSE)"


def fact_sql(keyed: Iterable[str] = PERSON_KEYED_SOURCES) -> tuple[str, ...]:
    """The Identity of a linkage-input record aliased r, in field order."""
    return (
        "r.ssn_token",
        "r.birth_date",
        "r.ssn_first5_token",
        "r.ssn_last4_token",
        person_key_sql("r", keyed),
        no_ssn_wages_sql("r"),
    )


FACT_SQL = fact_sql()


def suspect_clusters_sql(
    clusters: str, records: str, max_cluster_size: int, keyed: Iterable[str] = PERSON_KEYED_SOURCES
) -> str:
    """SQL (DuckDB and Spark) for the ids of clusters that may be suspect, in `clusters`
    [cluster_id, record_token] joined to `records` [record_token, source, ssn_token, birth_date]:
    too large, with two records of one `keyed` source, with a wage record without an SSN
    and an SSN, or with two records that hold both an SSN and a birth date and differ in both. The
    last test is a superset of `contradicts`, which `apply_guards` then applies to these few
    clusters."""
    return f"""
        SELECT c.cluster_id
        FROM {clusters} AS c JOIN {records} AS r ON c.record_token = r.record_token
        GROUP BY c.cluster_id
        HAVING count(*) > {int(max_cluster_size)}
            OR count(DISTINCT {person_key_sql("r", keyed)})
               > count(DISTINCT CASE WHEN r.source IN ({sql_list(keyed)}) THEN r.source END)
            OR (count(r.ssn_token) > 0 AND max(CASE WHEN {no_ssn_wages_sql("r")} THEN 1 ELSE 0 END) = 1)
            OR (count(DISTINCT CASE WHEN r.birth_date IS NOT NULL THEN r.ssn_token END) > 1
                AND count(DISTINCT CASE WHEN r.ssn_token IS NOT NULL THEN r.birth_date END) > 1)
    """


def ssns_related(a: Identity, b: Identity) -> bool:
    """The same SSN, or one a typo of the other: the model's exact, transposed and partial levels
    (a transposition keeps the first five or the last four digits)."""
    return (
        a.ssn_token == b.ssn_token
        or (a.ssn_first5_token is not None and a.ssn_first5_token == b.ssn_first5_token)
        or (a.ssn_last4_token is not None and a.ssn_last4_token == b.ssn_last4_token)
    )


def _one_slip(x: str, y: str) -> bool:
    """Two numbers of equal length that differ in exactly one digit, or by one."""
    return sum(p != q for p, q in zip(x, y, strict=True)) == 1 or abs(int(x) - int(y)) == 1


def birth_dates_related(a: str, b: str) -> bool:
    """The same birth date, or one a typo of the other: the model's levels (day and month swapped;
    same year and month with one slip in the day; same day and month with one slip in the year or
    the year off by ten, a decade keyed wrong: 1997 and 2007)."""
    if a == b:
        return True
    (ya, ma, da), (yb, mb, db) = a.split("-"), b.split("-")
    if ya == yb and ma == db and da == mb:
        return True
    if ya == yb and ma == mb:
        return _one_slip(da, db)
    return ma == mb and da == db and (_one_slip(ya, yb) or abs(int(ya) - int(yb)) == 10)


def birth_dates_related_sql(a: str, b: str) -> str:
    """`birth_dates_related` as SQL (DuckDB and Spark) on two 'yyyy-MM-dd' strings; false when either
    is null."""

    def part(x: str, start: int, length: int) -> str:
        return f"substr({x}, {start}, {length})"

    def one_slip(start: int, length: int) -> str:
        x, y = part(a, start, length), part(b, start, length)
        digits = " + ".join(
            f"CASE WHEN substr({a}, {i}, 1) <> substr({b}, {i}, 1) THEN 1 ELSE 0 END"
            for i in range(start, start + length)
        )
        return f"(({digits}) = 1 OR abs(CAST({x} AS INT) - CAST({y} AS INT)) = 1)"

    year, month, day = (0, 4), (5, 2), (8, 2)
    same = lambda f: f"{part(a, f[0] + 1, f[1])} = {part(b, f[0] + 1, f[1])}"  # noqa: E731
    swapped = f"{part(a, 6, 2)} = {part(b, 9, 2)} AND {part(a, 9, 2)} = {part(b, 6, 2)}"
    return f"""coalesce({a} = {b}
        OR ({same(year)} AND {swapped})
        OR ({same(year)} AND {same(month)} AND {one_slip(9, 2)})
        OR ({same(month)} AND {same(day)} AND ({one_slip(1, 4)}
            OR abs(CAST({part(a, 1, 4)} AS INT) - CAST({part(b, 1, 4)} AS INT)) = 10)), FALSE)"""


def _same_keyed_source(a: Identity, b: Identity) -> bool:
    """Two records of one PERSON_KEYED_SOURCES source: two people."""
    if a.person_key is None or b.person_key is None or a.person_key == b.person_key:
        return False
    return a.person_key.split(":", 1)[0] == b.person_key.split(":", 1)[0]


def contradicts(a: Identity, b: Identity) -> bool:
    """Two strong identities of two different people: two records of one person-keyed source, a wage
    record without an SSN and a record with one, or SSN and birth date on both and neither related."""
    if _same_keyed_source(a, b):
        return True
    if (a.no_ssn_wages and b.ssn_token is not None) or (b.no_ssn_wages and a.ssn_token is not None):
        return True
    if None in (a.ssn_token, a.birth_date, b.ssn_token, b.birth_date):
        return False
    return not ssns_related(a, b) and not birth_dates_related(a.birth_date, b.birth_date)


def _strong(nodes: Iterable[str], facts: dict[str, Identity]) -> set[Identity]:
    found = (facts.get(n) for n in nodes)
    return {
        f
        for f in found
        if f is not None and (f.person_key is not None or f.no_ssn_wages or f.ssn_token is not None)
    }


def _any_contradiction(left: set[Identity], right: set[Identity]) -> bool:
    return any(contradicts(a, b) for a in left for b in right)


def is_suspect(nodes: Iterable[str], facts: dict[str, Identity], max_size: int) -> bool:
    nodes = list(nodes)
    if len(nodes) > max_size:
        return True
    strong = sorted(_strong(nodes, facts), key=lambda f: tuple(v or "" for v in f))
    return any(contradicts(a, b) for i, a in enumerate(strong) for b in strong[i + 1 :])


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


def split_suspect(
    nodes: list[str],
    edges: list[Edge],
    facts: dict[str, Identity],
    *,
    max_size: int,
) -> tuple[list[list[str]], list[Edge], bool]:
    """Rebuild one suspect cluster from its links, strongest first (deterministic ones before all,
    and always taken), skipping a probabilistic link that would join two parts into one larger than
    `max_size` or holding contradicting identities. Returns the parts, the links left out between
    parts, and whether every part is clean."""
    parent = {n: n for n in nodes}
    members = {n: [n] for n in nodes}
    strong = {n: _strong([n], facts) for n in nodes}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    order = sorted(edges, key=lambda e: (e.method != "deterministic", -e.probability, e.left, e.right))
    skipped: list[Edge] = []
    for e in order:
        a, b = find(e.left), find(e.right)
        if a == b:
            continue
        if e.method != "deterministic" and (
            len(members[a]) + len(members[b]) > max_size or _any_contradiction(strong[a], strong[b])
        ):
            skipped.append(e)
            continue
        keep, gone = min(a, b), max(a, b)
        parent[gone] = keep
        members[keep] += members.pop(gone)
        strong[keep] |= strong.pop(gone)
    parts = sorted((sorted(m) for m in members.values()), key=lambda p: p[0])
    broken = [e for e in skipped if find(e.left) != find(e.right)]
    clean = not any(is_suspect(p, facts, max_size) for p in parts)
    return parts, broken, clean


def apply_guards(
    clusters: list[tuple[str, str]],
    edges: list[Edge],
    facts: dict[str, Identity],
    *,
    max_size: int,
) -> tuple[dict[str, str], dict]:
    """Split the clusters given as (record_token, cluster_id) that are suspect, with their edges and
    facts (record_token -> Identity). Returns record_token -> new cluster id (for the records whose
    cluster changed) and a report."""
    members: dict[str, list[str]] = defaultdict(list)
    for token, cluster in clusters:
        members[cluster].append(token)
    by_cluster: dict[str, list[Edge]] = defaultdict(list)
    cluster_of = dict(clusters)
    for e in edges:
        by_cluster[cluster_of[e.left]].append(e)
    moved: dict[str, str] = {}
    report: dict = {"suspect_clusters": 0, "links_broken": [], "unresolved": []}
    for cluster, nodes in sorted(members.items()):
        if not is_suspect(nodes, facts, max_size):
            continue
        report["suspect_clusters"] += 1
        parts, broken, clean = split_suspect(sorted(nodes), by_cluster[cluster], facts, max_size=max_size)
        report["links_broken"] += [
            {"record_token_l": e.left, "record_token_r": e.right, "match_probability": e.probability}
            for e in broken
        ]
        if not clean:
            report["unresolved"].append({"cluster_id": cluster, "records": len(nodes)})
        # The part with the smallest token keeps the cluster id; every other part takes its own
        # smallest token, as every cluster does, which no other cluster has: a token is in one cluster.
        for part in parts[1:]:
            for token in part:
                moved[token] = part[0]
    return moved, report
