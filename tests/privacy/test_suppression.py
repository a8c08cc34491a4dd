"""Primary and complementary suppression on hand-made marts: whole flag frames are compared."""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from lakehouse.privacy import DisclosureError, MartError, Relation, audit, suppress
from tests.privacy import (
    CYCLE,
    CYCLIC_MEDIANS,
    FLAG_VIEW,
    NOT_PLACED_ARE_EMPLOYED,
    RETAINED_FOLLOWS_PLACED,
    flags,
    mart,
)

RETAINED_3Y_FOLLOWS_1Y = Relation(((1, "retained_3y", "denominator"), (-1, "retained_1y", "numerator")))


def suppressed(table: pd.DataFrame, **options) -> pd.DataFrame:
    """Flags of `suppress` (rows it adds included), after checking it kept every row, column and value
    ahead of them, and passes the audit."""
    out = suppress(table, **options)
    assert_frame_equal(out[list(table.columns)].iloc[: len(table)], table)
    assert audit(out, **options) == []
    return out[FLAG_VIEW].reset_index(drop=True)


def test_one_small_group_takes_its_smallest_sibling_first_in_row_order_on_a_tie():
    table = mart(
        ("placed", "statewide", "All", 245, 132),
        ("placed", "gender", "F", 120, 60),
        ("placed", "gender", "M", 60, 30),
        ("placed", "gender", "O", 60, 40),
        ("placed", "gender", "X", 5, 2),
    )
    expected = flags(
        ("placed", "statewide", "All", "", ""),
        ("placed", "gender", "F", "", ""),
        # Its denominator goes, so its numerator and rate go too (they would give it back).
        ("placed", "gender", "M", "dnv", "complementary"),
        ("placed", "gender", "O", "", ""),
        ("placed", "gender", "X", "dnv", "primary"),
    )
    assert_frame_equal(suppressed(table), expected)


def test_95_of_100_hides_rate_and_numerator_but_not_denominator():
    table = mart(
        ("placed", "statewide", "All", 250, 175),
        ("placed", "gender", "F", 100, 95),  # 5 not placed
        ("placed", "gender", "M", 60, 20),
        ("placed", "gender", "X", 90, 60),
    )
    expected = flags(
        ("placed", "statewide", "All", "", ""),
        ("placed", "gender", "F", "nv", "primary"),
        ("placed", "gender", "M", "nv", "complementary"),  # smallest sibling numerator
        ("placed", "gender", "X", "", ""),
    )
    assert_frame_equal(suppressed(table), expected)


def test_a_complement_in_one_dimension_leaves_the_other_dimension_alone():
    table = mart(
        ("placed", "statewide", "All", 300, 150),
        ("placed", "gender", "F", 150, 80),
        ("placed", "gender", "M", 145, 68),
        ("placed", "gender", "X", 5, 2),
        ("placed", "county", "A", 100, 50),
        ("placed", "county", "B", 120, 60),
        ("placed", "county", "C", 80, 40),
    )
    expected = flags(
        ("placed", "statewide", "All", "", ""),
        ("placed", "gender", "F", "", ""),
        ("placed", "gender", "M", "dnv", "complementary"),
        ("placed", "gender", "X", "dnv", "primary"),
        ("placed", "county", "A", "", ""),
        ("placed", "county", "B", "", ""),
        ("placed", "county", "C", "", ""),
    )
    assert_frame_equal(suppressed(table), expected)


PLACED_AND_RETAINED = mart(
    ("placed", "statewide", "All", 300, 200),
    ("placed", "gender", "F", 100, 95),
    ("placed", "gender", "M", 80, 40),
    ("placed", "gender", "X", 120, 65),
    ("retained_1y", "statewide", "All", 200, 140),
    ("retained_1y", "gender", "F", 95, 70),
    ("retained_1y", "gender", "M", 40, 25),
    ("retained_1y", "gender", "X", 65, 45),
)


