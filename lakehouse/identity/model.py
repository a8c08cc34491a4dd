"""The probabilistic linkage model (Fellegi-Sunter, with Splink 5): its comparisons (their levels are
lakehouse/identity/comparisons.py), blocking rules and training. One settings object serves both
backends: every level is either a Splink library level (which Splink writes in the backend's dialect)
or plain SQL both DuckDB and Spark accept.

What the comparisons are built to survive (docs/domain.md): typos (Jaro-Winkler and one-edit levels),
nicknames (a shared root from the nickname table), first and last name swapped, compound surnames
recorded in part and married-name changes (any surname in common; otherwise the other fields carry
the match), birth date day/month swaps and one-digit or off-by-one slips in the day or the year, and
SSN transpositions and typos (partial-SSN tokens, since the SSN itself is never stored). Twins share
everything but the first name and their ids differ: the first-name and SSN comparisons keep them
apart. A birth date more than one slip away is a different birth date, not a typo (two people of one
name born in the same month are common enough).
"""

from __future__ import annotations

from typing import Any

from splink import SettingsCreator, block_on
from splink.internals.exceptions import EMTrainingException

from lakehouse.identity.comparisons import FIXED_M, MEASURED, MIN_M, comparisons

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
    # The same full name with a birth year that disagrees (a mistyped or guessed year: the month and
    # day survive) or with no birth date to compare, at one residence ZIP. A full name alone is not
    # a block: the commonest names are held by thousands of people in a state, and the pairs among
    # holders of one name grow with the square of their number (statewide, one name would give tens
    # of millions of pairs that only a birth date or an id could tell apart anyway).
    block_on("first_name", "last_name", "birth_month_day"),
    block_on("first_name", "last_name", "zip"),
    # A slip in both names can change both Soundex codes; one birth date at one ZIP is a handful of
    # people even in a dense city, so the pair is still cheap to score.
    block_on("birth_date", "zip"),
    block_on("ssn_first5_token", "last_soundex"),
    block_on("ssn_last4_token", "first_soundex"),
    block_on("ssn_sorted_token", "birth_month_day"),
    block_on("ssn_sorted_token", "first_soundex"),  # wage records: no birth date
    # First and last swapped, on either side: Splink pairs each two records once (l before r), so a
    # rule that looks at one side only would catch the swap only when the swapped record came first.
    "l.birth_date = r.birth_date AND l.first_soundex = r.last_soundex",
    "l.birth_date = r.birth_date AND l.last_soundex = r.first_soundex",
)

# Pairs that train m: a shared SSN token or native id. Unlike DETERMINISTIC_RULES they ask nothing of
# names, birth dates, gender or ZIP, so those comparisons' error rates are seen as they are.
LABEL_RULES = ("l.ssn_token = r.ssn_token", "l.ssid = r.ssid", "l.seid = r.seid", "l.cin = r.cin")


def prior(deterministic_pairs: int, records: int, *, recall: float = 0.7) -> float:
    """The probability that two random records match, from the pairs the deterministic rules find
    (which find about `recall` of all matching pairs). Clamped, so a tiny input still scores."""
    total = records * (records - 1) / 2
    if total <= 0:
        return 1e-4
    return min(0.5, max(1e-9, max(deterministic_pairs / recall, 1.0) / total))


