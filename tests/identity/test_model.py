"""The linkage model: what training may change and what it must leave as set."""

from __future__ import annotations

import copy
import logging
import random

import duckdb
import pyarrow as pa
import pytest

from lakehouse.identity import model as linkage_model
from tests.identity.linkage_rows import arrow_schema, soundex

FIRST = ["ANA", "JOSE", "LINH", "OMAR", "SOFIA", "KENJI", "EMILY", "CARLOS", "AISHA", "JOHN"]
LAST = ["GARCIA", "NGUYEN", "SMITH", "KHAN", "RIVERA", "SATO", "BROWN", "REYES", "TRAN", "LOPEZ"]


def _linkage_input(persons: int = 60) -> list[dict]:
    """Three records per person: two with SSN tokens and birth dates, one wage-like (no birth date);
    names and ZIPs never disagree within a person here, as in the pairs the model trains m on."""
    rng = random.Random(7)
    rows = []
    for p in range(persons):
        first, last = FIRST[p % 10], LAST[(p * 3 + p // 10) % 10]
        birth = f"{rng.randrange(1970, 2010)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        gender, zip_code, ssn = rng.choice("MF"), f"9{rng.randrange(1000, 9999)}", f"s{p}"
        for i, source in enumerate(("ccc", "dhcs", "edd")):
            wage = source == "edd"
            rows.append(
                {
                    "record_token": f"{source}-{p}",
                    "source": source,
                    "first_name": first,
                    "first_roots": [first],
                    "first_soundex": soundex(first),
                    "middle_initial": "Q" if i else None,
                    "last_name": last,
                    "last_names": [last],
                    "last_soundex": soundex(last),
                    "birth_date": None if wage else birth,
                    "birth_year": None if wage else int(birth[:4]),
                    "birth_month_day": None if wage else birth[5:],
                    "gender": None if wage else gender,
                    "ssn_token": ssn,
                    "ssn_first5_token": f"{ssn}-5",
                    "ssn_last4_token": f"{ssn}-4",
                    "ssn_sorted_token": f"{ssn}-sorted",
                    "ssid": None,
                    "seid": None,
                    "cin": None,
                    "zip": None if wage else zip_code,
                    "zip3": None if wage else zip_code[:3],
                }
            )
    return rows


@pytest.fixture(scope="module")
def trained() -> tuple[dict, dict]:
    """The model trained as the identity step trains it, and the m it measured for MEASURED."""
    from splink import DuckDBAPI, Linker

    rows = _linkage_input()
    con = duckdb.connect()
    con.register("rows_arrow", pa.Table.from_pylist(rows, schema=arrow_schema()))
    con.execute("CREATE TABLE linkage_input AS SELECT * FROM rows_arrow")
    db_api = DuckDBAPI(con)
    certain = con.execute(f"SELECT count(*) FROM ({linkage_model.deterministic_sql('linkage_input')})")
    prior = linkage_model.prior(certain.fetchall()[0][0], len(rows))
    con.execute(f"CREATE TABLE labels AS {linkage_model.labels_sql('linkage_input')}")
    counts = con.execute(linkage_model.measured_m_sql("labels", "linkage_input")).fetchall()
    measured = linkage_model.measured_m(counts)
    settings = linkage_model.linkage_settings(prior_probability=prior, measured=measured)
    linker = Linker(db_api.register("linkage_input"), settings, log_level=logging.WARNING)
    skipped = linkage_model.train(linker, db_api.register("labels"), max_pairs=5e4)
    assert skipped == []
    return linker.misc.save_model_to_json(), measured


def _levels(model: dict, column: str) -> list[dict]:
    (comparison,) = [c for c in model["comparisons"] if c["output_column_name"] == column]
    return [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]


def test_m_of_gender_middle_initial_and_zip_is_measured_on_the_labels_that_compare_them():
    # 60 persons: ccc-dhcs pairs share an SSN and a gender, a ZIP and no middle initial (ccc has
    # none); dhcs-edd pairs share the middle initial; edd records have no gender or ZIP.
    rows = _linkage_input()
    con = duckdb.connect()
    con.register("rows_arrow", pa.Table.from_pylist(rows, schema=arrow_schema()))
    con.execute("CREATE TABLE linkage_input AS SELECT * FROM rows_arrow")
    con.execute(f"CREATE TABLE labels AS {linkage_model.labels_sql('linkage_input')}")
    counts = sorted(con.execute(linkage_model.measured_m_sql("labels", "linkage_input")).fetchall())
    assert counts == [("gender", 0, 60), ("middle_initial", 0, 60), ("zip", 0, 60)]
    # Half a pair is added to every level: a level no label shows is unlikely, not impossible.
    assert linkage_model.measured_m(counts) == {
        "gender": pytest.approx((60.5 / 61, 0.5 / 61)),
        "middle_initial": pytest.approx((60.5 / 61, 0.5 / 61)),
        "zip": pytest.approx((60.5 / 61.5, 0.5 / 61.5, 0.5 / 61.5)),
    }


def test_a_level_is_never_below_the_floor_and_an_unmeasured_comparison_keeps_its_default():
    many = [("gender", 0, 100_000), ("zip", 0, 9_000), ("zip", 1, 500), ("zip", 2, 500)]
    measured = linkage_model.measured_m(many)
    assert measured["gender"][1] == pytest.approx(linkage_model.MIN_M, rel=0.01)
    assert sum(measured["gender"]) == pytest.approx(1.0)
    assert measured["zip"] == pytest.approx((9000.5 / 10001.5, 500.5 / 10001.5, 500.5 / 10001.5))
    assert "middle_initial" not in measured  # no label pair compared it: FIXED_M stands
    settings = linkage_model.linkage_settings(measured=measured).get_settings("duckdb").as_dict()
    (mi,) = [c for c in settings["comparisons"] if c["output_column_name"] == "middle_initial"]
    levels = [lv for lv in mi["comparison_levels"] if not lv.get("is_null_level")]
    assert [lv["m_probability"] for lv in levels] == list(linkage_model.FIXED_M["middle_initial"])


@pytest.mark.parametrize("column", linkage_model.MEASURED)
def test_measured_m_is_fixed_in_the_trained_model(trained, column):
    # Splink's training would put all of m on agreement and leave a level no label pair shows at its
    # untrained default; the measured values stand instead, and go with the model JSON.
    model, measured = trained
    levels = _levels(model, column)
    assert [lv["m_probability"] for lv in levels] == pytest.approx(list(measured[column]))
    assert all(lv["fix_m_probability"] for lv in levels)
    assert levels[-1]["m_probability"] < 0.01


def test_ssn_levels_keep_their_fixed_m_and_sum_to_one(trained):
    levels = _levels(trained[0], "ssn")
    assert [lv.get("label_for_charts") for lv in levels][1:4] == [
        "two digits transposed",
        "first five or last four digits agree",
        "the same digits in another order",
    ]
    assert [lv["m_probability"] for lv in levels] == pytest.approx([0.95, 0.0175, 0.015, 0.0025, 0.015])
    assert all(lv["fix_m_probability"] for lv in levels)


def test_trained_comparisons_get_m_from_the_labels(trained):
    # names agree in every id-sharing pair of this input: exact agreement carries all of m
    model, _ = trained
    assert _levels(model, "first_name")[0]["m_probability"] == pytest.approx(1.0)
    assert not _levels(model, "first_name")[0].get("fix_m_probability", False)
    assert model["probability_two_random_records_match"] > 0


def test_a_level_random_sampling_never_saw_gets_the_rule_of_three_bound():
    model = {
        "comparisons": [
            {
                "output_column_name": "ssn",
                "comparison_levels": [
                    {"label_for_charts": "null", "is_null_level": True},
                    {"label_for_charts": "exact", "m_probability": 0.95, "u_probability": 1e-5},
                    {"label_for_charts": "two digits transposed", "m_probability": 0.0175},
                    {"label_for_charts": "else", "m_probability": 0.015, "u_probability": 0.99},
                ],
            },
            {
                "output_column_name": "native_id",
                "comparison_levels": [
                    {"label_for_charts": "agrees", "m_probability": 0.9},
                    {"label_for_charts": "else", "sql_condition": "ELSE", "m_probability": 0.1},
                ],
            },
        ]
    }
    filled = linkage_model.fill_unseen_u(model, sampled_pairs=2e6)
    assert filled == ["ssn: two digits transposed", "native_id: agrees"]  # never the ELSE level
    assert [level.get("u_probability") for level in model["comparisons"][0]["comparison_levels"]] == [
        None,
        1e-5,
        1.5e-6,
        0.99,
    ]
    assert "u_probability" not in model["comparisons"][1]["comparison_levels"][1]
    assert linkage_model.fill_unseen_u(model, sampled_pairs=2e6) == []  # nothing left unseen


def test_an_unseen_ssn_level_still_counts_for_a_match_after_training(trained):
    """The fixture's random pairs hold no transposed SSNs: the level must get a u that makes it
    evidence for a match (its Bayes factor above 1), not Splink's default."""
    model = copy.deepcopy(trained[0])
    filled = linkage_model.fill_unseen_u(model, sampled_pairs=60 * 3 * (60 * 3 - 1) / 2)
    ssn = next(c for c in model["comparisons"] if c["output_column_name"] == "ssn")
    for level in ssn["comparison_levels"]:
        if not level.get("is_null_level") and level["label_for_charts"] != "All other comparisons":
            assert level["m_probability"] / level["u_probability"] > 1, (level, filled)