def test_a_relation_would_reveal_the_placed_numerator_through_the_retained_denominator():
    # retained_1y.denominator == placed.numerator: a published retained F denominator (95) is the
    # suppressed placed F numerator, so it goes too; so does the one of the complement M.
    expected = flags(
        ("placed", "statewide", "All", "", ""),
        ("placed", "gender", "F", "nv", "primary"),
        ("placed", "gender", "M", "nv", "complementary"),
        ("placed", "gender", "X", "", ""),
        ("retained_1y", "statewide", "All", "", ""),
        ("retained_1y", "gender", "F", "dnv", "complementary"),
        ("retained_1y", "gender", "M", "dnv", "complementary"),
        ("retained_1y", "gender", "X", "", ""),
    )
    assert_frame_equal(suppressed(PLACED_AND_RETAINED, relations=[RETAINED_FOLLOWS_PLACED]), expected)

    # Without the declared relation the retained rows stay published, and a reader who knows it wins.
    unaware = suppress(PLACED_AND_RETAINED)
    assert not unaware.loc[unaware["metric"] == "retained_1y", "denominator_suppressed"].any()
    assert audit(unaware, relations=[RETAINED_FOLLOWS_PLACED]) == [
        "placed 2020 gender=F numerator: suppressed count is exactly recoverable from published cells",
        "placed 2020 gender=M numerator: suppressed count is exactly recoverable from published cells",
    ]


def test_a_complement_cascades_through_two_relations():
    # placed X numerator is small; its complement, the placed M numerator, is the retained_1y M
    # denominator, whose numerator is the retained_3y M denominator: each must follow.
    table = mart(
        ("placed", "statewide", "All", 300, 150),
        ("placed", "gender", "F", 150, 80),
        ("placed", "gender", "M", 120, 62),
        ("placed", "gender", "X", 30, 8),
        ("retained_1y", "statewide", "All", 150, 120),
        ("retained_1y", "gender", "F", 80, 65),
        ("retained_1y", "gender", "M", 62, 49),
        ("retained_1y", "gender", "X", 8, 6),
        ("retained_3y", "statewide", "All", 120, 84),
        ("retained_3y", "gender", "F", 65, 50),
        ("retained_3y", "gender", "M", 49, 30),
        ("retained_3y", "gender", "X", 6, 4),
    )
    expected = flags(
        ("placed", "statewide", "All", "", ""),
        ("placed", "gender", "F", "", ""),
        ("placed", "gender", "M", "nv", "complementary"),
        ("placed", "gender", "X", "nv", "primary"),
        ("retained_1y", "statewide", "All", "", ""),
        ("retained_1y", "gender", "F", "", ""),
        ("retained_1y", "gender", "M", "dnv", "complementary"),
        ("retained_1y", "gender", "X", "dnv", "primary"),
        ("retained_3y", "statewide", "All", "", ""),
        ("retained_3y", "gender", "F", "", ""),
        ("retained_3y", "gender", "M", "dnv", "complementary"),
        ("retained_3y", "gender", "X", "dnv", "primary"),
    )
    relations = [RETAINED_FOLLOWS_PLACED, RETAINED_3Y_FOLLOWS_1Y]
    assert_frame_equal(suppressed(table, relations=relations), expected)


def test_medians_hide_below_threshold_and_their_counts_add_up():
    table = mart(
        ("wage", "statewide", "All", 60, None),
        ("wage", "gender", "F", 35, None),
        ("wage", "gender", "M", 20, None),
        ("wage", "gender", "X", 5, None),
    )
    expected = flags(
        ("wage", "statewide", "All", "", ""),
        ("wage", "gender", "F", "", ""),
        # A median of 20 people stays published; only the count that would give X back goes.
        ("wage", "gender", "M", "d", "complementary"),
        ("wage", "gender", "X", "dv", "primary"),
    )
    assert_frame_equal(suppressed(table), expected)


def test_suppressed_zeros_that_add_up_to_zero_get_a_complement():
    # F and M are suppressed, but N - X says their numerators add up to 0, so both are 0.
    table = mart(
        ("placed", "statewide", "All", 113, 50),
        ("placed", "gender", "F", 5, 0),
        ("placed", "gender", "M", 8, 0),
        ("placed", "gender", "X", 100, 50),
    )
    expected = flags(
        ("placed", "statewide", "All", "", ""),
        ("placed", "gender", "F", "dnv", "primary"),
        ("placed", "gender", "M", "dnv", "primary"),
        ("placed", "gender", "X", "nv", "complementary"),
    )
    assert_frame_equal(suppressed(table), expected)


