"""The comparisons of the linkage model (lakehouse/identity/model.py): per field, the levels a pair of
records can agree at, from exact to none, with the m probabilities fixed, measured or learned.

Every level is either a Splink library level (which Splink writes in the backend's dialect) or plain
SQL both DuckDB and Spark accept. What the levels are built to survive: typos (Jaro-Winkler and
one-edit levels), nicknames (a shared root from the nickname table), first and last name swapped,
compound surnames recorded in part and married-name changes (any surname in common), birth date
day/month swaps and one-digit or off-by-one slips in the day or the year, and SSN transpositions and
typos (partial-SSN tokens, since the SSN itself is never stored).
"""

from __future__ import annotations

import splink.comparison_level_library as cll
import splink.comparison_library as cl


def _jw(column: str, threshold: float) -> cll.JaroWinklerLevel:
    return cll.JaroWinklerLevel(column, threshold)


def _digits_agree(first: int, last: int) -> str:
    """SQL: how many characters of birth_date agree between the two records, positions first..last."""
    return " + ".join(
        f"CAST(substr(birth_date_l, {i}, 1) = substr(birth_date_r, {i}, 1) AS INT)"
        for i in range(first, last + 1)
    )


def _fixed(level, m: float):
    """A level whose m is set, not trained: the SSN and native-id comparisons, because the pairs the
    model trains m on are the pairs those ids link (so there they would always agree). The values
    are the agencies' known error rates: ~2% transposed (one in eight of them digits five and six),
    ~1.5% mistyped, ~3% second SSIDs. Also gender, middle initial and ZIP (FIXED_M)."""
    return level.configure(m_probability=m, fix_m_probability=True)


# Gender, middle initial and ZIP: Splink's training leaves a level that no label pair shows at its
# untrained default (m 0.05 / 0.025: a ZIP change would cost ~5 bits on no evidence), so their m is
# measured here instead (`measured_m_sql`, `measured_m`) and fixed: the share of label pairs at each
# level, among those where both records have the field, with half a pair added to every level and
# no level below MIN_M (no agency's field agrees in more than 99.9% of one person's records). Where
# no label pair compares a field (a tiny input, a roster), FIXED_M stands: ~2% of one person's
# records differ in gender (entry errors, changes), ~5% in middle initial (a typo, a second given
# name), and records years apart differ in ZIP as people move (~60% same ZIP, ~20% same area).
MEASURED = ("gender", "middle_initial", "zip")
MIN_M = 0.001
FIXED_M = {"gender": (0.98, 0.02), "middle_initial": (0.95, 0.05), "zip": (0.6, 0.2, 0.2)}


def _learned(level, m: float):
    """A level whose m the data decides (`comparisons(learn_m=True)`): `m` is not used."""
    return level


def _exact_or_not(column: str, m: tuple[float, ...], fix=_fixed) -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name=column,
        comparison_levels=[
            cll.NullLevel(column),
            fix(cll.ExactMatchLevel(column), m[0]),
            fix(cll.ElseLevel(), m[1]),
        ],
    )


def _name(column: str, other: str, variants: str, variants_label: str) -> cl.CustomComparison:
    """A name: exact (term-frequency adjusted), a variant in common (nickname root or surname part),
    close spelling, swapped with the other name, one letter dropped, doubled, swapped or replaced
    (which Jaro-Winkler scores low in short names: CRUZ and CRCZ are 0.87), loose spelling."""
    return cl.CustomComparison(
        output_column_name=column,
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column, term_frequency_adjustments=True),
            cll.ArrayIntersectLevel(variants, 1).configure(label_for_charts=variants_label),
            _jw(column, 0.92),
            cll.CustomLevel(f"{column}_l = {other}_r", "first and last name swapped"),
            cll.DamerauLevenshteinLevel(column, 1),  # one keyboard slip in a short name
            _jw(column, 0.80),
            cll.ElseLevel(),
        ],
    )


