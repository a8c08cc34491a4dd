"""The match threshold read from the fitted model, and the prior fitted to the scores."""

from __future__ import annotations

import math

import duckdb
import pytest

from lakehouse.identity.byo import LinkInputError, spark_date_format
from lakehouse.identity.decide import decide, fit_prior, match_weight


def _table(probabilities: list[float]):
    con = duckdb.connect()
    con.execute("CREATE TABLE pairs (match_probability DOUBLE, match_weight DOUBLE)")
    if probabilities:
        con.executemany("INSERT INTO pairs VALUES (?, ?)", [(p, match_weight(p)) for p in probabilities])
    return con


def _best_by_hand(probabilities: list[float]) -> float:
    total = sum(probabilities)
    best, best_f1 = None, -1.0
    for t in sorted(set(probabilities), reverse=True):
        kept = [p for p in probabilities if p >= t]
        f1 = 2 * sum(kept) / (len(kept) + total)
        if f1 > best_f1:
            best, best_f1 = t, f1
    return best


def test_the_chosen_threshold_has_the_best_expected_f1_and_states_what_it_expects():
    probabilities = [0.999] * 50 + [0.97] * 10 + [0.8] * 10 + [0.55] * 6 + [0.3] * 20 + [0.01] * 300
    con = _table(probabilities)
    decision = decide(con, "pairs")
    assert decision.match_probability == pytest.approx(_best_by_hand(probabilities))
    kept = [p for p in probabilities if p >= decision.match_probability]
    assert decision.expected_precision == pytest.approx(sum(kept) / len(kept))
    assert decision.expected_recall == pytest.approx(sum(kept) / sum(probabilities))
    assert decision.candidate_pairs == len(probabilities)
    assert decision.match_weight == pytest.approx(
        math.log2(decision.match_probability / (1 - decision.match_probability))
    )
    assert decision.chosen_by == "expected F1 of the fitted model"


def test_a_given_threshold_is_kept_and_no_candidates_fall_back_to_as_likely_as_not():
    con = _table([0.9, 0.4])
    given = decide(con, "pairs", threshold=0.95)
    assert (given.match_probability, given.chosen_by, given.expected_precision) == (0.95, "--threshold", None)
    empty = decide(_table([]), "pairs")
    assert (empty.match_probability, empty.expected_recall) == (0.5, None)


def test_the_fitted_prior_is_the_expected_share_of_matches():
    """Scores made under a prior 100 times too small: the fitted prior is the fixed point where it
    equals the expected matches (the sum of the rescored probabilities) over all pairs."""
    total_pairs = 100_000.0
    wrong_prior = 1e-6
    evidence = [20.0] * 300 + [12.0] * 100 + [-5.0] * 5000  # bits each pair's fields give
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE scored (record_token_l VARCHAR, record_token_r VARCHAR, match_weight DOUBLE, "
        "match_probability DOUBLE)"
    )
    rows = [(f"a{i}", f"b{i}", e + match_weight(wrong_prior), 0.0) for i, e in enumerate(evidence)]
    con.executemany("INSERT INTO scored VALUES (?, ?, ?, ?)", rows)
    fitted = fit_prior(con, "scored", prior=wrong_prior, total_pairs=total_pairs)
    expected = con.execute("SELECT sum(match_probability) FROM scored").fetchone()[0]
    assert fitted == pytest.approx(expected / total_pairs, rel=1e-5)
    assert 300 < expected < 400  # the strong pairs, most of the 12-bit ones, none of the rest
    weights = [
        w
        for (w,) in con.execute(
            "SELECT match_weight FROM scored ORDER BY match_weight DESC LIMIT 1"
        ).fetchall()
    ]
    assert weights[0] == pytest.approx(20.0 + match_weight(fitted))


@pytest.mark.parametrize(
    ("fmt", "pattern", "shape"),
    [
        ("%Y%m%d", "yyyyMMdd", "^[0-9]{4}[0-9]{2}[0-9]{2}$"),
        ("%m/%d/%Y", "M/d/yyyy", "^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$"),
        ("%Y-%m-%d", "yyyy-M-d", "^[0-9]{4}\\-[0-9]{1,2}\\-[0-9]{1,2}$"),
        ("%d %b %Y", "d MMM yyyy", "^[0-9]{1,2}\\ [A-Za-z]{3}\\ [0-9]{4}$"),
    ],
)
def test_strftime_birth_date_formats_become_spark_patterns(fmt, pattern, shape):
    assert spark_date_format(fmt) == (pattern, shape)


@pytest.mark.parametrize("fmt", ["%y%m%d", "%Y-%j", "dob"])
def test_birth_date_formats_spark_cannot_read_alike_are_refused(fmt):
    with pytest.raises(LinkInputError, match="--date-format"):
        spark_date_format(fmt)