def test_the_statewide_row_loses_a_tie_with_a_sibling():
    table = mart(
        ("placed", "statewide", "All", 40, 20),
        ("placed", "gender", "F", 40, 20),
        ("placed", "gender", "M", 0, 0),
    )
    expected = flags(
        ("placed", "statewide", "All", "", ""),
        ("placed", "gender", "F", "dnv", "complementary"),
        ("placed", "gender", "M", "dnv", "primary"),
    )
    assert_frame_equal(suppressed(table), expected)


def test_the_statewide_row_goes_when_nothing_else_can_hide_it():
    # The statewide placed numerator is small-gap suppressed; the relation at the statewide cell
    # holds only statewide terms, so the statewide retained denominator is the only choice.
    table = mart(
        ("placed", "statewide", "All", 100, 92),
        ("placed", "gender", "F", 50, 47),
        ("placed", "gender", "M", 50, 45),
        ("retained_1y", "statewide", "All", 92, 80),
        ("retained_1y", "gender", "F", 47, 40),
        ("retained_1y", "gender", "M", 45, 40),
    )
    expected = flags(
        ("placed", "statewide", "All", "nv", "primary"),
        ("placed", "gender", "F", "nv", "primary"),
        ("placed", "gender", "M", "nv", "primary"),
        ("retained_1y", "statewide", "All", "dnv", "complementary"),
        ("retained_1y", "gender", "F", "dnv", "primary"),
        ("retained_1y", "gender", "M", "dnv", "primary"),
    )
    assert_frame_equal(suppressed(table, relations=[RETAINED_FOLLOWS_PLACED]), expected)


def test_a_complement_that_only_the_exact_test_finds():
    expected = flags(
        ("a", "statewide", "All", "", ""),
        ("a", "gender", "F", "dv", "primary"),
        ("a", "gender", "M", "dv", "primary"),
        ("a", "gender", "X", "", ""),
        ("b", "statewide", "All", "", ""),
        ("b", "gender", "F", "d", "complementary"),  # the smallest published count of the combination
        ("b", "gender", "M", "dv", "primary"),
        ("b", "gender", "X", "dv", "primary"),
        ("c", "statewide", "All", "", ""),
        ("c", "gender", "F", "dv", "primary"),
        ("c", "gender", "M", "", ""),
        ("c", "gender", "X", "dv", "primary"),
    )
    assert_frame_equal(suppressed(CYCLIC_MEDIANS, relations=CYCLE), expected)


def test_threshold_is_a_parameter():
    table = mart(
        ("placed", "statewide", "All", 245, 132),
        ("placed", "gender", "F", 120, 60),
        ("placed", "gender", "M", 60, 30),
        ("placed", "gender", "O", 60, 40),
        ("placed", "gender", "X", 5, 2),
    )
    expected = flags(
        ("placed", "statewide", "All", "", ""),
        ("placed", "gender", "F", "", ""),
        ("placed", "gender", "M", "nv", "complementary"),
        ("placed", "gender", "O", "", ""),
        ("placed", "gender", "X", "nv", "primary"),  # 5 people are enough at 3; 2 placed are not
    )
    assert_frame_equal(suppressed(table, threshold=3), expected)
    with pytest.raises(MartError, match="threshold must be a whole number >= 1, got 0"):
        suppress(table, threshold=0)


def test_output_keeps_the_index_and_adds_typed_flag_columns():
    table = mart(("placed", "statewide", "All", 40, 20), ("placed", "gender", "F", 40, 20)).set_axis([7, 3])
    out = suppress(table)
    assert list(out.index) == [7, 3]
    assert list(out.columns) == [*table.columns, *FLAG_VIEW[3:]]
    assert out[FLAG_VIEW[3:6]].dtypes.eq(bool).all()


