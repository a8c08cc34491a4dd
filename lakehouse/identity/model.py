"""The probabilistic linkage model (Fellegi-Sunter, with Splink 5): its comparisons, blocking rules and
training. One settings object serves both backends: every level is either a Splink library level
(which Splink writes in the backend's dialect) or plain SQL both DuckDB and Spark accept.

What the comparisons are built to survive (DOMAIN.md): typos (Jaro-Winkler levels), nicknames (a
shared root from the nickname table), first and last name swapped, compound surnames recorded in part
and married-name changes (any surname in common; otherwise the other fields carry the match), birth
date day/month swaps and one-part typos, and SSN transpositions and typos (partial-SSN tokens, since
the SSN itself is never stored). Twins share everything but the first name and their ids differ:
the first-name and SSN comparisons keep them apart.
"""

from __future__ import annotations

from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on

# Pairs that are certainly one person (the deterministic pass): a shared native id, or the same SSN
# token with a birth date that agrees or is missing on one side. Also what Splink's prior is
# estimated from.
DETERMINISTIC_RULES = (
    "l.ssid = r.ssid",
    "l.seid = r.seid",
    "l.cin = r.cin",
    "l.ssn_token = r.ssn_token AND (l.birth_date = r.birth_date OR l.birth_date IS NULL "
    "OR r.birth_date IS NULL)",
)

# Candidate pairs the model scores. Each rule is cheap on its own (an equi-join on selective keys);
# together they catch every noise kind above, including records without a birth date (wage records).
PREDICTION_BLOCKING = (
    block_on("ssn_token"),
    block_on("ssid"),
    block_on("seid"),
    block_on("cin"),
    block_on("birth_date", "first_soundex"),
    block_on("birth_date", "last_soundex"),
    block_on("first_soundex", "last_soundex", "birth_year"),
    block_on("first_name", "last_name"),
    block_on("ssn_first5_token", "last_soundex"),
    block_on("ssn_last4_token", "first_soundex"),
    block_on("ssn_sorted_token", "birth_month_day"),
    "l.birth_date = r.birth_date AND l.first_soundex = r.last_soundex",  # first and last swapped
)

# Pairs that train m: a shared SSN token or native id. Unlike DETERMINISTIC_RULES they ask nothing of
# names, birth dates, gender or ZIP, so those comparisons' error rates are seen as they are.
LABEL_RULES = ("l.ssn_token = r.ssn_token", "l.ssid = r.ssid", "l.seid = r.seid", "l.cin = r.cin")


def _jw(column: str, threshold: float) -> cll.JaroWinklerLevel:
    return cll.JaroWinklerLevel(column, threshold)


def _fixed(level, m: float):
    """A level whose m is set, not trained: the SSN and native-id comparisons, because the pairs the
    model trains m on are the pairs those ids link (so there they would always agree). The values
    are the agencies' known error rates: ~2% transposed, ~1.5% mistyped, ~3% second SSIDs."""
    return level.configure(m_probability=m, fix_m_probability=True)


def _name(column: str, other: str, variants: str, variants_label: str) -> cl.CustomComparison:
    """A name: exact (term-frequency adjusted), a variant in common (nickname root or surname part),
    close spelling, swapped with the other name, loose spelling."""
    return cl.CustomComparison(
        output_column_name=column,
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column, term_frequency_adjustments=True),
            cll.ArrayIntersectLevel(variants, 1).configure(label_for_charts=variants_label),
            _jw(column, 0.92),
            cll.CustomLevel(f"{column}_l = {other}_r", "first and last name swapped"),
            _jw(column, 0.80),
            cll.ElseLevel(),
        ],
    )


