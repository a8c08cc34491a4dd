"""Silver step of `c2c run`: build every silver table from the bronze versions bronze's manifest
names, stage and check each one at the gate, and commit them together only if no `fail` check failed
(otherwise every stage is discarded and nothing in silver changes; `quality.promotion.promote`). The
tables commit one by one, then the layer's manifest (lakehouse/tables/manifest.py): a promotion cut
short is rebuilt by the next run. `run` is the step as the pipeline runs it; `due` says whether it is
due."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import reduce

from pyspark.sql import DataFrame, SparkSession

from jobs.bronze_job import BRONZE_TABLES
from jobs.layer import LayerReport, RunContext
from jobs.progress import count
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
    BRONZE_QUARANTINE,
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
    upstream_versions,
    write_manifest,
)
from quality.gate import SILVER_GATE, TableCheck, check_references, finish_check, stage_table
from quality.gx_runner import GxValidator
from quality.promotion import Stage, promote
from quality.results import CheckResult, QualityGateFailed

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
    validator: GxValidator | None,
    bronze_versions: dict[str, int] | None = None,
) -> list[TableCheck]:
    """Every silver table built from the bronze tables at `bronze_versions` (default: their current
    versions), staged and checked (nothing committed; `run` commits them or calls `discard`)."""
    key = pii_key(settings)
    codes = load_code_maps(settings.conf_dir)
    versions = bronze_versions if bronze_versions is not None else table_versions(storage, BRONZE.values())
    bronze = {f: storage.read(t, version=versions[t.fqn]) for f, t in BRONZE.items() if t.fqn in versions}
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


def _commit(storage: Storage, checks: list[TableCheck], *, run_id: str) -> dict:
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
    """What silver is built from, by version: the bronze tables and the file ledger at the versions
    bronze's last manifest names (the ledger is recorded to know which files a promotion covered; a
    ledger change alone, such as a duplicate file, is no new data)."""
    versions = upstream_versions(storage, {"bronze": BRONZE_TABLES})
    return {fqn: v for fqn, v in versions.items() if fqn != BRONZE_QUARANTINE.fqn}


def due(storage: Storage) -> bool:
    """True when bronze has a promotion and silver has no manifest, was left partly promoted, or was
    built from another bronze promotion."""
    if latest_manifest(storage, "bronze") is None and latest_manifest(storage, "silver") is None:
        return False
    return layer_due(
        storage, "silver", SILVER_TABLES, input_versions(storage), ignore_inputs=[BRONZE_FILES.fqn]
    )


def run(ctx: RunContext) -> LayerReport:
    """Silver built, checked and promoted, when bronze was promoted since silver was; the report's
    silver section has per-table counts. The tables commit one by one, each a full rebuild (so a
    rebuild after a cut-short promotion gives the same tables), then the layer's manifest with the
    bronze versions read here."""
    storage = ctx.storage
    if not due(storage):
        return LayerReport.unchanged("silver", "no new bronze rows")
    ctx.progress.say("silver", "standardizing, checking and promoting the new bronze rows")
    built_from = input_versions(storage)
    refuse_stale_rerun(
        latest_manifest(storage, "silver"), ctx.run_id, built_from, ignore_inputs=[BRONZE_FILES.fqn]
    )
    started = time.perf_counter()
    checks = build_and_check(
        ctx.spark,
        ctx.settings,
        storage,
        run_id=ctx.run_id,
        run_date=ctx.run_date,
        validator=ctx.validator,
        bronze_versions=built_from,
    )
    stage = Stage(checks, results_of(checks))
    timings = {"silver_build_and_gate": round(time.perf_counter() - started, 3)}
    started = time.perf_counter()

    def commit(checks: list[TableCheck]) -> dict:
        promoted = _commit(storage, checks, run_id=ctx.run_id)
        write_manifest(storage, "silver", SILVER_TABLES, built_from, run_id=ctx.run_id)
        return promoted

    try:
        promoted = promote(
            SILVER_GATE,
            stage,
            commit=commit,
            discard=lambda checks: discard(storage, checks),
            settings=ctx.settings,
            run_id=ctx.run_id,
        )
    except QualityGateFailed as blocked:
        return LayerReport.blocked_at("silver", blocked, stage.checks, timings)
    timings["silver_write"] = round(time.perf_counter() - started, 3)
    written = sum(t["rows_written"] for t in promoted.values())
    return LayerReport(
        "silver",
        promoted,
        f"{len(promoted)} tables, {count(written)} rows written",
        checks=tuple(stage.checks),
        timings_s=timings,
    )