def linkage_settings(
    *,
    prior_probability: float = 1e-4,
    retain_columns: bool = False,
    measured: dict[str, tuple[float, ...]] | None = None,
    learn_m: bool = False,
) -> SettingsCreator:
    """The untrained model: dedupe across every source's records at once (`learn_m`: see
    `comparisons`)."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_token",
        comparisons=comparisons(measured, learn_m=learn_m),
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


# The blocking rules expectation maximisation trains on: each session sees the pairs that agree on one
# field and learns the m of every other comparison from them; a comparison a rule blocks on is learned
# in the other sessions. Birth date alone and the full name alone are the two fields a person keeps
# across records; the SSN, where it is there, is a third.
EM_RULES = (block_on("birth_date"), block_on("first_name", "last_name"), block_on("ssn_token"))


def train_em(linker: Any, *, max_pairs: float) -> list[str]:
    """Train on the data at hand and nothing else (`c2c link`, a file we know nothing of): u from
    random pairs and every m by expectation maximisation over `EM_RULES`; the prior (the chance that
    two records match) is then fitted to the scores of all candidate pairs
    (lakehouse/identity/decide.py `fit_prior`). Term frequencies adjust the exact-name levels. No
    error rate of ours enters. Returns the estimates that could not be made on this input (a field
    nobody filled, a rule no pair meets): those levels keep Splink's defaults, and the caller reports
    it."""
    skipped = []
    try:
        linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=1)
    except (ValueError, ZeroDivisionError, ArithmeticError) as exc:
        skipped.append(f"u: {exc}")
    for rule in EM_RULES:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule, fix_u_probabilities=True)
        except (EMTrainingException, ValueError, ZeroDivisionError, ArithmeticError) as exc:
            # No pair meets the rule (no two records share a birth date): the rule is named, its
            # exception's long text is not.
            reason = "no pairs meet it" if isinstance(exc, EMTrainingException) else str(exc)
            skipped.append(f"m by EM on {rule.get_blocking_rule('duckdb').blocking_rule_sql}: {reason}")
    return skipped


def untrained_levels(model: dict[str, Any]) -> list[str]:
    """'comparison: level (m|u)' for every non-null level of a trained model whose m or u is not set
    (Splink scores it with its default value)."""
    found = []
    for comparison in model.get("comparisons", []):
        for level in comparison.get("comparison_levels", []):
            if level.get("is_null_level"):
                continue
            missing = [p for p in ("m", "u") if level.get(f"{p}_probability") is None]
            if missing:
                label = level.get("label_for_charts", level.get("sql_condition", "?"))
                found.append(f"{comparison['output_column_name']}: {label} ({', '.join(missing)})")
    return found


def fill_unseen_u(model: dict[str, Any], *, sampled_pairs: float) -> list[str]:
    """Give every level that random sampling never saw (a rare agreement, such as two digits of an
    SSN transposed, which 2M random pairs may not contain once) the u that the sample can still
    vouch for: at most 3 / sampled pairs (the "rule of three", a 95% upper bound when nothing was
    seen). Left as it is, Splink falls back on default u values that make such a level count as
    evidence *against* a match, so one model of two trained on the same data linked transposed
    SSNs and the other did not. The ELSE level is left alone: never seeing it says that random
    pairs always agree on something, not that disagreeing is rare among non-matches (on a small
    input, no two random records may both carry a native id), and a small u would make disagreement
    count for a match. Changes `model` in place; returns the levels filled."""
    bound = 3.0 / max(float(sampled_pairs), 3.0)
    filled = []
    for comparison in model.get("comparisons", []):
        for level in comparison.get("comparison_levels", []):
            if level.get("is_null_level") or level.get("u_probability") is not None:
                continue
            if str(level.get("sql_condition", "")).strip().upper() == "ELSE":
                continue
            level["u_probability"] = bound
            filled.append(f"{comparison['output_column_name']}: {level.get('label_for_charts', '?')}")
    return filled


def measured_m_sql(labels: str, records: str) -> str:
    """SQL (DuckDB): [comparison, level, pairs]: how many pairs of `labels` (record_token_l/_r) fall
    in each level of each MEASURED comparison (0 = the strongest; pairs at the null level left out)."""
    found = [c.get_comparison("duckdb") for c in comparisons()]
    found = [c for c in found if c.output_column_name in MEASURED]
    sides = ", ".join(f"{s}.{col} AS {col}_{s}" for col in (*MEASURED, "zip3") for s in ("l", "r"))
    compared = (
        f"SELECT {sides} FROM {labels} AS p JOIN {records} AS l ON l.record_token = p.record_token_l "
        f"JOIN {records} AS r ON r.record_token = p.record_token_r"
    )
    parts = []
    for c in found:
        levels = [lv for lv in c.comparison_levels if not lv.is_null_level]
        null = " OR ".join(f"({lv.sql_condition})" for lv in c.comparison_levels if lv.is_null_level)
        case = " ".join(f"WHEN {lv.sql_condition} THEN {i}" for i, lv in enumerate(levels[:-1]))
        level = f"CASE {case} ELSE {len(levels) - 1} END"
        parts.append(
            f"SELECT '{c.output_column_name}' AS comparison, {level} AS level, count(*) AS pairs "
            f"FROM compared WHERE NOT ({null}) GROUP BY ALL"
        )
    return f"WITH compared AS ({compared}) " + " UNION ALL ".join(parts)


def measured_m(counts: list[tuple[str, int, int]]) -> dict[str, tuple[float, ...]]:
    """m per level of each MEASURED comparison from `measured_m_sql`'s rows: (pairs + 0.5) /
    (all + 0.5 x levels), raised to MIN_M and normalized; a comparison no pair measures is left out."""
    out = {}
    for column, fallback in FIXED_M.items():
        pairs = [0] * len(fallback)
        for comparison, level, n in counts:
            if comparison == column:
                pairs[level] = n
        if sum(pairs):
            m = [max(MIN_M, (n + 0.5) / (sum(pairs) + 0.5 * len(pairs))) for n in pairs]
            out[column] = tuple(v / sum(m) for v in m)
    return out


def _rule_pairs_sql(table: str, rules: tuple[str, ...]) -> str:
    return " UNION ".join(
        f"SELECT l.record_token AS record_token_l, r.record_token AS record_token_r FROM {table} AS l "
        f"JOIN {table} AS r ON ({rule}) AND l.record_token < r.record_token"
        for rule in rules
    )


def deterministic_sql(table: str) -> str:
    """Pairs that satisfy a deterministic rule, each once (left token < right token)."""
    return _rule_pairs_sql(table, DETERMINISTIC_RULES)


def labels_sql(table: str, *, limit: int = 500_000) -> str:
    """Pairs sharing an id (LABEL_RULES), each once, capped (a deterministic sample by hash)."""
    return (
        f"SELECT * FROM ({_rule_pairs_sql(table, LABEL_RULES)}) AS pairs "
        f"ORDER BY hash(record_token_l || record_token_r) LIMIT {int(limit)}"
    )