def comparisons(measured: dict[str, tuple[float, ...]] | None = None, *, learn_m: bool = False) -> list:
    """The model's comparisons, strongest level first in each; `measured` holds the m of MEASURED
    comparisons (FIXED_M for those it lacks). With `learn_m`, no m is set or fixed: expectation
    maximisation estimates every one from the data at hand (`train_em`)."""
    m = {**FIXED_M, **(measured or {})}
    fix = _learned if learn_m else _fixed
    first_name = _name("first_name", "last_name", "first_roots", "nickname (shared root)")
    last_name = _name("last_name", "first_name", "last_names", "a surname in common")
    birth_date = cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date"),
            cll.CustomLevel(
                "substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4) "
                "AND substr(birth_date_l, 6, 2) = substr(birth_date_r, 9, 2) "
                "AND substr(birth_date_l, 9, 2) = substr(birth_date_r, 6, 2)",
                "day and month swapped",
            ),
            cll.CustomLevel(
                "substr(birth_date_l, 1, 7) = substr(birth_date_r, 1, 7) AND ("
                + _digits_agree(9, 10)
                + " = 1 OR abs(CAST(substr(birth_date_l, 9, 2) AS INT) "
                "- CAST(substr(birth_date_r, 9, 2) AS INT)) = 1)",
                "same year and month, one digit of the day differs or the day is off by one",
            ),
            cll.CustomLevel(
                f"birth_month_day_l = birth_month_day_r AND ({_digits_agree(1, 4)} = 3 "
                "OR abs(birth_year_l - birth_year_r) IN (1, 10))",
                "same day and month, one digit of the year differs or the year is off by one or ten",
            ),
            cll.ElseLevel(),
        ],
    )
    ssn = cl.CustomComparison(
        output_column_name="ssn",
        comparison_levels=[
            cll.NullLevel("ssn_token"),
            fix(cll.ExactMatchLevel("ssn_token"), 0.95),
            fix(
                cll.CustomLevel(
                    "ssn_sorted_token_l = ssn_sorted_token_r AND (ssn_first5_token_l = ssn_first5_token_r "
                    "OR ssn_last4_token_l = ssn_last4_token_r)",
                    "two digits transposed",
                ),
                0.0175,
            ),
            fix(
                cll.CustomLevel(
                    "ssn_first5_token_l = ssn_first5_token_r OR ssn_last4_token_l = ssn_last4_token_r",
                    "first five or last four digits agree",
                ),
                0.015,
            ),
            # Digits five and six transposed change both the first five and the last four: the digits
            # (sorted) are all that is left in common. One transposition in eight is that one.
            fix(
                cll.CustomLevel(
                    "ssn_sorted_token_l = ssn_sorted_token_r", "the same digits in another order"
                ),
                0.0025,
            ),
            fix(cll.ElseLevel(), 0.015),
        ],
    )
    native_ids = cl.CustomComparison(
        output_column_name="native_id",
        comparison_levels=[
            cll.CustomLevel(
                "(ssid_l IS NULL OR ssid_r IS NULL) AND (seid_l IS NULL OR seid_r IS NULL) "
                "AND (cin_l IS NULL OR cin_r IS NULL)",
                "no native id on both sides",
            ).configure(is_null_level=True),
            fix(
                cll.CustomLevel("ssid_l = ssid_r OR seid_l = seid_r OR cin_l = cin_r", "a native id agrees"),
                0.97,
            ),
            fix(cll.ElseLevel(), 0.03),
        ],
    )
    zip_code = cl.CustomComparison(
        output_column_name="zip",
        comparison_levels=[
            cll.NullLevel("zip"),
            fix(cll.ExactMatchLevel("zip"), m["zip"][0]),
            fix(cll.ExactMatchLevel("zip3"), m["zip"][1]),
            fix(cll.ElseLevel(), m["zip"][2]),
        ],
    )
    return [
        first_name,
        last_name,
        birth_date,
        ssn,
        native_ids,
        _exact_or_not("gender", m["gender"], fix),
        _exact_or_not("middle_initial", m["middle_initial"], fix),
        zip_code,
    ]
