"""silver.person_records on a generated state: exactly the truth's records, identities standardized,
SSNs only as HMAC tokens."""

from __future__ import annotations

import csv
import hashlib
import hmac
import unicodedata

import pytest
from pyspark.sql import functions as F

from jobs import silver_job
from lakehouse.silver.tokens import pii_key
from lakehouse.sources.landing import land
from lakehouse.storage import open_storage
from lakehouse.tables import SILVER_PERSON_RECORDS


def _read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _fold(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    return " ".join(
        "".join(c if c.isalpha() or c in " -" else " " if c == "," else "" for c in plain).split()
    )


@pytest.mark.slow
def test_person_records_are_the_truths_records_with_clean_identities(spark, settings, state):
    storage = open_storage(spark, settings)
    land(spark, storage, str(state))
    result = silver_job.run(spark, settings, storage, run_id="r1", bronze_changed=True)
    assert result["person_records"]["version"] == 0
    assert result["k12_enrollments"]["unknown_codes"] == {}  # a clean state has no unknown codes
    records = storage.read(SILVER_PERSON_RECORDS)

    truth = _read(state / "_truth" / "person_truth.csv")
    assert {(r["source"], r["source_record_key"]) for r in truth} == {
        (r["source"], r["source_record_key"]) for r in records.select("source", "source_record_key").collect()
    }
    assert "ssn" not in records.columns

    people = {p["person_id"]: p for p in _read(state / "_truth" / "persons.csv")}
    owner = {(r["source"], r["source_record_key"]): r["true_person_id"] for r in truth}
    key = pii_key(settings)
    rows = records.where(F.col("has_identity")).collect()
    birth_ok = token_ok = last_ok = with_ssn = with_birth = 0
    for r in rows:
        true = people[owner[(r["source"], r["source_record_key"])]]
        if r["birth_date"]:  # DE 9C wage records carry no birth date
            with_birth += 1
            birth_ok += str(r["birth_date"]) == true["birth_date"]
        last_ok += r["last_name"] in (_fold(true["last_name"]), _fold(true["married_last_name"] or "-"))
        if r["ssn_token"] and true["ssn"]:
            with_ssn += 1
            token_ok += r["ssn_token"] == hmac.new(key, true["ssn"].encode(), hashlib.sha256).hexdigest()
    # Noise is the generator's: a few percent of records disagree with the truth, never most.
    assert birth_ok / with_birth > 0.95
    assert last_ok / len(rows) > 0.8
    assert token_ok / with_ssn > 0.95

    again = silver_job.run(spark, settings, storage, run_id="r2", bronze_changed=False)
    assert again == {"person_records": "unchanged (no new bronze rows)"}
    assert storage.info(SILVER_PERSON_RECORDS).version == 0
