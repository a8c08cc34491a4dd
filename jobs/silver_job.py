"""Silver step of `c2c run`: build every silver table from bronze, stage and check each one at the
gate, and commit them together only if no `fail` check failed (otherwise every stage is discarded and
nothing in silver changes). The tables commit one by one, then the layer's manifest
(lakehouse/tables/manifest.py): a promotion cut short is rebuilt by the next run. `gated_silver` is the
whole step as the pipeline runs it, raw->bronze gate first; `due` and `landed_since_promotion` say
whether it is due."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import reduce

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.settings import Settings
from lakehouse.silver.codes import load_code_maps
from lakehouse.silver.colleges import build_college_enrollments, build_completions
from lakehouse.silver.k12 import build_demographics, build_k12_enrollments
from lakehouse.silver.person_records import build_person_records, family_identities
from lakehouse.silver.services import build_aid, build_benefits, build_services
from lakehouse.silver.tokens import pii_key
from lakehouse.silver.workforce import build_credentials, build_staff_assignments, build_wages
from lakehouse.storage import Storage
from lakehouse.tables import (
    BRONZE,
    BRONZE_FILES,
    SILVER_AID,
    SILVER_BENEFITS,
    SILVER_COLLEGE_ENROLLMENTS,
    SILVER_COMPLETIONS,
    SILVER_CREDENTIALS,
    SILVER_DEMOGRAPHICS,
    SILVER_K12_ENROLLMENTS,
    SILVER_PERSON_RECORDS,
    SILVER_QUARANTINE,
    SILVER_SERVICES,
    SILVER_STAFF_ASSIGNMENTS,
    SILVER_WAGES,
    Table,
)
from lakehouse.tables.manifest import (
    latest_manifest,
    layer_due,
    refuse_stale_rerun,
    table_versions,
    write_manifest,
)
from quality.bronze_gate import check_bronze_load
from quality.gate import SILVER_GATE, TableCheck, check_references, finish_check, stage_table
from quality.gx_runner import GxValidator
from quality.results import CheckResult, stop_if_blocked

EVENT_TABLES = (
    (SILVER_K12_ENROLLMENTS, build_k12_enrollments),
    (SILVER_DEMOGRAPHICS, build_demographics),
    (SILVER_COLLEGE_ENROLLMENTS, build_college_enrollments),
    (SILVER_COMPLETIONS, build_completions),
    (SILVER_CREDENTIALS, build_credentials),
    (SILVER_STAFF_ASSIGNMENTS, build_staff_assignments),
    (SILVER_WAGES, build_wages),
    (SILVER_BENEFITS, build_benefits),
    (SILVER_AID, build_aid),
    (SILVER_SERVICES, build_services),
)
# Every table the silver step writes: the layer its manifest covers.
SILVER_TABLES: tuple[Table, ...] = (
    SILVER_PERSON_RECORDS,
    *(table for table, _ in EVENT_TABLES),
    SILVER_QUARANTINE,
)


def build_and_check(
    spark: SparkSession,
    settings: Settings,
    storage: Storage,
    *,
    run_id: str,
    run_date: date,
    validator: GxValidator,
) -> list[TableCheck]:
    """Every silver table built from the bronze tables that exist, staged and checked (nothing
    committed; the caller commits with `promote` or calls `discard`)."""
    key = pii_key(settings)
    codes = load_code_maps(settings.conf_dir)
    bronze = {f: storage.read(t) for f, t in BRONZE.items() if storage.info(t).exists}
    identities = [family_identities(f, df, key=key) for f, df in bronze.items() if f != "EMPLOYERS"]
    if not identities:
        return []

    def stage(df: DataFrame, table) -> TableCheck:
        started = time.perf_counter()
        staged = stage_table(df, table, storage=storage, run_id=run_id, run_date=run_date)
        staged.seconds["total"] = round(time.perf_counter() - started, 3)
        return staged

    def finish(check: TableCheck) -> None:
        info = storage.info(check.table)
        started = time.perf_counter()
        finish_check(
            check,
            validator=validator,
            quality=settings.quality,
            run_date=run_date,
            previous_rows=info.rows if info.exists else None,
        )
        check.seconds["total"] += round(time.perf_counter() - started, 3)

    records = build_person_records(reduce(lambda a, b: a.unionByName(b), identities), key=key)
    checks = [stage(records, SILVER_PERSON_RECORDS)]
    try:
        for table, build in EVENT_TABLES:
            events = build(bronze, codes=codes, key=key)
            if events is not None:
                checks.append(stage(events, table))
        # Every event table against the promoted person records, in one Spark job.
        known = checks[0].passed.select("record_token")
        seconds = check_references(checks[1:], known, storage=storage, run_id=run_id)
        checks[0].seconds["referential_integrity_of_events"] = seconds
        # The finishing checks of different tables are independent small Spark jobs: overlap them
        # (each table's own time then counts time shared with others; the wall time is kept too).
        started = time.perf_counter()
        with ThreadPoolExecutor(settings.quality.check_threads, thread_name_prefix="gate") as pool:
            list(pool.map(finish, checks))
        checks[0].seconds["finishing_checks_of_all_tables"] = round(time.perf_counter() - started, 3)
    except BaseException:
        discard(storage, checks)
        raise
    return checks


def discard(storage: Storage, checks: list[TableCheck]) -> None:
    """Delete every stage still uncommitted (all of them when the gate blocked)."""
    for c in checks:
        c.discard(storage)


def promote(storage: Storage, checks: list[TableCheck], *, run_id: str) -> dict:
    """Commit each checked table's staged rows and write its held-back rows; returns per-table
    counts for the report. (The caller discards what is left staged, whether or not it promotes.)"""
    report = {}
    held_before = set()
    if storage.info(SILVER_QUARANTINE).exists:
        names = storage.read(SILVER_QUARANTINE).select("table_name").distinct().collect()
        held_before = {r["table_name"] for r in names}
    for c in checks:
        step = f"silver/{c.table.name}"
        started = time.perf_counter()
        # A full rebuild (staged as an overwrite with the registry's schema, checked at the commit).
        written = storage.commit(c.staged)
        # Held-back rows replace the table's previous ones; with neither, no commit at all.
        if c.held or c.table.name in held_before:
            storage.write(
                c.held_back,
                SILVER_QUARANTINE,
                "overwrite",
                replace_where={"table_name": c.table.name},
                run_id=run_id,
                step=f"{step}/quarantine",
            )
        report[c.table.fqn] = {
            "version": written.version,
            "rows_built": c.rows,
            "rows_written": c.rows - c.held,
            "rows_quarantined": c.held,
            "unknown_codes": c.unknown_codes,
            "checks": {"run": len(c.results), "passed": sum(r.success for r in c.results)},
            "timings_s": {**c.seconds, "write": round(time.perf_counter() - started, 3)},
        }
    return report


def results_of(checks: list[TableCheck]) -> list[CheckResult]:
    return [r for c in checks for r in c.results]


def input_versions(storage: Storage) -> dict[str, int]:
    """What silver is built from, by version: every bronze table, and the file ledger (recorded to know
    which files a promotion covered; a ledger change alone, such as a duplicate file, is no new data)."""
    return table_versions(storage, [*BRONZE.values(), BRONZE_FILES])


def due(storage: Storage) -> bool:
    """True when silver has no manifest, was left partly promoted, or bronze changed since it was built."""
    return layer_due(
        storage, "silver", SILVER_TABLES, input_versions(storage), ignore_inputs=[BRONZE_FILES.fqn]
    )


def landed_since_promotion(storage: Storage) -> list[dict]:
    """Ledger rows of the files landed since silver was last promoted: those not in the ledger version
    silver's manifest recorded (all of them before its first manifest, even if a cut-short run committed
    some tables). Non-empty means silver is behind bronze: this run landed something, or an earlier
    run's gate blocked promotion (or it was cut short) and this run retries it. A lake adopted from
    before manifests falls back to the files ingested after silver.person_records' last commit."""
    if not storage.info(BRONZE_FILES).exists:
        return []
    landed = storage.read(BRONZE_FILES).where(F.col("status") == "landed")
    manifest = latest_manifest(storage, "silver")
    if manifest is not None and BRONZE_FILES.fqn in manifest.inputs:
        before = storage.read(BRONZE_FILES, version=manifest.inputs[BRONZE_FILES.fqn])
        promoted = before.where(F.col("status") == "landed").select("file", "sha256")
        landed = landed.join(promoted, ["file", "sha256"], "left_anti")
    elif manifest is not None and storage.info(SILVER_PERSON_RECORDS).exists:  # adopted
        promoted = storage.history(SILVER_PERSON_RECORDS, 1)[0].timestamp
        landed = landed.where(F.col("ingested_at") > F.lit(promoted))
    return [r.asDict() for r in landed.collect()]


