"""Identity-resolution scores on hand-made clusterings whose pair counts and B-cubed averages are worked
out by hand in each test; match rates and the clerical sample compared as whole frames."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from chispa import assert_df_equality

from lakehouse.identity.evaluate import (
    ATTRIBUTES,
    EvaluationInputError,
    bcubed_scores,
    clerical_sample,
    evaluation_report,
    match_rates,
    pairwise_scores,
    read_truth,
    shared_truth_keys,
)
from lakehouse.synth.records import TRUTH_FILE

CROSSWALK = "source STRING, source_record_key STRING, person_id STRING"
TRUTH = "source STRING, source_record_key STRING, true_person_id STRING"
PAIRS = "record_token_l STRING, record_token_r STRING, match_probability DOUBLE"
RECORDS = (
    "record_token STRING, source STRING, source_record_key STRING, first_name STRING, "
    "middle_name STRING, last_name STRING, birth_date DATE, gender STRING, zip STRING"
)


def frames(spark, predicted: list[tuple], true: list[tuple]):
    return spark.createDataFrame(predicted, CROSSWALK), spark.createDataFrame(true, TRUTH)


def pairwise(precision, recall, f1, predicted, true, correct, records, missing_xw=0, missing_truth=0):
    return {
        "precision": pytest.approx(precision),
        "recall": pytest.approx(recall),
        "f1": pytest.approx(f1),
        "predicted_pairs": predicted,
        "true_pairs": true,
        "correct_pairs": correct,
        "records": records,
        "records_missing_from_crosswalk": missing_xw,
        "records_missing_from_truth": missing_truth,
    }


def bcubed(precision, recall, f1):
    return {"precision": pytest.approx(precision), "recall": pytest.approx(recall), "f1": pytest.approx(f1)}


def test_perfect_clustering_scores_one_everywhere(spark):
    # Ids differ between the two inputs: only the grouping matters. P1 has 3 records -> 3 pairs.
    xw, truth = frames(
        spark,
        [("k12", "1", "P1"), ("ccc", "9", "P1"), ("csu", "7", "P1"), ("k12", "2", "P2")],
        [("k12", "1", "T1"), ("ccc", "9", "T1"), ("csu", "7", "T1"), ("k12", "2", "T2")],
    )
    assert pairwise_scores(xw, truth) == pairwise(1.0, 1.0, 1.0, 3, 3, 3, 4)
    assert bcubed_scores(xw, truth) == bcubed(1.0, 1.0, 1.0)


def test_one_wrong_merge_costs_precision_only(spark):
    # Truth {a,b} {c}; predicted {a,b,c}: 3 predicted pairs, 1 true, 1 correct -> P 1/3, R 1, F1 1/2.
    # B-cubed precision: a 2/3, b 2/3, c 1/3 -> 5/9; recall 1; F1 = 2(5/9)/(14/9) = 5/7.
    xw, truth = frames(
        spark,
        [("k12", "a", "P1"), ("ccc", "b", "P1"), ("uc", "c", "P1")],
        [("k12", "a", "T1"), ("ccc", "b", "T1"), ("uc", "c", "T2")],
    )
    assert pairwise_scores(xw, truth) == pairwise(1 / 3, 1.0, 0.5, 3, 1, 1, 3)
    assert bcubed_scores(xw, truth) == bcubed(5 / 9, 1.0, 5 / 7)


def test_one_missed_link_costs_recall_only(spark):
    # Truth {a,b,c}; predicted {a,b} {c}: 1 predicted pair, 3 true, 1 correct -> P 1, R 1/3, F1 1/2.
    # B-cubed recall: a 2/3, b 2/3, c 1/3 -> 5/9; precision 1; F1 5/7.
    xw, truth = frames(
        spark,
        [("k12", "a", "P1"), ("ccc", "b", "P1"), ("uc", "c", "P2")],
        [("k12", "a", "T1"), ("ccc", "b", "T1"), ("uc", "c", "T1")],
    )
    assert pairwise_scores(xw, truth) == pairwise(1.0, 1 / 3, 0.5, 1, 3, 1, 3)
    assert bcubed_scores(xw, truth) == bcubed(1.0, 5 / 9, 5 / 7)


def test_records_in_only_one_input_are_counted_and_kept_as_singletons(spark):
    # Crosswalk {a,b,d}, c absent; truth {a,b,c}, d absent. c is a predicted singleton, d a true one.
    # Predicted pairs 3 (a,b,d), true pairs 3 (a,b,c), correct 1 (a-b) -> P = R = F1 = 1/3.
    # B-cubed (predicted, true cluster sizes; overlap): a, b (3, 3; 2) -> 2/3 and 2/3; c (1, 3; 1)
    # -> precision 1, recall 1/3; d (3, 1; 1) -> precision 1/3, recall 1. Both averages (8/3)/4 = 2/3.
    xw, truth = frames(
        spark,
        [("k12", "a", "P1"), ("ccc", "b", "P1"), ("edd", "d", "P1")],
        [("k12", "a", "T1"), ("ccc", "b", "T1"), ("uc", "c", "T1")],
    )
    assert pairwise_scores(xw, truth) == pairwise(1 / 3, 1 / 3, 1 / 3, 3, 3, 1, 4, 1, 1)
    assert bcubed_scores(xw, truth) == bcubed(2 / 3, 2 / 3, 2 / 3)


def test_singletons_only_score_one_by_convention(spark):
    # No pairs on either side: nothing claimed, nothing missed. Null person ids are singletons each,
    # never one cluster of all the unlinked records (that would invent a pair and score precision 0).
    xw, truth = frames(
        spark,
        [("k12", "a", "P1"), ("ccc", "b", None), ("uc", "c", None)],
        [("k12", "a", "T1"), ("ccc", "b", "T2"), ("uc", "c", "T3")],
    )
    assert pairwise_scores(xw, truth) == pairwise(1.0, 1.0, 1.0, 0, 0, 0, 3)
    assert bcubed_scores(xw, truth) == bcubed(1.0, 1.0, 1.0)


def test_singletons_against_true_links_have_full_precision_and_no_recall(spark):
    # Truth {a,b} {c,d}: 2 true pairs, none predicted -> precision 1.0 by convention, recall 0, F1 0.
    # B-cubed: precision 1 for every record, recall 1/2 each -> F1 2(1/2)/(3/2) = 2/3.
    xw, truth = frames(
        spark,
        [("k12", "a", "P1"), ("ccc", "b", "P2"), ("uc", "c", "P3"), ("edd", "d", "P4")],
        [("k12", "a", "T1"), ("ccc", "b", "T1"), ("uc", "c", "T2"), ("edd", "d", "T2")],
    )
    assert pairwise_scores(xw, truth) == pairwise(1.0, 0.0, 0.0, 0, 2, 0, 4)
    assert bcubed_scores(xw, truth) == bcubed(1.0, 0.5, 2 / 3)


def rates_case(spark):
    # k12-1 + ccc-9 linked and true; k12-2 and ccc-8 a missed link; k12-3 + k12-4 a false merge within
    # one source (not a cross-source link either way); edd-5 is only in the truth, a person of k12-1.
    return frames(
        spark,
        [
            ("k12", "1", "P1"),
            ("ccc", "9", "P1"),
            ("k12", "2", "P2"),
            ("ccc", "8", "P3"),
            ("k12", "3", "P4"),
            ("k12", "4", "P4"),
        ],
        [
            ("k12", "1", "T1"),
            ("ccc", "9", "T1"),
            ("edd", "5", "T1"),
            ("k12", "2", "T2"),
            ("ccc", "8", "T2"),
            ("k12", "3", "T3"),
            ("k12", "4", "T4"),
        ],
    )


RATES = [
    ("ccc", 2, 1, 0.5, 2, 1.0),
    ("edd", 1, 0, 0.0, 1, 1.0),
    ("k12", 4, 1, 0.25, 2, 0.5),
]


def test_match_rates_per_source_from_linker_and_truth(spark):
    expected = spark.createDataFrame(
        RATES,
        "source STRING, records BIGINT, linked BIGINT, match_rate DOUBLE, true_linked BIGINT, "
        "true_match_rate DOUBLE",
    )
    assert_df_equality(match_rates(*rates_case(spark)), expected, ignore_nullable=True)


def test_evaluation_report_combines_the_three_views_as_json(spark):
    # 7 records. Predicted pairs: k12-1/ccc-9 and k12-3/k12-4 -> 2. True pairs: 3 among k12-1, ccc-9,
    # edd-5 plus k12-2/ccc-8 -> 4. Correct: k12-1/ccc-9 -> 1. P 1/2, R 1/4, F1 1/3.
    # B-cubed precision: k12-3 and k12-4 1/2 each, the others 1 -> 6/7. Recall: k12-1, ccc-9 2/3 each,
    # edd-5 1/3, k12-2, ccc-8 1/2 each, k12-3, k12-4 1 each -> (14/3)/7 = 2/3. F1 = 3/4.
    report = evaluation_report(*rates_case(spark))
    names = ("source", "records", "linked", "match_rate", "true_linked", "true_match_rate")
    assert report == {
        "pairwise": pairwise(1 / 2, 1 / 4, 1 / 3, 2, 4, 1, 7, missing_xw=1),
        "bcubed": bcubed(6 / 7, 2 / 3, 3 / 4),
        "match_rates": [dict(zip(names, row, strict=True)) for row in RATES],
    }
    assert json.loads(json.dumps(report)) == report


def test_a_record_listed_twice_is_a_typed_error(spark):
    xw, truth = frames(
        spark, [("k12", "1234567890", "P1"), ("k12", "1234567890", "P2")], [("k12", "1", "T1")]
    )
    with pytest.raises(EvaluationInputError, match=r"more than once \(crosswalk: 1 k12 records\)") as caught:
        pairwise_scores(xw, truth)
    assert "1234567890" not in str(caught.value)  # a record key is restricted: counted, never quoted


def test_a_key_the_truth_gives_to_two_people_is_left_out_and_counted(spark, settings):
    path = Path(settings.storage.raw_root) / TRUTH_FILE
    path.parent.mkdir(parents=True)
    path.write_text(
        "source,source_record_key,true_person_id\n"
        "k12,1,T1\nccc,9,T1\nk12,2,T2\nk12,2,T3\nk12,4,T4\n"  # k12 record 2: two people
    )
    expected = spark.createDataFrame([("k12", "1", "T1"), ("ccc", "9", "T1"), ("k12", "4", "T4")], TRUTH)
    assert_df_equality(read_truth(spark, settings), expected, ignore_row_order=True)
    assert shared_truth_keys(spark, settings) == 1


ATTRIBUTE_TYPES = ("STRING",) * 5 + ("DATE", "STRING", "STRING")
PEOPLE = {
    "t1": ("k12", "1", "MARIA", "L", "GARCIA", date(2001, 3, 4), "F", "95112"),
    "t2": ("ccc", "9", "MARIA", None, "GARCIA LOPEZ", date(2001, 3, 4), "F", "95110"),
    "t3": ("csu", "7", "MARIO", None, "GARCIA", date(2001, 4, 3), "M", "95112"),
    "t4": ("uc", "5", "MARIO", "J", "GARCIA", date(2001, 4, 3), "M", None),
    "t5": ("edd", "3", "MARIA", None, "GARSIA", date(2001, 3, 4), None, "95112"),
}


def people(spark):
    return spark.createDataFrame([(t, *attrs) for t, attrs in PEOPLE.items()], RECORDS)


def side_by_side(left: str, right: str, probability: float, band: int, *truth) -> tuple:
    pairs = zip(PEOPLE[left], PEOPLE[right], strict=True)
    return (left, right, probability, band, *[v for pair in pairs for v in pair], *truth)


def test_clerical_sample_keeps_borderline_pairs_with_both_sides_and_truth(spark):
    pairs = spark.createDataFrame(
        [
            ("t3", "t4", 0.90),
            ("t1", "t3", 0.10),  # below lower
            ("t2", "t3", 0.60),
            ("t1", "t2", 0.30),
            ("t4", "t5", 0.95),  # upper is excluded
            ("t1", "t4", 0.20),  # lower is included
            ("t2", "t5", 0.45),
            ("t3", "t5", 0.99),
        ],
        PAIRS,
    )
    truth = spark.createDataFrame(
        [("k12", "1", "T1"), ("ccc", "9", "T1"), ("csu", "7", "T2"), ("uc", "5", "T2")], TRUTH
    )
    # Bands of width 0.15 from 0.20: [.20,.35) 1, [.35,.50) 2, [.50,.65) 3, [.65,.80) 4, [.80,.95) 5.
    # t5 (edd-3) is not in the truth, so whether it matches is unknown (null), not False.
    typed = zip(ATTRIBUTES, ATTRIBUTE_TYPES, strict=True)
    columns = ", ".join(f"{a}_{side} {t}" for a, t in typed for side in "lr")
    expected = spark.createDataFrame(
        [
            side_by_side("t1", "t4", 0.20, 1, False),
            side_by_side("t1", "t2", 0.30, 1, True),
            side_by_side("t2", "t5", 0.45, 2, None),
            side_by_side("t2", "t3", 0.60, 3, False),
            side_by_side("t3", "t4", 0.90, 5, True),
        ],
        f"{PAIRS}, band INT, {columns}, true_match BOOLEAN",
    )
    actual = clerical_sample(pairs, people(spark), truth=truth)
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_clerical_sample_takes_turns_between_bands_and_repeats_with_its_seed(spark):
    # Four pairs in band 1 and four in band 5; n=4 takes two from each, whatever the hash order.
    pairs = spark.createDataFrame(
        [(f"a{i}", f"b{i}", 0.20 + i / 100) for i in range(1, 5)]
        + [(f"c{i}", f"d{i}", 0.80 + i / 100) for i in range(1, 5)],
        PAIRS,
    )
    sample = clerical_sample(pairs, people(spark), n=4, seed=7)
    rows = sample.collect()
    assert Counter(r["band"] for r in rows) == {1: 2, 5: 2}
    assert [r["match_probability"] for r in rows] == sorted(r["match_probability"] for r in rows)
    assert "true_match" not in sample.columns
    # Tokens unknown to the records table keep the pair, with empty attributes.
    assert all(r["first_name_l"] is None and r["source_r"] is None for r in rows)
    assert_df_equality(clerical_sample(pairs, people(spark), n=4, seed=7), sample)
    # A band short of its share leaves the rest to the others: 1 from band 1, 3 from band 5.
    short = clerical_sample(pairs.where("record_token_l NOT IN ('a2', 'a3', 'a4')"), people(spark), n=4)
    assert Counter(r["band"] for r in short.collect()) == {1: 1, 5: 3}
