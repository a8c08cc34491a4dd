"""Silver on a generated state: person records are exactly the truth's records, identities
standardized, SSNs only as HMAC tokens; event tables de-identified and tied to person records; and
the identity step that follows gives each of those records a pseudonymous person id.

The state is the session's shared end-to-end run (`pipeline_run`: `c2c run` on a generated state of
3,000 people, tests/e2e.py), read, never written: a second whole pipeline run here would cost the
suite minutes and prove nothing more. Its re-run ("unchanged") is tested on a copy in tests/jobs."""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import re
import unicodedata

import pytest
from pyspark.sql import functions as F

from jobs import silver_job
from lakehouse.silver.events import keyed_record_key
from lakehouse.silver.tokens import pii_key
from lakehouse.storage import open_storage
from lakehouse.tables import IDENTITY_CROSSWALK, OPS_QUALITY_RESULTS, SILVER_PERSON_RECORDS
from tests.conftest import make_settings


def _read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _fold(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    return " ".join(
        "".join(c if c.isalpha() or c in " -" else " " if c == "," else "" for c in plain).split()
    )


@pytest.mark.slow
def test_silver_from_a_generated_state(spark, pipeline_run, tmp_path):
    """person_records are exactly the truth's records; every event table is filled, joins to them by
    record token, carries no direct identifier; a clean state passes every gate and holds nothing back."""
    var = pipeline_run.var
    state = var / "raw"
    settings = make_settings(
        tmp_path, root=str(var / "lake"), restricted_root=str(var / "restricted"), raw_root=str(state)
    )
    key_file = str(var / "secrets" / "pii_dev.key")
    settings = settings.model_copy(update={"pii": settings.pii.model_copy(update={"dev_key_file": key_file})})
    storage = open_storage(spark, settings)
    report = json.loads((var / "runs" / pipeline_run.run_id / "report.json").read_text())
    silver = report["silver"]
    assert silver["silver.person_records"]["version"] == 0
    assert {t: (v["unknown_codes"], v["rows_quarantined"]) for t, v in silver.items()} == {
        t: ({}, 0) for t in silver
    }  # a clean state has no unknown codes and nothing to hold back
    assert set(silver) == {"silver.person_records", *(t.fqn for t, _ in silver_job.EVENT_TABLES)}
    gate = report["quality"]["gates"]["bronze->silver"]
    assert gate["failed"] == [] and gate["checks"] > 40
    results = storage.read(OPS_QUALITY_RESULTS).where(F.col("run_id") == pipeline_run.run_id)
    assert results.where(F.col("policy") == "fail").where(~F.col("success")).count() == 0
    records = storage.read(SILVER_PERSON_RECORDS)
    tokens = records.select("record_token")
    for table, _ in silver_job.EVENT_TABLES:
        events = storage.read(table)
        assert not {"source_record_key", "ssid", "ssn", "ssn_token", "birth_date"} & set(events.columns)
        assert events.count() > 0, table.fqn
        assert events.join(tokens, "record_token", "left_anti").count() == 0, table.fqn

    key = pii_key(settings)
    # Silver spells EDD keys with a token in place of the SSN; the truth spells them as the source does.
    truth = [
        {**r, "source_record_key": keyed_record_key(r["source"], r["source_record_key"], key)}
        for r in _read(state / "_truth" / "person_truth.csv")
    ]
    assert {(r["source"], r["source_record_key"]) for r in truth} == {
        (r["source"], r["source_record_key"]) for r in records.select("source", "source_record_key").collect()
    }
    assert "ssn" not in records.columns

    people = {p["person_id"]: p for p in _read(state / "_truth" / "persons.csv")}
    owner = {(r["source"], r["source_record_key"]): r["true_person_id"] for r in truth}
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

    # Identity ran on the same records: every truth key has one pseudonymous person id.
    identity = report["identity"]
    crosswalk = storage.read(IDENTITY_CROSSWALK)
    keys = {(r["source"], r["source_record_key"]): r["person_id"] for r in crosswalk.collect()}
    assert set(keys) == set(owner)
    assert all(re.fullmatch(r"p[0-9a-f]{20}", pid) for pid in keys.values())
    assert identity["persons"] == len(set(keys.values()))
    assert identity["id_events"]["created"] == identity["persons"]
    assert identity["model"] == {"version": "1", "trained_in_this_run": True}
    # Measured 0.978 pairwise and 0.981 B-cubed on 3,000 people; this guards against regressions.
    assert identity["evaluation"]["pairwise"]["precision"] > 0.99
    assert identity["evaluation"]["bcubed"]["f1"] > 0.96
    assert storage.info(SILVER_PERSON_RECORDS).version == 0
