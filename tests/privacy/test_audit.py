"""The audit: primary-rule breaks, counts recoverable only by combining equations, and a dense
float-rank oracle that it must agree with on random tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lakehouse.privacy import DisclosureError, MartError, Relation, assert_safe, audit, suppress
from tests.privacy import (
    CYCLE,
    CYCLIC_MEDIANS,
    NOT_PLACED_ARE_EMPLOYED,
    PIPELINE_RELATIONS,
    RETAINED_FOLLOWS_PLACED,
    mart,
    random_censored_mart,
    random_mart,
)

RECOVERABLE = "suppressed count is exactly recoverable from published cells"


def flagged(table: pd.DataFrame, hidden: dict[tuple[str, str], str]) -> pd.DataFrame:
    """`table` with flags set by hand: {(metric, group): which of "dnv" are suppressed}."""
    which = [hidden.get((m, g), "") for m, g in zip(table["metric"], table["group"], strict=True)]
    return table.assign(
        denominator_suppressed=["d" in w for w in which],
        numerator_suppressed=["n" in w for w in which],
        value_suppressed=["v" in w for w in which],
        suppression="",
    )


def test_published_cells_that_break_a_primary_rule():
    table = mart(
        ("placed", "statewide", "All", 250, 133),
        ("placed", "gender", "F", 100, 95),
        ("placed", "gender", "M", 150, 38),
        ("retained_1y", "statewide", "All", 133, 100),
        ("retained_1y", "gender", "F", 95, 97 - 2),
        ("retained_1y", "gender", "M", 38, 5),
        ("wage", "statewide", "All", 60, None),
        ("wage", "gender", "F", 55, None),
        ("wage", "gender", "M", 5, None),
    )
    assert audit(flagged(table, {})) == [
        "placed 2020 gender=F value: published rate has a numerator, denominator or "
        "denominator-minus-numerator below the threshold 11",
        "retained_1y 2020 gender=F value: published rate has a numerator, denominator or "
        "denominator-minus-numerator below the threshold 11",
        "retained_1y 2020 gender=M numerator: published numerator is below the threshold 11",
        "retained_1y 2020 gender=M value: published rate has a numerator, denominator or "
        "denominator-minus-numerator below the threshold 11",
        "wage 2020 gender=M denominator: published denominator is below the threshold 11",
        "wage 2020 gender=M value: published median is over a count below the threshold 11",
    ]


def test_counts_recoverable_only_by_combining_equations():
    # Every equation has two suppressed cells: no single one gives anything away (see the table's note).
    hidden = {
        (m, g): "dv" for m, g in [("a", "F"), ("a", "M"), ("b", "M"), ("b", "X"), ("c", "F"), ("c", "X")]
    }
    problems = audit(flagged(CYCLIC_MEDIANS, hidden), relations=CYCLE)
    assert problems == [
        f"a 2020 gender=F denominator: {RECOVERABLE}",
        f"a 2020 gender=M denominator: {RECOVERABLE}",
        f"b 2020 gender=M denominator: {RECOVERABLE}",
        f"b 2020 gender=X denominator: {RECOVERABLE}",
        f"c 2020 gender=F denominator: {RECOVERABLE}",
        f"c 2020 gender=X denominator: {RECOVERABLE}",
    ]
    # Break the cycle in one place (one more count suppressed) and nothing is recoverable any more.
    assert audit(flagged(CYCLIC_MEDIANS, {**hidden, ("b", "F"): "d"}), relations=CYCLE) == []


RATES_AND_MARGINS = mart(
    ("placed", "statewide", "All", 200, 100),
    ("placed", "gender", "F", 90, 30),
    ("placed", "gender", "M", 60, 45),
    ("placed", "gender", "X", 50, 25),
)


def test_published_rates_with_suppressed_counts_give_the_counts_back_with_the_margins():
    # Counts suppressed, rates shown: dF + dM and nF + nM are known from the margins, and each rate
    # ties n to d; two different rates pin all four counts.
    shown_rates = flagged(RATES_AND_MARGINS, {("placed", "F"): "dn", ("placed", "M"): "dn"})
    rate_rule = "published rate with a suppressed numerator or denominator (a rate is published with both)"
    assert audit(shown_rates) == [
        f"placed 2020 gender=F denominator: {RECOVERABLE}",
        f"placed 2020 gender=F numerator: {RECOVERABLE}",
        f"placed 2020 gender=F value: {rate_rule}",
        f"placed 2020 gender=M denominator: {RECOVERABLE}",
        f"placed 2020 gender=M numerator: {RECOVERABLE}",
        f"placed 2020 gender=M value: {rate_rule}",
    ]
    # One rate alone leaves a degree of freedom: only the rule break is reported.
    one_rate = flagged(RATES_AND_MARGINS, {("placed", "F"): "dn", ("placed", "M"): "dnv"})
    assert audit(one_rate) == [f"placed 2020 gender=F value: {rate_rule}"]


def test_a_known_denominator_minus_numerator_is_a_disclosure_too():
    # Employed is counted among those not placed (employed.d == placed.d - placed.n) and has no
    # statewide row. The published employed M count gives placed M's d - n; with the margins that
    # gives placed F's d - n (5 not placed) and employed F's count, though no d or n of placed is known.
    table = mart(
        ("placed", "statewide", "All", 150, 90),
        ("placed", "gender", "F", 50, 45),
        ("placed", "gender", "M", 60, 30),
        ("placed", "gender", "X", 40, 15),
        ("employed", "gender", "F", 5, 2),
        ("employed", "gender", "M", 30, 15),
    )
    hidden = {("placed", "F"): "dnv", ("placed", "M"): "dnv", ("employed", "F"): "dnv"}
    relations = [NOT_PLACED_ARE_EMPLOYED]
    assert audit(flagged(table, hidden), relations=relations) == [
        f"placed 2020 gender=F denominator-minus-numerator: {RECOVERABLE}",
        f"employed 2020 gender=F denominator: {RECOVERABLE}",
    ]
    assert audit(flagged(table, hidden)) == []
    assert audit(suppress(table, relations=relations), relations=relations) == []


def test_suppressed_counts_with_a_published_total_of_zero_are_zero():
    table = mart(
        ("placed", "statewide", "All", 113, 50),
        ("placed", "gender", "F", 5, 0),
        ("placed", "gender", "M", 8, 0),
        ("placed", "gender", "X", 100, 50),
    )
    zero = "suppressed count is exactly recoverable from a published total of 0 (no count is negative)"
    assert audit(flagged(table, {("placed", "F"): "dnv", ("placed", "M"): "dnv"})) == [
        f"placed 2020 gender=F numerator: {zero}",
        f"placed 2020 gender=M numerator: {zero}",
    ]


@pytest.mark.parametrize("seed", range(8))
def test_suppress_output_passes_the_audit_on_random_marts(seed):
    table = random_mart(seed)
    out = suppress(table, relations=[RETAINED_FOLLOWS_PLACED], strict=True)
    assert out["suppression"].eq("complementary").any()  # the property is not vacuous
    assert audit(out, relations=[RETAINED_FOLLOWS_PLACED], strict=True) == []


@pytest.mark.parametrize("seed", range(8))
def test_suppress_output_passes_the_audit_on_random_censored_marts_with_both_kinds_of_relation(seed):
    table = random_censored_mart(seed)
    for relation in PIPELINE_RELATIONS:  # the property is not vacuous: relations hold and break
        holds, breaks = _relation_cells(table, relation)
        assert holds > 0 and breaks > 0
    out = suppress(table, relations=PIPELINE_RELATIONS, strict=True)
    assert audit(out, relations=PIPELINE_RELATIONS, strict=True) == []
    pd.testing.assert_frame_equal(out[list(table.columns)].iloc[: len(table)], table)
    added = out.iloc[len(table) :]
    assert len(added) > 0 and out["suppression"].eq("complementary").any()
    assert (added["denominator"] == 0).all() and added["suppression"].eq("primary").all()
    assert added[["denominator_suppressed", "value_suppressed"]].all(axis=None)


def _relation_cells(table: pd.DataFrame, relation: Relation) -> tuple[int, int]:
    """(cells where the relation holds, cells where it does not) among those with every term's row."""
    joined = None
    for i, (_, metric, field) in enumerate(relation.terms):
        part = table.loc[table["metric"] == metric, ["cohort_year", "dimension", "group", field]]
        part = part.rename(columns={field: i})
        joined = part if joined is None else joined.merge(part, on=["cohort_year", "dimension", "group"])
    total = sum(coef * joined[i] for i, (coef, _, _) in enumerate(relation.terms))
    return int((total == 0).sum()), int((total != 0).sum())


