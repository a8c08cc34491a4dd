"""Guards on the scored pairs, before clustering (lakehouse/identity/guards.py guards the clusters):
a scored match that the records rule out is turned into a non-match, however well the names agree.

- `drop_too_young_for_wages`: a wage record cannot be a child's.
- `drop_ssn_conflicts`: two SSNs with nothing in common are two people's.

Both read `linkage_input` and rebuild `pairs` on an engine (lakehouse/identity/engine.py: DuckDB or
Spark; a DuckDB connection is taken as DuckDB's).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from lakehouse.identity.engine import as_engine
from lakehouse.identity.guards import WAGE_SOURCES, sql_list

# A worker was of working age (MIN_WORKING_AGE, California's youngest with a work permit).
MIN_WORKING_AGE = 14


def born_by(wages_from: str, as_of: date | None, *, years: int = MIN_WORKING_AGE) -> str:
    """SQL: the latest birth date of someone who could have earned wages by `wages_from` (a SQL
    expression: a wage record's or cluster's first quarter, 'yyyy-MM-dd'), or, where that is null,
    by `as_of` (the run date; the data is no newer). NULL when neither is known: anyone could.
    `years`: an age other than MIN_WORKING_AGE."""
    limit = f"CAST({wages_from} AS DATE)"
    if as_of is not None:
        limit = f"coalesce({limit}, DATE '{as_of.isoformat()}')"
    return f"strftime({limit} - INTERVAL {int(years)} YEAR, '%Y-%m-%d')"


def drop_too_young_for_wages(con: Any, *, as_of: date | None) -> int:
    """Turn scored matches (table `pairs`, records in `linkage_input`) of a wage record with a record
    of someone born less than MIN_WORKING_AGE years before the wages (`wages_from`, else `as_of`) into
    non-matches: a name-only pair can score high on a rare name, and a child of that name had no
    wages then. Returns how many."""
    wages = sql_list(WAGE_SOURCES)
    young = f"""SELECT p.record_token_l, p.record_token_r FROM pairs p
        JOIN linkage_input l ON l.record_token = p.record_token_l
        JOIN linkage_input r ON r.record_token = p.record_token_r
        WHERE p.method = 'probabilistic'
          AND ((l.source IN ({wages}) AND r.birth_date > {born_by("l.wages_from", as_of)})
               OR (r.source IN ({wages}) AND l.birth_date > {born_by("r.wages_from", as_of)}))"""
    return _demote(con, young)


def drop_ssn_conflicts(con: Any) -> int:
    """Turn scored matches (table `pairs`, records in `linkage_input`) of two records whose SSNs have
    nothing in common into non-matches. A mistyped SSN keeps most of its digits: one wrong digit
    leaves the first five or the last four, two digits swapped leave the same digits in another
    order (`ssn_sorted_token`). Two SSNs that share none of these are two people's, however alike
    their names are: two workers named JESSICA M REYES at two employers, whose wage records carry
    nothing else, can score above the threshold on the name. Deterministic pairs are left alone.
    Returns how many."""
    conflicts = """SELECT p.record_token_l, p.record_token_r FROM pairs p
        JOIN linkage_input l ON l.record_token = p.record_token_l
        JOIN linkage_input r ON r.record_token = p.record_token_r
        WHERE p.method = 'probabilistic' AND l.ssn_token <> r.ssn_token
          AND l.ssn_first5_token IS DISTINCT FROM r.ssn_first5_token
          AND l.ssn_last4_token IS DISTINCT FROM r.ssn_last4_token
          AND l.ssn_sorted_token IS DISTINCT FROM r.ssn_sorted_token"""
    return _demote(con, conflicts)


def _demote(con: Any, matches: str) -> int:
    """Turn the pairs that the query `matches` selects (record_token_l, record_token_r) into
    non-matches ('below_threshold'); the query runs once. Returns how many."""
    db = as_engine(con)
    db.create("demoted", matches)
    db.create(
        "pairs",
        """SELECT p.record_token_l, p.record_token_r, p.match_probability,
            CASE WHEN d.record_token_l IS NULL THEN p.method ELSE 'below_threshold' END AS method
        FROM pairs p LEFT JOIN demoted d
          ON p.record_token_l = d.record_token_l AND p.record_token_r = d.record_token_r""",
    )
    return int(db.one("SELECT count(*) FROM demoted")[0])
