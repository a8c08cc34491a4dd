"""Score identity resolution against the synthetic generator's truth (`_truth/person_truth.csv`).

Three views of one clustering. Pairwise precision/recall: of the record pairs the linker put in one
person, how many are truly one person, and how many true pairs it found. B-cubed: the same per record,
so one oversized cluster costs once per member instead of quadratically. Match rates per source: what
published tables report, computed from the linker and from the truth so the gap is visible. Beside
them, a clerical sample puts borderline scored pairs in front of people.

Conventions shared by every metric. A record is (source, source_record_key). A record present in only
one input, or with a null cluster id, is a singleton on the side that lacks it: it can cost recall
there but never creates a pair. A score over an empty pair set is 1.0 (nothing claimed, nothing wrong;
nothing to find, nothing missed), so an all-singleton clustering shows precision 1.0 and recall 0.0.

Nothing enumerates record pairs: every count comes from the contingency table of (predicted cluster,
true cluster) cells, since n records in one cluster form n*(n-1)/2 pairs. Only single-row or
per-source aggregates reach the driver.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lakehouse.errors import C2CError
from lakehouse.identity.truth import (  # noqa: F401  (re-exported: the notebook, jobs and benchmarks)
    KEY,
    read_truth,
    shared_truth_keys,
)

CROSSWALK_COLUMNS = (*KEY, "person_id")
TRUTH_COLUMNS = (*KEY, "true_person_id")
PAIR_COLUMNS = ("record_token_l", "record_token_r", "match_probability")
ATTRIBUTES = (*KEY, "first_name", "middle_name", "last_name", "birth_date", "gender", "zip")
RECORD_COLUMNS = ("record_token", *ATTRIBUTES)


class EvaluationInputError(C2CError):
    """An input of an evaluation is unusable: a missing column, a repeated record or a bad parameter."""


def _require_columns(df: DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise EvaluationInputError(
            f"{name} lacks column(s) {missing}: it has {df.columns}, needs {list(columns)}."
        )


def _require_unique_records(crosswalk: DataFrame, truth: DataFrame) -> None:
    """A record listed twice would be counted twice and invent pairs, so it is an error, not a guess."""
    keys = crosswalk.select(F.lit("crosswalk").alias("input"), *KEY).unionByName(
        truth.select(F.lit("truth").alias("input"), *KEY)
    )
    repeated = keys.groupBy("input", *KEY).count().where(F.col("count") > 1)
    counts = repeated.groupBy("input", "source").count().collect()
    if counts:
        # Counted by input and source: a record key (an SSID, a CIN) never goes into a message.
        examples = "; ".join(f"{r['input']}: {r['count']} {r['source']} records" for r in counts)
        raise EvaluationInputError(
            f"Records listed more than once ({examples}): "
            "keep one row per (source, source_record_key) in each input before evaluating."
        )


def _check_inputs(crosswalk: DataFrame, truth: DataFrame) -> None:
    _require_columns(crosswalk, "crosswalk", CROSSWALK_COLUMNS)
    _require_columns(truth, "truth", TRUTH_COLUMNS)
    _require_unique_records(crosswalk, truth)


def _cluster(cluster_id: str) -> Column:
    """A cluster key; a record without a cluster id is its own cluster, keyed by the record itself.

    A struct rather than a made-up string id, so it can never collide with a real id, and null ids
    are not grouped together into one giant cluster.
    """
    alone = F.when(F.col(cluster_id).isNull(), F.struct(*KEY))
    return F.struct(F.col(cluster_id).alias("id"), alone.alias("alone"))


def _records(crosswalk: DataFrame, truth: DataFrame) -> DataFrame:
    """Every record of either input. Out: source, source_record_key, predicted_cluster, true_cluster,
    missing_from_crosswalk, missing_from_truth."""
    predicted = crosswalk.select(*KEY, "person_id", F.lit(True).alias("_in_crosswalk"))
    true = truth.select(*KEY, "true_person_id", F.lit(True).alias("_in_truth"))
    return predicted.join(true, on=list(KEY), how="full").select(
        *KEY,
        _cluster("person_id").alias("predicted_cluster"),
        _cluster("true_person_id").alias("true_cluster"),
        F.col("_in_crosswalk").isNull().alias("missing_from_crosswalk"),
        F.col("_in_truth").isNull().alias("missing_from_truth"),
    )


def _cells(records: DataFrame) -> DataFrame:
    """The contingency table. Out: predicted_cluster, true_cluster, n (records in both), missing counts."""
    return records.groupBy("predicted_cluster", "true_cluster").agg(
        F.count(F.lit(1)).alias("n"),
        F.count_if("missing_from_crosswalk").alias("missing_from_crosswalk"),
        F.count_if("missing_from_truth").alias("missing_from_truth"),
    )


def _pairs(n: Column) -> Column:
    # n*(n-1) is even, so shifting right by one divides exactly in LONG arithmetic (no double rounding).
    return F.shiftright(n * (n - 1), 1)


def _ratio(part: float, whole: float) -> float:
    return 1.0 if whole == 0 else part / whole


def _f1(precision: float, recall: float) -> float:
    total = precision + recall
    return 0.0 if total == 0 else 2 * precision * recall / total


def _pairwise(records: DataFrame) -> dict[str, Any]:
    cells = _cells(records)

    def pairs_within(cluster: str, alias: str) -> DataFrame:
        sizes = cells.groupBy(cluster).agg(F.sum("n").alias("n"))
        return sizes.agg(F.sum(_pairs(F.col("n"))).alias(alias))

    totals = cells.agg(
        F.sum("n").alias("records"),
        F.sum(_pairs(F.col("n"))).alias("correct_pairs"),
        F.sum("missing_from_crosswalk").alias("records_missing_from_crosswalk"),
        F.sum("missing_from_truth").alias("records_missing_from_truth"),
    )
    row = (
        totals.crossJoin(pairs_within("predicted_cluster", "predicted_pairs"))
        .crossJoin(pairs_within("true_cluster", "true_pairs"))
        .first()
    )
    # Sums over no rows are null: an empty input has zero of everything.
    counts = {k: int(v or 0) for k, v in row.asDict().items()}
    precision = _ratio(counts["correct_pairs"], counts["predicted_pairs"])
    recall = _ratio(counts["correct_pairs"], counts["true_pairs"])
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall), **counts}


def _bcubed(records: DataFrame) -> dict[str, float]:
    # Each of a cell's n records has precision n/|predicted cluster| and recall n/|true cluster|, so
    # the per-record sums are sums over cells of n*n/size: no per-record rows are needed.
    n = F.col("n")
    sized = _cells(records).select(
        n,
        F.sum(n).over(Window.partitionBy("predicted_cluster")).alias("predicted_size"),
        F.sum(n).over(Window.partitionBy("true_cluster")).alias("true_size"),
    )
    row = sized.agg(
        F.sum(n).alias("records"),
        F.sum(n * n / F.col("predicted_size")).alias("precision_sum"),
        F.sum(n * n / F.col("true_size")).alias("recall_sum"),
    ).first()
    total = row["records"] or 0
    precision = _ratio(row["precision_sum"] or 0.0, total)
    recall = _ratio(row["recall_sum"] or 0.0, total)
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}


def _linked(cluster: str) -> Column:
    """True when the record's cluster also holds a record of another source."""
    w = Window.partitionBy(cluster)
    return F.min("source").over(w) != F.max("source").over(w)