def test_groups_that_do_not_add_up_fail_strict_and_are_not_used_otherwise():
    table = mart(
        ("placed", "statewide", "All", 100, 50),
        ("placed", "gender", "F", 60, 30),
        ("placed", "gender", "M", 39, 20),
        ("placed", "gender", "X", 5, 0),  # denominators add up to 104, numerators to 50
    )
    with pytest.raises(
        ValueError, match=r"placed 2020 gender: denominators of the groups differ from statewide"
    ):
        suppress(table, strict=True)
    # Only the numerator equation is used: it needs a complement, the denominator one cannot expose X.
    expected = flags(
        ("placed", "statewide", "All", "", ""),
        ("placed", "gender", "F", "", ""),
        ("placed", "gender", "M", "nv", "complementary"),
        ("placed", "gender", "X", "dnv", "primary"),
    )
    assert_frame_equal(suppressed(table), expected)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.drop(columns="kind"), r"missing columns \['kind'\]"),
        (lambda t: pd.concat([t, t.tail(1)], ignore_index=True), r"row 2: cell .* appears twice"),
        (lambda t: t.assign(numerator=[20.0, 50.0]), r"row 1: numerator exceeds denominator"),
        (lambda t: t.assign(denominator=[40, -1]), r"row 1, column denominator: -1 is not a count"),
        (lambda t: t.assign(kind=["rate", "mean"]), r"row 1: kind 'mean' is not one of"),
    ],
)
def test_a_malformed_mart_is_refused_with_where_and_what(change, message):
    table = mart(("placed", "statewide", "All", 40, 20), ("placed", "gender", "F", 40, 20))
    with pytest.raises(MartError, match=message):
        suppress(change(table))


# The real case, cut down (teacher_pipeline 2019: three people, one per county). A builder writes no
# row for a group with nobody in the metric's population, so retained_1y has no county=C row. Its
# other rows add up to the statewide one, so C is 0 there; and since everyone placed is followed
# (the relation holds in every other cell), placed C numerator = 2 - 1 - 1 = 0 is known, although
# every count of the mart is suppressed. No flag can hide a row that is not there: `suppress` adds
# the row (a suppressed zero), and then nothing is recoverable.
NOBODY_PLACED_IN_C = mart(
    ("placed", "statewide", "All", 3, 2),
    ("placed", "county", "A", 1, 1),
    ("placed", "county", "B", 1, 1),
    ("placed", "county", "C", 1, 0),
    ("retained_1y", "statewide", "All", 2, 1),
    ("retained_1y", "county", "A", 1, 1),
    ("retained_1y", "county", "B", 1, 0),
)
# The same through an `among: {placed: false}` relation: no employed row for C says that everyone in
# C was placed (placed C denominator-minus-numerator is 0).
EVERYONE_PLACED_IN_C = mart(
    ("placed", "statewide", "All", 3, 1),
    ("placed", "county", "A", 1, 0),
    ("placed", "county", "B", 1, 0),
    ("placed", "county", "C", 1, 1),
    ("employed", "statewide", "All", 2, 1),
    ("employed", "county", "A", 1, 1),
    ("employed", "county", "B", 1, 0),
)


@pytest.mark.parametrize(
    ("table", "relation", "leak"),
    [
        (NOBODY_PLACED_IN_C, RETAINED_FOLLOWS_PLACED, "numerator"),
        (EVERYONE_PLACED_IN_C, NOT_PLACED_ARE_EMPLOYED, "denominator-minus-numerator"),
    ],
)
def test_a_row_left_out_of_a_related_metric_is_added_as_a_suppressed_zero(table, relation, leak):
    out = suppress(table, relations=[relation])
    metric = relation.terms[0][1]
    assert len(out) == len(table) + 1
    added = out.iloc[-1]
    assert (added["metric"], added["dimension"], added["group"]) == (metric, "county", "C")
    assert (added["denominator"], added["numerator"]) == (0, 0)
    assert added[["denominator_suppressed", "numerator_suppressed", "value_suppressed"]].all()
    assert added["suppression"] == "primary"
    assert out.index[-1] == len(table)
    assert audit(out, relations=[relation]) == []
    # Flags alone cannot do it: with every count of the mart suppressed the missing row still tells.
    everything = table.assign(
        denominator_suppressed=True, numerator_suppressed=True, value_suppressed=True, suppression="primary"
    )
    problems = audit(everything, relations=[relation])
    assert f"placed 2020 county=C {leak}: suppressed count is exactly recoverable from published cells" in (
        problems
    )
    assert f"{metric} 2020 county=C denominator: row left out of the mart" in problems[-1]


def test_added_rows_copy_the_columns_a_metric_shares_and_leave_the_rest_empty():
    table = NOBODY_PLACED_IN_C.assign(mart="teacher_pipeline", value_real=range(7)).set_axis(range(10, 17))
    out = suppress(table, relations=[RETAINED_FOLLOWS_PLACED])
    added = out.loc[17]
    assert added["mart"] == "teacher_pipeline"
    assert added["kind"] == "rate"
    assert pd.isna(added["value_real"]) and pd.isna(added["value"])
    assert out["denominator"].dtype == table["denominator"].dtype


