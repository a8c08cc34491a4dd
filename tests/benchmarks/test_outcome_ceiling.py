"""The outcome ceiling's test of ambiguity: which wage records no rule could place."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from outcome_ceiling import ambiguous_wage_records  # noqa: E402

COLUMNS = ["record_token", "source", "first_name", "last_name", "middle_initial", "birth_date", "ssid",
           "seid", "cin", "ssn_token", "counties", "wages_from"]  # fmt: skip


def rec(token, source, first, last, *, initial=None, born=None, ssn=None, counties=("19",), wages_from=None):
    return (token, source, first, last, initial, born, None, None, None, ssn, list(counties), wages_from)


def run(records: list[tuple], truth: dict[str, str], tmp_path: Path) -> tuple[set, set]:
    con = duckdb.connect()
    frame = pd.DataFrame(records, columns=COLUMNS)
    con.register("frame", frame)
    con.execute("CREATE TABLE linkage_input AS SELECT * FROM frame")
    con.execute(
        "CREATE TABLE record_keys AS SELECT record_token, source, "
        "record_token AS source_record_key FROM frame"
    )
    path = tmp_path / "person_truth.csv"
    source = dict(zip(frame["record_token"], frame["source"], strict=True))
    pd.DataFrame(
        {
            "source": [source[k] for k in truth],
            "source_record_key": list(truth),
            "true_person_id": list(truth.values()),
        }
    ).to_csv(path, index=False)
    ambiguous_wage_records(con, path)
    ambiguous = {k for (k,) in con.execute("SELECT source_record_key FROM ambiguous").fetchall()}
    wageless = {t for (t,) in con.execute("SELECT t FROM wageless").fetchall()}
    return ambiguous, wageless


def test_two_namesakes_without_ssn_make_a_wage_record_ambiguous(tmp_path):
    records = [
        rec("k1", "calpads", "JUAN", "GARCIA", born="2000-01-01"),
        rec("k2", "calpads", "JUAN", "GARCIA", born="1990-05-05"),
        rec("w1", "edd", "JUAN", "GARCIA", wages_from="2019-03-31"),
        rec("w2", "edd", "JUAN", "GARCIA", wages_from="2020-03-31"),
        # a namesake with an SSN, one too young, one elsewhere, one with another initial: no candidates
        rec("k3", "csu", "ANA", "LOPEZ", born="2000-01-01", ssn="t1"),
        rec("k4", "calpads", "ANA", "LOPEZ", born="2012-01-01"),
        rec("k5", "calpads", "ANA", "LOPEZ", born="1999-01-01", counties=("37",)),
        rec("k6", "calpads", "ANA", "LOPEZ", born="1998-01-01", initial="M"),
        rec("k7", "calpads", "ANA", "LOPEZ", born="1997-01-01", initial="R"),
        rec("w3", "edd", "ANA", "LOPEZ", initial="R", wages_from="2019-03-31"),
    ]
    truth = {"k1": "1", "k2": "2", "w1": "1", "w2": "1", "k3": "3", "k4": "4", "k5": "5", "k6": "6",
             "k7": "7", "w3": "7"}  # fmt: skip
    ambiguous, wageless = run(records, truth, tmp_path)
    assert ambiguous == {"w1", "w2"}
    assert wageless == {"1"}


def test_a_person_with_one_placeable_wage_record_keeps_wages(tmp_path):
    records = [
        rec("k1", "calpads", "JUAN", "GARCIA", born="2000-01-01"),
        rec("k2", "calpads", "JUAN", "GARCIA", born="1990-05-05"),
        rec("w1", "edd", "JUAN", "GARCIA", wages_from="2019-03-31"),
        rec("w2", "edd", "JUAN", "GARCIA", wages_from="2020-03-31", counties=("37",)),
    ]
    ambiguous, wageless = run(records, {"k1": "1", "k2": "2", "w1": "1", "w2": "1"}, tmp_path)
    assert ambiguous == {"w1"}
    assert wageless == set()
