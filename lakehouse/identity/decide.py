"""Where to draw the line between a match and a pair to review, read from the fitted model.

A trained Fellegi-Sunter model gives every candidate pair the probability that it is one person. If
those probabilities are right, then among the pairs at or above a threshold the expected number of
true matches is the sum of their probabilities, and the expected number of all matches is the sum
over every candidate pair. So each threshold has an expected precision (the mean probability of the
pairs it keeps) and an expected recall (their sum over the sum of all), and the chosen threshold is
the one with the best expected F1. Nothing in it is a constant of ours: a model that fits its data
draws its own line, and the summary states the expected precision and recall so a reader can see
what the line buys (matches the blocking rules never pair are not in any sum: the expected recall is
that of the candidate pairs).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from lakehouse.identity.engine import as_engine

# When no candidate pair carries any weight (an input with no two similar records), the decision
# falls back to the point where a match is as likely as not.
AS_LIKELY_AS_NOT = 0.5


@dataclass(frozen=True)
class Decision:
    match_probability: float  # pairs at or above it are matches
    match_weight: float  # the same line in bits: log2 of the odds
    chosen_by: str  # "expected F1 of the fitted model", "--threshold", or the fallback
    expected_precision: float | None
    expected_recall: float | None
    expected_f1: float | None
    candidate_pairs: int
    expected_matches: float

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def match_weight(probability: float) -> float:
    """log2 of the odds; capped at +-50 bits (a probability of exactly 0 or 1)."""
    p = min(max(probability, 2.0**-50), 1 - 2.0**-50)
    return math.log2(p / (1 - p))


def fit_prior(con: Any, table: str, *, prior: float, total_pairs: float, max_rounds: int = 1000) -> float:
    """The chance that two records match, fitted to the data: expectation maximisation of the prior
    alone, with the comparisons' m and u held. Each round the prior becomes the expected number of
    matches among the candidate pairs of `table` (match_weight as scored under `prior`)
    divided by `total_pairs`, all pairs of the input; pairs the blocking rules never made are taken as
    non-matches. Rewrites `table`'s match_weight and match_probability under the fitted prior and
    returns it. Unlike a prior from pairs that share an id (which assumes how many matches the ids
    miss), this needs nothing but the scores. `con`: an engine (lakehouse/identity/engine.py) or a
    DuckDB connection; `table`: record_token_l, record_token_r, match_weight, match_probability."""
    db = as_engine(con)
    if total_pairs <= 0 or db.one(f"SELECT count(*) FROM {table}")[0] == 0:
        return prior
    # A pair's own evidence in bits (its weight less the prior's), clamped so 2^x stays finite. The
    # rounds run on how many pairs carry each evidence (a model's levels make few distinct values),
    # read once: one pass over the pairs, however many rounds.
    evidence = f"least(greatest(match_weight - {match_weight(prior)}, -1000), 1000)"
    levels = [(float(e), int(n)) for e, n in db.rows(f"SELECT {evidence}, count(*) FROM {table} GROUP BY 1")]
    fitted = prior
    for _ in range(max_rounds):
        odds = match_weight(fitted)
        expected = sum(n / (1 + 2.0 ** min(-(e + odds), 1000.0)) for e, n in levels)  # 2^1000 is finite
        new = min(AS_LIKELY_AS_NOT, max(expected / total_pairs, 1e-15))
        done = abs(new - fitted) <= 1e-7 * fitted
        fitted = new
        if done:
            break
    weight = f"({evidence} + {match_weight(fitted)})"
    db.create(
        table,
        f"SELECT record_token_l, record_token_r, {weight} AS match_weight, "
        f"1 / (1 + pow(2, -{weight})) AS match_probability FROM {table}",
    )
    return fitted


def expected_at(con: Any, table: str, threshold: float) -> tuple[float | None, float | None, float | None]:
    """Expected precision, recall and F1 of calling the pairs of `table` (match_probability) at or
    above `threshold` matches."""
    kept, kept_sum, total = as_engine(con).one(
        f"SELECT count(*) FILTER (WHERE match_probability >= {threshold}), "
        f"coalesce(sum(match_probability) FILTER (WHERE match_probability >= {threshold}), 0), "
        f"coalesce(sum(match_probability), 0) FROM {table}"
    )
    precision = kept_sum / kept if kept else None
    recall = kept_sum / total if total else None
    f1 = 2 * kept_sum / (kept + total) if kept + total else None
    return precision, recall, f1


def decide(con: Any, table: str, *, threshold: float | None = None) -> Decision:
    """The match threshold for the candidate pairs in `table` (match_probability, every pair the
    blocking rules scored, with no floor; `con` an engine or a DuckDB connection): `threshold` when
    given, else the one with the best expected F1 (see the module docstring). The running sums go
    over the distinct probabilities, which a model of a few comparison levels makes few, so no
    engine sorts every pair in one place."""
    db = as_engine(con)
    pairs, expected = db.one(f"SELECT count(*), coalesce(sum(match_probability), 0) FROM {table}")
    chosen_by = "--threshold"
    if threshold is None:
        best = db.one(
            f"""SELECT match_probability FROM (
                  SELECT match_probability, sum(total) OVER w AS kept_sum, sum(n) OVER w AS kept
                  FROM (SELECT match_probability, sum(match_probability) AS total, count(*) AS n
                        FROM {table} GROUP BY match_probability) AS levels
                  WINDOW w AS (ORDER BY match_probability DESC
                               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS running
                ORDER BY 2 * kept_sum / (kept + {expected}) DESC, match_probability DESC LIMIT 1"""
        )
        if best is None or expected <= 0:
            threshold, chosen_by = AS_LIKELY_AS_NOT, "no candidate pair: a match as likely as not"
        else:
            threshold, chosen_by = float(best[0]), "expected F1 of the fitted model"
    precision, recall, f1 = expected_at(con, table, threshold)
    return Decision(
        match_probability=threshold,
        match_weight=match_weight(threshold),
        chosen_by=chosen_by,
        expected_precision=precision,
        expected_recall=recall,
        expected_f1=f1,
        candidate_pairs=int(pairs),
        expected_matches=float(expected),
    )