def test_no_row_is_added_where_the_groups_do_not_add_up_or_the_metric_has_none():
    # employed has no statewide row, and retained_1y's county rows fall short of its statewide row
    # (someone's county is not known): a missing group is not known to be 0 there.
    table = mart(
        ("placed", "statewide", "All", 30, 20),
        ("placed", "county", "A", 15, 10),
        ("placed", "county", "B", 15, 10),
        ("retained_1y", "statewide", "All", 20, 15),
        ("retained_1y", "county", "A", 12, 9),
        ("employed", "county", "A", 5, 2),
    )
    assert len(suppress(table)) == len(table)


def test_counts_that_identities_alone_force_make_suppress_refuse():
    # a == b and a == 2 b both hold where a and b are 0: the two together say so, whatever is shown.
    table = mart(("a", "statewide", "All", 0, None), ("b", "statewide", "All", 0, None))
    forcing = [
        Relation(((1, "a", "denominator"), (-1, "b", "denominator"))),
        Relation(((1, "a", "denominator"), (-2, "b", "denominator"))),
    ]
    with pytest.raises(DisclosureError, match="Suppressing more cells cannot help") as raised:
        suppress(table, relations=forcing)
    assert raised.value.problems == [
        "a 2020 statewide=All denominator: suppressed count is exactly recoverable from published cells",
        "b 2020 statewide=All denominator: suppressed count is exactly recoverable from published cells",
    ]


def test_a_statewide_row_a_relation_says_is_empty_is_added_as_a_suppressed_zero():
    """In 2020 everyone was placed: nobody is in "not placed", which has no 2020 row. Left blank, that
    0 gives away placed's denominator minus numerator through the relation; it is published as a
    suppressed zero, and the audit reports the blank."""
    later = mart(("placed", "statewide", "All", 40, 30), ("employed", "statewide", "All", 10, 5))
    table = pd.concat(
        [mart(("placed", "statewide", "All", 30, 30)), later.assign(cohort_year=2021)], ignore_index=True
    )
    out = suppress(table, relations=[NOT_PLACED_ARE_EMPLOYED])
    added = out.iloc[len(table) :][["metric", "cohort_year", "dimension", "denominator", "suppression"]]
    assert added.values.tolist() == [["employed", 2020, "statewide", 0, "primary"]]
    assert audit(out, relations=[NOT_PLACED_ARE_EMPLOYED]) == []
    blank = suppress(table, relations=[])  # flags as if no relation were declared: the row stays out
    problems = audit(blank, relations=[NOT_PLACED_ARE_EMPLOYED])
    assert any(
        p.startswith("employed 2020 statewide=All denominator: row left out of the mart") for p in problems
    )


# Where 300 graduates first enrolled, of 500: the parts add up to the whole and share its denominator
# (as `mart_relations` declares a catalog's `parts`).
PARTS = ("ccc", "csu", "uc", "other")
SEGMENT_PARTS = [
    Relation(((1, "enrolled", "numerator"), *[(-1, m, "numerator") for m in PARTS])),
    *[Relation(((1, m, "denominator"), (-1, "enrolled", "denominator"))) for m in PARTS],
]
FIRST_COLLEGE = mart(
    ("enrolled", "statewide", "All", 500, 300),
    ("ccc", "statewide", "All", 500, 150),
    ("csu", "statewide", "All", 500, 100),
    ("uc", "statewide", "All", 500, 45),
    ("other", "statewide", "All", 500, 5),
)


def test_a_small_part_takes_its_smallest_sibling_part_since_the_parts_add_up_to_the_whole():
    expected = flags(
        ("enrolled", "statewide", "All", "", ""),
        ("ccc", "statewide", "All", "", ""),
        ("csu", "statewide", "All", "", ""),
        ("uc", "statewide", "All", "nv", "complementary"),
        ("other", "statewide", "All", "nv", "primary"),
    )
    assert_frame_equal(suppressed(FIRST_COLLEGE, relations=SEGMENT_PARTS), expected)

    # Without the parts' identity the small part would be the whole minus the published parts.
    unaware = suppress(FIRST_COLLEGE)
    assert audit(unaware, relations=SEGMENT_PARTS) == [
        "other 2020 statewide=All numerator: suppressed count is exactly recoverable from published cells",
    ]