def gated_silver(
    spark: SparkSession,
    settings: Settings,
    storage: Storage,
    pending: list[dict],
    *,
    run_id: str,
    load_id: str,
    run_date: date,
    validator: GxValidator,
    results: list[CheckResult],
    steps: dict[str, float],
) -> dict:
    """The raw->bronze gate on the `pending` files, then silver built, checked and promoted; the
    checks' results are appended to `results`, step timings to `steps`. Returns the report's silver
    section; a gate that blocks raises QualityGateFailed (nothing of silver committed). The tables
    commit one by one, each a full rebuild (so a rebuild after a cut-short promotion gives the same
    tables), then the layer's manifest with the bronze versions read here."""
    built_from = input_versions(storage)
    refuse_stale_rerun(
        latest_manifest(storage, "silver"), run_id, built_from, ignore_inputs=[BRONZE_FILES.fqn]
    )
    t0 = time.perf_counter()
    ledger = storage.read(BRONZE_FILES) if storage.info(BRONZE_FILES).exists else None
    results += check_bronze_load(
        spark, pending, ledger, load_id, validator=validator, quality=settings.quality
    )
    steps["gate_bronze"] = round(time.perf_counter() - t0, 3)
    stop_if_blocked("raw->bronze", results, settings, run_id)
    t0 = time.perf_counter()
    checks = build_and_check(spark, settings, storage, run_id=run_id, run_date=run_date, validator=validator)
    results += results_of(checks)
    steps["silver_build_and_gate"] = round(time.perf_counter() - t0, 3)
    try:
        stop_if_blocked(SILVER_GATE, results, settings, run_id)
        t0 = time.perf_counter()
        promoted = promote(storage, checks, run_id=run_id)
        write_manifest(storage, "silver", SILVER_TABLES, built_from, run_id=run_id)
        steps["silver_write"] = round(time.perf_counter() - t0, 3)
    finally:
        discard(storage, checks)
    return promoted