def _match_rates(records: DataFrame) -> DataFrame:
    flagged = records.select(
        "source",
        _linked("predicted_cluster").alias("linked"),
        _linked("true_cluster").alias("true_linked"),
    )
    counts = flagged.groupBy("source").agg(
        F.count(F.lit(1)).alias("records"),
        F.count_if("linked").alias("linked"),
        F.count_if("true_linked").alias("true_linked"),
    )
    return counts.select(
        "source",
        "records",
        "linked",
        (F.col("linked") / F.col("records")).alias("match_rate"),
        "true_linked",
        (F.col("true_linked") / F.col("records")).alias("true_match_rate"),
    ).orderBy("source")


def pairwise_scores(crosswalk: DataFrame, truth: DataFrame) -> dict[str, Any]:
    """Pairwise precision, recall and F1 of the predicted clustering against the truth.

    In: crosswalk [source, source_record_key, person_id], truth [source, source_record_key,
    true_person_id], one row per record each (a repeated record raises EvaluationInputError).
    Out: precision, recall, f1, predicted_pairs, true_pairs, correct_pairs (unordered record pairs in
    one predicted cluster, one true cluster, and both), records (in either input),
    records_missing_from_crosswalk, records_missing_from_truth. Precision with 0 predicted pairs is
    1.0, and recall with 0 true pairs is 1.0, by convention. Pairwise scores weigh a cluster of n by
    n*(n-1)/2: they are what a false merge of two big clusters really costs downstream.
    """
    _check_inputs(crosswalk, truth)
    return _pairwise(_records(crosswalk, truth))


def bcubed_scores(crosswalk: DataFrame, truth: DataFrame) -> dict[str, float]:
    """B-cubed precision, recall and F1: per-record scores averaged over every record of either input.

    In: as `pairwise_scores`. Per record, precision = |predicted cluster ∩ true cluster| / |predicted
    cluster| and recall = the same / |true cluster|; F1 comes from the two averages. Unlike pairwise
    scores, every record weighs the same, so many small errors are not hidden by a few big clusters.
    """
    _check_inputs(crosswalk, truth)
    return _bcubed(_records(crosswalk, truth))


