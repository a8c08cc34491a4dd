"""After the clusters and their guards: wage records that carry only a name (and the SSN an employer
reported) join the one cluster their name points to (`attach_unique_names`), decided by asking the
data how many clusters a wage cluster could be; the pairs of names it weighs are
lakehouse/identity/name_blocks.py. The joins of two clusters that are each other's only
partner (near misses, married names) are lakehouse/identity/joins.py.

No attachment joins two clusters that each hold a record of one source keyed by a permanent person id
(guards.PERSON_KEYED_SOURCES: two CINs are two people). It reads `linkage_input` and rebuilds
`clusters` on an engine (lakehouse/identity/engine.py: DuckDB or Spark; a DuckDB connection is taken
as DuckDB's), and records each join in `pairs` (method 'unique_name').
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from lakehouse.identity.engine import as_engine
from lakehouse.identity.guards import (
    WAGE_SOURCES,
    keyed_sources_sql,
    sql_list,
)
from lakehouse.identity.joins import record_joins
from lakehouse.identity.name_blocks import NAME_JOINS, SAME_NAME, name_keys
from lakehouse.identity.pair_guards import born_by

# What a (weak, strong) candidate pair of cluster_identity rows, w and s, must meet to count: middle
# initials in common where both have some, a strong cluster born in time for the worker's wages (with
# `as_of`), and no source keyed by a permanent person id on both sides.
ADMISSIBLE = """(array_length(w.initials) = 0 OR array_length(s.initials) = 0
        OR array_length(array_intersect(w.initials, s.initials)) > 0)
    AND NOT coalesce(w.wages_only AND s.earliest_birth > {born}, FALSE)
    AND array_length(array_intersect(w.keyed_sources, s.keyed_sources)) = 0"""


# The oldest age (years) at which a worker's first wages count as a first job after school.
FIRST_JOB_AGE = 19


def attach_unique_names(
    con: Any,
    *,
    max_cluster_size: int,
    as_of: date | None = None,
    county_neighbors: Mapping[str, Sequence[str]] | None = None,
    namesakes_first: bool = True,
) -> int:
    """Attach each unanchored cluster (no birth date and no native id in any record: wage records,
    which carry a name, a middle initial and the SSN the employer reported, nothing more) to the one
    anchored cluster that its name points to, when exactly one does. Reads `linkage_input` and
    `clusters`, rebuilds `clusters`, adds the pairs to `pairs` as method 'unique_name'.

    A pairwise score cannot weigh these: a name alone is evidence in proportion to how few people
    hold it, and the model's term frequencies treat first and last name as independent, while names
    run in communities (the same pair of names is far more common than the product of its parts).
    So the rule asks the data instead: how many clusters could this be?
    - A worker who had no SSN (WAGE_SOURCES records without one) can only be a cluster with
      no SSN anywhere. Candidates have a record with the same first and last name; failing any that
      meets the conditions below, the names may differ as the model's name levels allow (nickname,
      surname in common, close spelling, one slip in a name of four letters or more, first and last
      swapped; looked for among the names that share a blocking key, name_blocks.FIRST_KEYS), and the one
      such candidate, or the one such candidate in a county where the worker's employers are, is
      the worker.
    - A wage cluster with an SSN can only be a cluster with no SSN, and only with the same first and
      last name; one that was asked for an SSN (some of its sources carry SSNs) only when it also
      shares a county with the wage cluster (see below).
    - Middle initials, where both sides have some, must share one; twins differ in first name.
    - Counties are evidence, not a condition: a fifth to a quarter of workers work outside their
      county of residence (ACS commuting flows) and adults move between counties, so a namesake
      who never lived or worked where the worker's employers are can still be the worker. They
      tell apart several candidates (below), and a sole candidate is the worker wherever it is.
    - Where several clusters hold a wage cluster's exact name, the one that has lived or worked in a
      county where the worker's employers are (`counties`: K-12 schools, benefits, services, wages)
      is the worker, when exactly one has. When none has, the one that has lived or worked in a
      county bordering one of the employers' counties (`county_neighbors`) is the worker, when
      exactly one has: most people who work outside their county of residence work in a county
      that borders it (the Census Bureau's county-to-county commuting flows), and most moves
      between counties are short ones, so a bordering county is weaker evidence than the county
      itself but still points to one namesake among several who are all elsewhere. Failing that,
      a wage cluster with an SSN whose wages began inside the data (a year or more after its first
      quarter) joins the one local namesake who was of school-leaving age then (at most
      FIRST_JOB_AGE): a first job, the way most graduates who never reported an SSN to a college or
      a benefit program reach the wage records.
      A worker who had no SSN, whose several local namesakes (exact or, failing any, close) remain,
      joins the one whose records carry the worker's middle initial, when exactly one does: the
      others' initials are unknown, and a known one in common is the evidence that tells them apart.
      A wage cluster with an SSN that no one's exact name matches joins, the same way, the one
      close-named local namesake (a typo or nickname in the K-12 record), if that one was of
      school-leaving age when the wages began. A wage cluster with an SSN may join a namesake from
      sources that do ask for SSNs (whose records happen to lack one) only when that namesake is the
      only one or the only local one.
    - With `as_of`, a wage cluster cannot be someone born less than MIN_WORKING_AGE years before it
      (the earliest birth date a cluster holds counts: one typo must not rule a person out).
    A candidate that is not alone leaves the cluster unattached, and so does an attachment that would
    make a cluster larger than `max_cluster_size` (the chaining guards have run already).

    Names that differ decide only for a worker with no namesake (a candidate of the same name that
    meets the conditions above, ADMISSIBLE), so they are looked for only for those (`close_named`).
    Most wage records spell the worker's name as the other agencies do, so these should be few, and
    the name-key blocks, whose pairs grow faster than the state, are searched only for them. The attachments
    are the same as with every worker's close names weighed (`namesakes_first=False`, which
    benchmarks/attach_blocking.py compares)."""
    db = as_engine(con)
    wages = sql_list(WAGE_SOURCES)
    bordering = _bordering("w.counties", county_neighbors)
    near_county = f"array_length(array_intersect({bordering}, s.counties)) > 0"
    db.create(
        "cluster_identity",
        f"""SELECT c.cluster_id, count(*) AS records, min(c.record_token) AS token,
            bool_or(i.birth_date IS NOT NULL OR i.ssid IS NOT NULL OR i.seid IS NOT NULL
                    OR i.cin IS NOT NULL) AS anchored,
            count(i.ssn_token) > 0 AS has_ssn,
            coalesce(list(DISTINCT i.middle_initial) FILTER (WHERE i.middle_initial IS NOT NULL), [])
                AS initials,
            bool_and(i.source IN ({wages}) AND i.ssn_token IS NULL) AS had_no_ssn,
            bool_and(i.source IN ({wages})) AS wages_only,
            min(i.birth_date) AS earliest_birth, min(i.wages_from) AS wages_from,
            list_distinct(flatten(list(coalesce(i.counties, [])))) AS counties,
            bool_or(a.source IS NOT NULL) AS asked_ssn,
            {keyed_sources_sql("i")} AS keyed_sources
        FROM clusters c JOIN linkage_input i USING (record_token)
        LEFT JOIN (SELECT DISTINCT source FROM linkage_input WHERE ssn_token IS NOT NULL) a
          ON a.source = i.source
        GROUP BY c.cluster_id""",
    )
    # Names of the unanchored clusters and of their possible partners (anchored, no SSN anywhere),
    # each once per cluster: a cluster's records mostly repeat one name (a worker's wage records from
    # every quarter and employer), and every repeat would multiply the pairs of its name block.
    db.create(
        "named",
        """SELECT DISTINCT c.cluster_id, k.anchored, k.had_no_ssn, i.first_name, i.first_roots,
            i.first_soundex, i.last_name, i.last_names, i.last_soundex
        FROM clusters c JOIN linkage_input i USING (record_token) JOIN cluster_identity k USING (cluster_id)
        WHERE i.first_name IS NOT NULL AND i.last_name IS NOT NULL AND NOT (k.anchored AND k.has_ssn)""",
    )
    close = " AND ".join(
        f"""(w.{n} = s.{n} OR array_length(array_intersect(w.{v}, s.{v})) > 0
            OR jaro_winkler_similarity(w.{n}, s.{n}) >= 0.92
            OR (least(length(w.{n}), length(s.{n})) >= 4 AND damerau_levenshtein(w.{n}, s.{n}) <= 1))"""
        for n, v in (("first_name", "first_roots"), ("last_name", "last_names"))
    )
    admissible = ADMISSIBLE.format(born=born_by("w.wages_from", as_of))
    # (unanchored, anchored) cluster pairs of the same name; the workers with a namesake that counts
    # among them; and the names of the others (see the docstring's end)
    db.create(
        "same_pairs",
        f"""SELECT DISTINCT w.cluster_id AS weak_id, s.cluster_id AS strong_id FROM {SAME_NAME}
        WHERE NOT w.anchored AND s.anchored""",
    )
    db.create(
        "namesakes",
        f"""SELECT DISTINCT p.weak_id FROM same_pairs p
        JOIN cluster_identity w ON w.cluster_id = p.weak_id
        JOIN cluster_identity s ON s.cluster_id = p.strong_id
        WHERE {admissible} AND {"TRUE" if namesakes_first else "FALSE"}""",
    )
    db.create(
        "close_named",
        """SELECT n.* FROM named n LEFT JOIN namesakes x ON x.weak_id = n.cluster_id
        WHERE NOT n.anchored AND x.weak_id IS NULL""",
    )
    db.create("name_keys", name_keys())  # see name_blocks.FIRST_KEYS
    # (unanchored, anchored) record pairs: namesakes, and the close names of NAME_JOINS
    name_pairs = " UNION ".join(
        [
            "SELECT weak_id, strong_id, TRUE AS same_name, TRUE AS close_name FROM same_pairs",
            *(
                f"""SELECT w.cluster_id AS weak_id, s.cluster_id AS strong_id,
            w.first_name = s.first_name AND w.last_name = s.last_name AS same_name,
            ({close}) OR (w.first_name = s.last_name AND w.last_name = s.first_name) AS close_name
        FROM {pairs} WHERE NOT w.anchored AND s.anchored"""
                for pairs in NAME_JOINS
            ),
        ]
    )
    # Wages seen from a year after the data's first quarter began there; earlier ones may have begun
    # before the data did.
    db.create(
        "wage_window",
        """SELECT strftime(CAST(min(wages_from) AS DATE) + INTERVAL 1 YEAR, '%Y-%m-%d') AS seen_from
        FROM linkage_input""",
    )
    db.create(
        "attach",
        f"""WITH candidates AS (
            SELECT p.weak_id, p.strong_id, w.had_no_ssn, s.asked_ssn, bool_or(p.same_name) AS same_name,
                array_length(array_intersect(w.counties, s.counties)) > 0 AS same_county,
                array_length(array_intersect(w.initials, s.initials)) > 0 AS same_initial,
                coalesce({near_county}, FALSE) AS near_county,
                coalesce(w.wages_from > (SELECT seen_from FROM wage_window)
                    AND s.earliest_birth > {born_by("w.wages_from", None, years=FIRST_JOB_AGE + 1)},
                    FALSE) AS first_job
            FROM ({name_pairs}) AS p
            JOIN cluster_identity w ON w.cluster_id = p.weak_id
            JOIN cluster_identity s ON s.cluster_id = p.strong_id
            WHERE p.close_name AND {admissible}
            GROUP BY ALL),
        counted AS (
            SELECT weak_id, had_no_ssn, count(*) FILTER (WHERE same_name) AS n_same, count(*) AS n_close,
                min(strong_id) FILTER (WHERE same_name) AS same_id, min(strong_id) AS close_id,
                count(*) FILTER (WHERE same_name AND same_county) AS n_local,
                min(strong_id) FILTER (WHERE same_name AND same_county) AS local_id,
                count(*) FILTER (WHERE same_name AND near_county) AS n_near,
                min(strong_id) FILTER (WHERE same_name AND near_county) AS near_id,
                bool_or(asked_ssn) FILTER (WHERE same_name) AS same_asked_ssn,
                count(*) FILTER (WHERE same_county) AS n_close_local,
                min(strong_id) FILTER (WHERE same_county) AS close_local_id,
                count(*) FILTER (WHERE same_name AND same_county AND first_job) AS n_first_job,
                min(strong_id) FILTER (WHERE same_name AND same_county AND first_job) AS first_job_id,
                count(*) FILTER (WHERE same_county AND first_job) AS n_close_first_job,
                count(*) FILTER (WHERE same_name AND same_county AND same_initial) AS n_local_initial,
                min(strong_id) FILTER (WHERE same_name AND same_county AND same_initial) AS local_initial_id,
                count(*) FILTER (WHERE same_county AND same_initial) AS n_close_local_initial,
                min(strong_id) FILTER (WHERE same_county AND same_initial) AS close_local_initial_id
            FROM candidates GROUP BY ALL),
        chosen AS (
            SELECT weak_id, CASE WHEN n_same = 1 THEN same_id WHEN n_same > 1 AND n_local = 1 THEN local_id
                WHEN n_same > 1 AND n_local = 0 AND n_near = 1 THEN near_id
                WHEN n_same > 1 AND had_no_ssn THEN local_initial_id
                WHEN n_same > 1 THEN first_job_id
                WHEN n_close = 1 THEN close_id WHEN n_close_local = 1 THEN close_local_id
                ELSE close_local_initial_id END AS strong_id
            FROM counted
            WHERE CASE WHEN had_no_ssn THEN n_same = 1 OR (n_same > 1 AND n_local = 1)
                       OR (n_same > 1 AND n_local = 0 AND n_near = 1)
                       OR (n_same > 1 AND n_local > 1 AND n_local_initial = 1)
                       OR (n_same = 0 AND (n_close = 1 OR n_close_local = 1))
                       OR (n_same = 0 AND n_close_local > 1 AND n_close_local_initial = 1)
                       ELSE (n_same = 1 AND (NOT same_asked_ssn OR n_local = 1))
                       OR (n_same > 1 AND n_local = 1)
                       OR (n_same > 1 AND n_local = 0 AND n_near = 1)
                       OR (n_same > 1 AND n_local > 1 AND n_first_job = 1)
                       OR (n_same = 0 AND n_close_local = 1 AND n_close_first_job = 1) END)
        -- every attachment to one cluster counts against its size; a cluster that a worker who had
        -- no SSN joins takes no SSN with it
        SELECT weak_id, strong_id, weak_token, strong_token FROM (
            SELECT c.weak_id, c.strong_id, w.token AS weak_token, s.token AS strong_token,
                s.records + sum(w.records) OVER (PARTITION BY c.strong_id) AS joined_records,
                w.has_ssn AND bool_or(w.had_no_ssn) OVER (PARTITION BY c.strong_id) AS ssn_to_no_ssn
            FROM chosen c JOIN cluster_identity w ON w.cluster_id = c.weak_id
            JOIN cluster_identity s ON s.cluster_id = c.strong_id) AS joined
        WHERE joined_records <= {int(max_cluster_size)} AND NOT ssn_to_no_ssn""",
    )
    for table in ("name_keys", "close_named", "namesakes", "same_pairs"):
        db.drop(table)
    attached = record_joins(con, "attach", "unique_name")
    return int(attached)


def load_county_neighbors(conf_dir: str | Path) -> dict[str, list[str]]:
    """The `county_neighbors` code map of conf/codes (county code -> the space-separated codes of the
    counties bordering it) as lists; empty when the deployment has none."""
    from lakehouse.silver.codes import load_code_maps

    return {
        county: near.split() for county, near in load_code_maps(conf_dir).get("county_neighbors", {}).items()
    }


def _bordering(counties: str, neighbors: Mapping[str, Sequence[str]] | None) -> str:
    """SQL for the counties bordering any of the array `counties` (codes), from `neighbors`; an empty
    array without a map."""
    empty = "CAST([] AS VARCHAR[])"
    if not neighbors:
        return empty
    cases = " ".join(
        f"WHEN '{_code(c)}' THEN [{', '.join(repr(_code(n)) for n in near)}]"
        for c, near in sorted(neighbors.items())
        if near
    )
    return f"list_distinct(flatten(list_transform({counties}, lambda c: CASE c {cases} ELSE {empty} END)))"


def _code(code: str) -> str:
    """A county code as it may appear in SQL: digits and letters only (the map comes from conf/)."""
    if not str(code).isalnum():
        raise ValueError(f"county code {code!r} in county_neighbors is not a plain code")
    return str(code)
