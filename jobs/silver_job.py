"""Silver step of `c2c run`: rebuild person records and K-12 enrollment events when bronze changed."""

from __future__ import annotations

from functools import reduce

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lakehouse.settings import Settings
from lakehouse.silver.codes import load_code_maps
from lakehouse.silver.k12 import build_k12_enrollments
from lakehouse.silver.person_records import build_person_records, family_identities
from lakehouse.silver.tokens import pii_key
from lakehouse.storage import Storage
from lakehouse.tables import BRONZE, SILVER_K12_ENROLLMENTS, SILVER_PERSON_RECORDS


def run(
    spark: SparkSession, settings: Settings, storage: Storage, *, run_id: str, bronze_changed: bool
) -> dict:
    if not bronze_changed and storage.info(SILVER_PERSON_RECORDS).exists:
        return {"person_records": "unchanged (no new bronze rows)"}
    key = pii_key(settings)
    parts = [
        family_identities(family, storage.read(table))
        for family, table in BRONZE.items()
        if family != "EMPLOYERS" and storage.info(table).exists
    ]
    if not parts:
        return {"person_records": "no bronze tables yet"}
    records = build_person_records(reduce(lambda a, b: a.unionByName(b), parts), key=key)
    result = storage.write(
        records, SILVER_PERSON_RECORDS, "overwrite", run_id=run_id, step="silver/person_records"
    )
    report: dict = {"person_records": {"version": result.version, "skipped": result.skipped}}
    if storage.info(BRONZE["SENR"]).exists:
        codes = load_code_maps(settings.conf_dir)
        events = build_k12_enrollments(storage.read(BRONZE["SENR"]), codes=codes)
        written = storage.write(
            events, SILVER_K12_ENROLLMENTS, "overwrite", run_id=run_id, step="silver/k12_enrollments"
        )
        unknown = storage.read(SILVER_K12_ENROLLMENTS).select(F.explode("unknown_codes").alias("code"))
        counts = {r["code"]: r["count"] for r in unknown.groupBy("code").count().collect()}
        report["k12_enrollments"] = {"version": written.version, "unknown_codes": counts}
    return report
