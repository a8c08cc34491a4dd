"""After the clusters and their guards, with `attach_unique_names` (lakehouse/identity/attach.py):
joins of two clusters that no pairwise score can weigh, each when the two are each other's only such
partner.

- `join_near_misses`: two clusters whose best pair scored just below the threshold, when each is the
  other's only such near miss and they do not both carry SSNs.
- `join_renamed`: one person under two surnames (a marriage, a hyphenated name) whose records share
  no SSN: two clusters with the same first name and birth date, no surname in common, and a county
  in common.

Neither joins two clusters that each hold a record of one source keyed by a permanent person id
(guards.PERSON_KEYED_SOURCES: two CINs are two people). Both read `linkage_input` and rebuild
`clusters` on an engine (lakehouse/identity/engine.py: DuckDB or Spark; a DuckDB connection is taken
as DuckDB's), and record each join in `pairs` (`record_joins`: method 'near_miss' or 'renamed').
"""

from __future__ import annotations

from datetime import date
from typing import Any

from lakehouse.identity.engine import as_engine
from lakehouse.identity.guards import (
    WAGE_SOURCES,
    birth_dates_related_sql,
    keyed_sources_sql,
    no_ssn_wages_sql,
    sql_list,
)
from lakehouse.identity.pair_guards import born_by

# The youngest age (years) at which a surname changes by marriage.
ADULT_AGE = 18


def join_near_misses(con: Any, *, floor: float, max_cluster_size: int) -> int:
    """Join two clusters that a pair of their records links with a probability in [`floor`, the
    threshold) when each is the other's only such partner. The typical case is one noise too many
    under a common name: a school record and a benefit record of one person, one digit apart in
    the birth date or with a nickname, where the name's term frequency keeps the score just under
    the threshold although no other record comes near either of them. The pair's two birth dates
    must be one person's (`birth_dates_related`: equal or one typo apart), which keeps a parent and
    a child of one name apart however close their names are. Left alone: a cluster with a
    near miss to two or more clusters (the score cannot tell which), two clusters that both carry
    SSNs (an SSN would have linked them, or tells them apart), and a join that would make a cluster
    larger than `max_cluster_size`. Counties do not decide it: people work outside the county they
    live in and move, and the pair's score already weighs what its records hold.

    A wage record carries no birth date; for a cluster of wage records only, the pair's two SSNs
    stand in for it: a near miss whose SSNs differ by a typo (the same first five or last four
    digits, or the same digits in another order: the model's partial levels, the guards' related
    SSNs) joins although both clusters carry SSNs. An employer's mistyped SSN, with a nickname or a
    typo in the name, is what keeps such a pair under the threshold; employers' SSN errors are common
    enough that the Social Security Administration keeps the wage reports it cannot match to a name
    and number in a suspense file of millions of items a year. Returns how many joins were made."""
    db = as_engine(con)
    related = birth_dates_related_sql("CAST(l.birth_date AS VARCHAR)", "CAST(r.birth_date AS VARCHAR)")
    wages = sql_list(WAGE_SOURCES)
    ssn_typo = f"""((l.source IN ({wages}) AND l.birth_date IS NULL)
                   OR (r.source IN ({wages}) AND r.birth_date IS NULL))
              AND l.ssn_token <> r.ssn_token
              AND (l.ssn_first5_token = r.ssn_first5_token OR l.ssn_last4_token = r.ssn_last4_token
                   OR l.ssn_sorted_token = r.ssn_sorted_token)"""
    db.create(
        "near_misses",
        f"""WITH near AS (
            SELECT least(a.cluster_id, b.cluster_id) AS a_id, greatest(a.cluster_id, b.cluster_id) AS b_id,
                NOT bool_or({related}) AS via_ssn
            FROM pairs p
            JOIN clusters a ON a.record_token = p.record_token_l
            JOIN clusters b ON b.record_token = p.record_token_r
            JOIN linkage_input l ON l.record_token = p.record_token_l
            JOIN linkage_input r ON r.record_token = p.record_token_r
            WHERE p.method = 'below_threshold' AND p.match_probability >= {float(floor)}
              AND a.cluster_id <> b.cluster_id
              AND ({related} OR coalesce({ssn_typo}, FALSE))
            GROUP BY ALL),
        partners AS (
            SELECT id, count(*) AS n FROM (SELECT a_id AS id FROM near UNION ALL SELECT b_id FROM near)
            GROUP BY id),
        involved AS (
            SELECT c.cluster_id, count(*) AS records, min(c.record_token) AS token,
                count(i.ssn_token) > 0 AS has_ssn,
                list_distinct(flatten(list(coalesce(i.counties, [])))) AS counties,
                {keyed_sources_sql("i")} AS keyed_sources,
                bool_or({no_ssn_wages_sql("i")}) AS no_ssn_wages,
                bool_and(coalesce(i.source IN ({wages}), FALSE)) AS wages_only
            FROM clusters c JOIN linkage_input i USING (record_token)
            WHERE c.cluster_id IN (SELECT id FROM partners WHERE n = 1)
            GROUP BY c.cluster_id)
        SELECT n.b_id AS weak_id, n.a_id AS strong_id, y.token AS weak_token, x.token AS strong_token
        FROM near n
        JOIN involved x ON x.cluster_id = n.a_id
        JOIN involved y ON y.cluster_id = n.b_id
        WHERE (NOT (x.has_ssn AND y.has_ssn) OR (n.via_ssn AND (x.wages_only OR y.wages_only)))
          AND x.records + y.records <= {int(max_cluster_size)}
          AND NOT (x.has_ssn AND y.no_ssn_wages) AND NOT (y.has_ssn AND x.no_ssn_wages)
          AND array_length(array_intersect(x.keyed_sources, y.keyed_sources)) = 0""",
    )
    return record_joins(con, "near_misses", "near_miss")


