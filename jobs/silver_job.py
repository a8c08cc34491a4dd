"""Silver step of `c2c run`: rebuild `silver.person_records` from bronze when bronze changed."""

from __future__ import annotations

from functools import reduce

from pyspark.sql import SparkSession

from lakehouse.settings import Settings
from lakehouse.silver.person_records import build_person_records, family_identities
from lakehouse.silver.tokens import pii_key
from lakehouse.storage import Storage
from lakehouse.tables import BRONZE, SILVER_PERSON_RECORDS


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
    return {"person_records": {"version": result.version, "skipped": result.skipped}}