def test_audit_agrees_with_a_dense_float_rank_oracle_on_random_flags():
    rng = np.random.default_rng(7)
    checked = 0
    for seed in range(6):
        table = random_mart(seed, years=1, dimensions=3, max_groups=8, people=(100, 1500))
        out = suppress(table, relations=[RETAINED_FOLLOWS_PLACED])
        for _ in range(4):
            broken = out.copy()
            rows = rng.choice(len(broken), size=6, replace=False)
            for column in ("denominator_suppressed", "numerator_suppressed", "value_suppressed"):
                broken.loc[rows, column] = rng.random(6) < 0.5
            problems = audit(broken, relations=[RETAINED_FOLLOWS_PLACED])
            found = {p.split(":")[0] for p in problems if p.endswith(RECOVERABLE) and "minus" not in p}
            assert found == _oracle(broken)
            checked += len(found)
    assert checked > 20  # the random flags did expose something to compare


def _oracle(table: pd.DataFrame) -> set[str]:
    """Suppressed counts determined by the equations, by rank(A) == rank([A; e_i]) on one dense
    float matrix over every count of the table: slow and global, but independent of the audit."""
    labels, values, hidden = [], [], []
    for r in table.itertuples():
        for field in ("denominator", "numerator") if r.kind == "rate" else ("denominator",):
            labels.append(f"{r.metric} {r.cohort_year} {r.dimension}={r.group} {field}")
            values.append(getattr(r, field))
            hidden.append(getattr(r, f"{field}_suppressed"))
    at = {label: i for i, label in enumerate(labels)}
    rows = []

    def equation(terms: list[tuple[float, str]]) -> None:
        row = np.zeros(len(labels))
        for coef, label in terms:
            row[at[label]] += coef
        if row @ np.array(values) == 0:
            rows.append(row)

    for (metric, year, dimension), group in table[table["dimension"] != "statewide"].groupby(
        ["metric", "cohort_year", "dimension"]
    ):
        for field in ("denominator", "numerator") if group["kind"].iloc[0] == "rate" else ("denominator",):
            total = [(1.0, f"{metric} {year} statewide=All {field}")]
            equation(total + [(-1.0, f"{metric} {year} {dimension}={g} {field}") for g in group["group"]])
    for r in table[table["metric"] == "retained_1y"].itertuples():
        cell = f"{r.cohort_year} {r.dimension}={r.group}"
        equation([(1.0, f"retained_1y {cell} denominator"), (-1.0, f"placed {cell} numerator")])
    for r in table[
        (table["kind"] == "rate") & ~table["value_suppressed"] & (table["denominator"] > 0)
    ].itertuples():
        cell = f"{r.metric} {r.cohort_year} {r.dimension}={r.group}"
        equation([(r.numerator, f"{cell} denominator"), (-r.denominator, f"{cell} numerator")])
    a = np.array(rows)[:, np.array(hidden)]
    rank = np.linalg.matrix_rank(a)
    suppressed = [label for label, h in zip(labels, hidden, strict=True) if h]
    return {
        label
        for i, label in enumerate(suppressed)
        if np.linalg.matrix_rank(np.vstack([a, np.eye(len(suppressed))[i]])) == rank
    }


def test_assert_safe_raises_a_typed_error_listing_the_first_problems():
    unsafe = flagged(RATES_AND_MARGINS, {("placed", "F"): "dn", ("placed", "M"): "dn"})
    with pytest.raises(DisclosureError) as raised:
        assert_safe(unsafe)
    error = raised.value
    assert isinstance(error, ValueError)
    assert len(error.problems) == 6
    assert str(error).startswith(
        "6 disclosure problem(s) in the table to publish:\n"
        f"  - placed 2020 gender=F denominator: {RECOVERABLE}\n"
    )
    assert_safe(suppress(RATES_AND_MARGINS))


def test_audit_needs_the_flag_columns():
    with pytest.raises(MartError, match="run lakehouse.privacy.suppress first"):
        audit(RATES_AND_MARGINS)