def comparisons() -> list:
    """The model's comparisons, strongest level first in each."""
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
                "substr(birth_date_l, 1, 7) = substr(birth_date_r, 1, 7)",
                "same year and month, day differs",
            ),
            cll.CustomLevel(
                "birth_month_day_l = birth_month_day_r AND "
                + " + ".join(
                    f"CAST(substr(birth_date_l, {i}, 1) = substr(birth_date_r, {i}, 1) AS INT)"
                    for i in range(1, 5)
                )
                + " = 3",
                "one digit of the year differs",
            ),
            cll.ElseLevel(),
        ],
    )
    ssn = cl.CustomComparison(
        output_column_name="ssn",
        comparison_levels=[
            cll.NullLevel("ssn_token"),
            _fixed(cll.ExactMatchLevel("ssn_token"), 0.95),
            cll.CustomLevel(
                "ssn_sorted_token_l = ssn_sorted_token_r AND (ssn_first5_token_l = ssn_first5_token_r "
                "OR ssn_last4_token_l = ssn_last4_token_r)",
                "two digits transposed",
            ).configure(m_probability=0.02, fix_m_probability=True),
            cll.CustomLevel(
                "ssn_first5_token_l = ssn_first5_token_r OR ssn_last4_token_l = ssn_last4_token_r",
                "first five or last four digits agree",
            ).configure(m_probability=0.015, fix_m_probability=True),
            _fixed(cll.ElseLevel(), 0.015),
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
            _fixed(
                cll.CustomLevel("ssid_l = ssid_r OR seid_l = seid_r OR cin_l = cin_r", "a native id agrees"),
                0.97,
            ),
            _fixed(cll.ElseLevel(), 0.03),
        ],
    )
    zip_code = cl.CustomComparison(
        output_column_name="zip",
        comparison_levels=[
            cll.NullLevel("zip"),
            cll.ExactMatchLevel("zip"),
            cll.ExactMatchLevel("zip3"),
            cll.ElseLevel(),
        ],
    )
    return [
        first_name,
        last_name,
        birth_date,
        ssn,
        native_ids,
        cl.ExactMatch("gender"),
        cl.ExactMatch("middle_initial"),
        zip_code,
    ]


def prior(deterministic_pairs: int, records: int, *, recall: float = 0.7) -> float:
    """The probability that two random records match, from the pairs the deterministic rules find
    (which find about `recall` of all matching pairs). Clamped, so a tiny input still scores."""
    total = records * (records - 1) / 2
    if total <= 0:
        return 1e-4
    return min(0.5, max(1e-9, max(deterministic_pairs / recall, 1.0) / total))


def linkage_settings(*, prior_probability: float = 1e-4, retain_columns: bool = False) -> SettingsCreator:
    """The untrained model: dedupe across every source's records at once."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_token",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=list(PREDICTION_BLOCKING),
        retain_matching_columns=retain_columns,
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=["source"],
        probability_two_random_records_match=prior_probability,
    )


def train(linker: Any, labels: Any, *, max_pairs: float) -> list[str]:
    """Estimate u from random pairs and m from `labels` (the prior comes from `prior()`)
    (a registered table of record_token_l/_r pairs from LABEL_RULES): on this data EM drifted
    (it gave a birth-date mismatch m = 0.18) while id-labelled pairs measure each field's errors.
    Returns the estimates that could not be made on this input."""
    steps = [
        ("u", lambda: linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=1)),
        ("m", lambda: linker.training.estimate_m_from_pairwise_labels(labels)),
    ]  # fmt: skip
    skipped = []
    for name, step in steps:
        try:
            step()
        except (ValueError, ZeroDivisionError, ArithmeticError) as exc:
            # A tiny input (a test state, a first small load) may have no id-sharing pairs at all:
            # that estimate keeps Splink's default, and the report says so.
            skipped.append(f"{name}: {exc}")
    return skipped


def labels_sql(table: str, *, limit: int = 500_000) -> str:
    """Pairs sharing an id (LABEL_RULES), each once, capped (a deterministic sample by hash)."""
    parts = [
        f"SELECT l.record_token AS record_token_l, r.record_token AS record_token_r FROM {table} AS l "
        f"JOIN {table} AS r ON ({rule}) AND l.record_token < r.record_token"
        for rule in LABEL_RULES
    ]
    return (
        f"SELECT * FROM ({' UNION '.join(parts)}) AS pairs "
        f"ORDER BY hash(record_token_l || record_token_r) LIMIT {int(limit)}"
    )