def match_rates(crosswalk: DataFrame, truth: DataFrame) -> DataFrame:
    """Per source, the share of its records whose person also has a record from another source.

    In: as `pairwise_scores` (one row per record; this transform does not check it). Records of
    either input count; a record missing from one input is unlinked there.
    Out: [source, records, linked, match_rate, true_linked, true_match_rate], one row per source,
    ordered by source. `match_rate` is what published tables call the match rate; `true_match_rate`
    is what it would be with perfect linkage, so their gap is the linker's miss rate per source.
    """
    return _match_rates(_records(crosswalk, truth))


def evaluation_report(crosswalk: DataFrame, truth: DataFrame) -> dict[str, Any]:
    """Pairwise scores, B-cubed scores and match rates in one JSON-ready dict, to log (e.g. MLflow).

    In: as `pairwise_scores`. Out: {"pairwise": {...}, "bcubed": {...}, "match_rates": [one dict per
    source with the columns of `match_rates`]}. The joined records are cached for the three views.
    """
    _check_inputs(crosswalk, truth)
    records = _records(crosswalk, truth).cache()
    try:
        return {
            "pairwise": _pairwise(records),
            "bcubed": _bcubed(records),
            "match_rates": [r.asDict() for r in _match_rates(records).collect()],
        }
    finally:
        records.unpersist()


def clerical_sample(
    pairs: DataFrame,
    records: DataFrame,
    *,
    lower: float = 0.2,
    upper: float = 0.95,
    n: int = 200,
    seed: int = 0,
    truth: DataFrame | None = None,
    bands: int = 5,
) -> DataFrame:
    """Up to `n` borderline scored pairs, both records side by side, for clerical review by people.

    In: pairs [record_token_l, record_token_r, match_probability]; records [record_token, source,
    source_record_key, first_name, middle_name, last_name, birth_date, gender, zip], one row per
    token; optional truth [source, source_record_key, true_person_id].
    Keeps lower <= match_probability < upper and splits that range into `bands` equal bands (1 =
    lowest), so reviewers see the whole uncertain range and not only its most crowded part. Within a
    band, pairs are drawn in the order of a hash of both tokens and `seed` (same inputs and seed, same
    sample); bands take turns, so each gets n/bands when it has them and a short band's share goes to
    the others.
    Out: record_token_l, record_token_r, match_probability, band, then each attribute as <name>_l,
    <name>_r, and with truth `true_match` (both records of one true person; null when either record
    is not in the truth). Ordered by match_probability.
    """
    if not (0.0 <= lower < upper <= 1.0 and n >= 0 and bands >= 1):
        raise EvaluationInputError(
            f"clerical_sample needs 0 <= lower < upper <= 1, n >= 0 and bands >= 1; "
            f"got lower={lower}, upper={upper}, n={n}, bands={bands}."
        )
    _require_columns(pairs, "pairs", PAIR_COLUMNS)
    _require_columns(records, "records", RECORD_COLUMNS)
    p = F.col("match_probability")
    borderline = pairs.where((p >= lower) & (p < upper)).select(
        *PAIR_COLUMNS,
        # least(): float rounding just below `upper` must not open a band past the last.
        F.least(F.width_bucket(p, F.lit(lower), F.lit(upper), F.lit(bands)), F.lit(bands))
        .cast("int")
        .alias("band"),
        F.xxhash64("record_token_l", "record_token_r", F.lit(seed)).alias("_draw"),
    )
    draw_order = [F.col("_draw"), F.col("record_token_l"), F.col("record_token_r")]
    turn = F.row_number().over(Window.partitionBy("band").orderBy(*draw_order))
    sample = borderline.withColumn("_turn", turn).orderBy("_turn", *draw_order).limit(n)

    for side in ("l", "r"):
        attributes = records.select(
            F.col("record_token").alias(f"record_token_{side}"),
            *[F.col(a).alias(f"{a}_{side}") for a in ATTRIBUTES],
        )
        sample = sample.join(attributes, on=f"record_token_{side}", how="left")
    extra: list[Column] = []
    if truth is not None:
        _require_columns(truth, "truth", TRUTH_COLUMNS)
        for side in ("l", "r"):
            sample = sample.join(
                truth.select(
                    F.col("source").alias(f"source_{side}"),
                    F.col("source_record_key").alias(f"source_record_key_{side}"),
                    F.col("true_person_id").alias(f"_true_{side}"),
                ),
                on=[f"source_{side}", f"source_record_key_{side}"],
                how="left",
            )
        extra.append((F.col("_true_l") == F.col("_true_r")).alias("true_match"))
    side_by_side = [f"{a}_{side}" for a in ATTRIBUTES for side in ("l", "r")]
    return sample.select(*PAIR_COLUMNS, "band", *side_by_side, *extra).orderBy(
        "match_probability", "record_token_l", "record_token_r"
    )