def join_renamed(con: Any, *, max_cluster_size: int, as_of: date | None = None) -> int:
    """Join pairs of clusters that are one person under two surnames. A married name keeps the first
    name and the birth date and drops the surname, so the model, which weighs each field on its own,
    scores such a pair below the threshold unless an SSN links it. Two clusters join when:
    - a record of each has the same first name and the same full birth date, and no surname of one
      is a surname of the other (same surname: the model's call, not this rule's);
    - that birth date is at least ADULT_AGE years before `as_of` (the run date): a child's surname
      does not change by marriage (California's minimum marriage age without a court order is 18),
      and two children of one first name and birth date are two children;
    - they do not both carry SSNs (two SSNs would have linked them or tell them apart);
    - neither names the person male: men rarely take a spouse's surname (surveys of married couples
      find about 5 in 100 men against about 4 in 5 women), too rarely for a first name and a birth
      date to outweigh;
    - they name a county in common (a school, a benefit, a service, an employer: `counties`): a
      first name and a birth date are too common statewide to join on alone, and most adults stay
      in their county from one year to the next (a few in a hundred move to another county a year),
      so a place in common is what makes the pair one person; one who moved before the name
      changed stays in two clusters;
    - each has no other cluster that meets these conditions: a first name and a birth date are
      rare together, but not unique in a state, and a tie is left alone;
    - together they stay within `max_cluster_size`.
    Returns how many joins were made."""
    db = as_engine(con)
    db.create(
        "renamed_identity",
        f"""SELECT c.cluster_id, count(*) AS records, min(c.record_token) AS token,
            count(i.ssn_token) > 0 AS has_ssn, {keyed_sources_sql("i")} AS keyed_sources,
            bool_or({no_ssn_wages_sql("i")}) AS no_ssn_wages,
            coalesce(list(DISTINCT i.last_name) FILTER (WHERE i.last_name IS NOT NULL), []) AS surnames,
            coalesce(list(DISTINCT i.gender) FILTER (WHERE i.gender IS NOT NULL), []) AS genders,
            list_distinct(flatten(list(coalesce(i.counties, [])))) AS counties
        FROM clusters c JOIN linkage_input i USING (record_token) GROUP BY c.cluster_id""",
    )
    adult = f" AND i.birth_date <= {born_by('NULL', as_of, years=ADULT_AGE)}" if as_of else ""
    db.create(
        "renamed",
        f"""WITH keyed AS (
            SELECT DISTINCT c.cluster_id, i.first_name, i.birth_date
            FROM clusters c JOIN linkage_input i USING (record_token)
            WHERE i.first_name IS NOT NULL AND i.birth_date IS NOT NULL{adult}),
        candidates AS (
            SELECT DISTINCT a.cluster_id AS a_id, b.cluster_id AS b_id
            FROM keyed a JOIN keyed b
              ON a.first_name = b.first_name AND a.birth_date = b.birth_date AND a.cluster_id < b.cluster_id
            JOIN renamed_identity x ON x.cluster_id = a.cluster_id
            JOIN renamed_identity y ON y.cluster_id = b.cluster_id
            WHERE array_length(array_intersect(x.surnames, y.surnames)) = 0
              AND NOT (x.has_ssn AND y.has_ssn)
              AND NOT (x.has_ssn AND y.no_ssn_wages) AND NOT (y.has_ssn AND x.no_ssn_wages)
              AND array_length(array_intersect(x.keyed_sources, y.keyed_sources)) = 0
              AND NOT list_contains(x.genders, 'M') AND NOT list_contains(y.genders, 'M')
              AND array_length(array_intersect(x.counties, y.counties)) > 0
              AND x.records + y.records <= {int(max_cluster_size)}),
        partners AS (
            SELECT id, count(*) AS n FROM (SELECT a_id AS id FROM candidates UNION ALL
                                           SELECT b_id FROM candidates) GROUP BY id)
        SELECT c.b_id AS weak_id, c.a_id AS strong_id, y.token AS weak_token, x.token AS strong_token
        FROM candidates c
        JOIN partners pa ON pa.id = c.a_id AND pa.n = 1
        JOIN partners pb ON pb.id = c.b_id AND pb.n = 1
        JOIN renamed_identity x ON x.cluster_id = c.a_id
        JOIN renamed_identity y ON y.cluster_id = c.b_id""",
    )
    return record_joins(con, "renamed", "renamed")


def record_joins(con: Any, table: str, method: str) -> int:
    """Apply the joins in `table` (weak_id, strong_id, weak_token, strong_token): the weak cluster
    takes the strong one's id, and the pair of their tokens is recorded in `pairs` as `method`."""
    db = as_engine(con)
    joined = db.one(f"SELECT count(*) FROM {table}")[0]
    if joined:
        db.create(
            "clusters",
            f"""SELECT c.record_token, coalesce(j.strong_id, c.cluster_id) AS cluster_id
            FROM clusters c LEFT JOIN {table} j ON c.cluster_id = j.weak_id""",
        )
        db.create(
            "pairs",
            f"""SELECT p.* FROM pairs p LEFT JOIN {table} j
              ON p.record_token_l = least(j.weak_token, j.strong_token)
             AND p.record_token_r = greatest(j.weak_token, j.strong_token)
            WHERE j.weak_token IS NULL
            UNION ALL
            SELECT least(weak_token, strong_token), greatest(weak_token, strong_token),
                CAST(NULL AS DOUBLE), '{method}' FROM {table}""",
        )
    return int(joined)
