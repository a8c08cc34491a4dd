"""Bronze step of `c2c run`: land what is new under the raw root, then judge the load at the
raw->bronze gate and promote it.

Landing (lakehouse/sources/landing.py) writes each file's parsed rows, its unparsed lines and its
ledger row per file, so that a run killed mid-landing never lands a file twice or loses one. Those
rows are bronze's stage: silver builds only from the bronze versions that bronze's manifest names
(lakehouse/tables/manifest.py), and the manifest is written only once the files landed since the
last one pass the gate (`quality.promotion.promote`). A blocked load stays unpromoted, and is judged
again on every run until its files are fixed, released or excluded (`c2c quarantine`).
"""

from __future__ import annotations

import time
from pathlib import Path

from pyspark.sql import functions as F

from jobs.layer import LayerReport, RunContext
from jobs.progress import count
from lakehouse.privacy.zones import private_dir, retire_landed
from lakehouse.sources.landing import land
from lakehouse.storage import Storage
from lakehouse.tables import BRONZE, BRONZE_FILES, BRONZE_QUARANTINE, SILVER_PERSON_RECORDS, Table
from lakehouse.tables.manifest import latest_manifest, layer_due, table_versions, write_manifest
from quality.bronze_gate import check_bronze_load
from quality.promotion import Stage, promote
from quality.results import CheckResult, QualityGateFailed

GATE = "raw->bronze"
# Every table landing writes: the layer bronze's manifest covers.
BRONZE_TABLES: tuple[Table, ...] = (*BRONZE.values(), BRONZE_QUARANTINE, BRONZE_FILES)


def run(ctx: RunContext) -> LayerReport:
    """Land, gate and promote; the report's bronze section is landing's per-file accounting plus the
    counts per source."""
    settings, storage = ctx.settings, ctx.storage
    raw_root = settings.storage.raw_root
    ctx.progress.say("bronze", f"landing new files from {raw_root}")
    started = time.perf_counter()
    if "://" not in raw_root and not Path(raw_root).exists():
        private_dir(Path(raw_root))  # a landing area removed once everything was landed: nothing new to land

    def landed_batch(done: int, total: int, counts: dict[str, dict]) -> None:
        if done < total:  # the last batch's line is the layer's summary
            rows = sum(c["landed"] for c in counts.values())
            ctx.progress.say(
                "bronze", f"{done}/{total} files, {count(rows)} rows", time.perf_counter() - started
            )

    landing = land(
        ctx.spark,
        storage,
        raw_root,
        # Once rows and ledger are committed, every extract the run saw can leave the landing area.
        after_landing=lambda files, load_id: retire_landed(ctx.spark, settings, files, load_id=load_id),
        batch_bytes=settings.raw.landing_batch_mb * 2**20,
        on_batch=landed_batch,
    )
    timings = {"bronze": round(time.perf_counter() - started, 3)}
    section = {**landing, "sources": _per_source(landing)}
    landed = [f for f in landing["files"].values() if f.get("status") == "landed"]
    line = (
        f"{len(landed)}/{len(landing['files'])} files landed, "
        f"{count(sum(f.get('landed', 0) for f in landed))} rows, "
        f"{count(sum(f.get('quarantined', 0) for f in landed))} quarantined"
    )
    if not due(storage):
        return LayerReport("bronze", section, line, timings_s=timings)
    started = time.perf_counter()
    checks, blocked = gate_and_promote(ctx, landing["load_id"])
    timings["gate_bronze"] = round(time.perf_counter() - started, 3)
    return LayerReport("bronze", section, line, checks=tuple(checks), timings_s=timings, blocked=blocked)


def gate_and_promote(ctx: RunContext, load_id: str) -> tuple[list[CheckResult], QualityGateFailed | None]:
    """Judge the files landed since bronze's last promotion at the raw->bronze gate (`load_id`: this
    run's landing) and, if it passes, write bronze's manifest. Returns the gate's checks, and the
    QualityGateFailed when it blocked."""
    storage = ctx.storage
    pending = landed_since_promotion(storage)
    ledger = storage.read(BRONZE_FILES) if storage.info(BRONZE_FILES).exists else None
    checks = check_bronze_load(
        ctx.spark, pending, ledger, load_id, validator=ctx.validator, quality=ctx.settings.quality
    )
    try:
        promote(
            GATE,
            Stage(pending, checks),
            commit=lambda _: write_manifest(storage, "bronze", BRONZE_TABLES, {}, run_id=ctx.run_id),
            discard=lambda _: None,  # the landed rows stay, unpromoted, for the operator to decide on
            settings=ctx.settings,
            run_id=ctx.run_id,
        )
    except QualityGateFailed as blocked:
        return checks, blocked
    return checks, None


def due(storage: Storage) -> bool:
    """True when bronze holds something its manifest does not: a landing, an operator's decision,
    or no manifest yet. Nothing landed ever: not due."""
    if not table_versions(storage, BRONZE_TABLES):
        return False
    return layer_due(storage, "bronze", BRONZE_TABLES, {})


def landed_since_promotion(storage: Storage) -> list[dict]:
    """Ledger rows of the files landed since bronze was last promoted: those not in the ledger version
    bronze's manifest recorded. A lake without a bronze manifest falls back on the ledger version
    silver's manifest recorded as its input, and a lake adopted from before manifests on the files
    ingested after silver.person_records' last commit; with neither, every landed file. Non-empty means
    a load is waiting for the gate: this run landed something, or an earlier run's gate blocked."""
    if not storage.info(BRONZE_FILES).exists:
        return []
    landed = storage.read(BRONZE_FILES).where(F.col("status") == "landed")
    bronze, silver = latest_manifest(storage, "bronze"), latest_manifest(storage, "silver")
    recorded = None
    if bronze is not None:
        recorded = bronze.tables.get(BRONZE_FILES.fqn)
    elif silver is not None:
        recorded = silver.inputs.get(BRONZE_FILES.fqn)
    if recorded is not None:
        before = storage.read(BRONZE_FILES, version=recorded)
        promoted = before.where(F.col("status") == "landed").select("file", "sha256")
        landed = landed.join(promoted, ["file", "sha256"], "left_anti")
    elif silver is not None and storage.info(SILVER_PERSON_RECORDS).exists:  # adopted
        promoted_at = storage.history(SILVER_PERSON_RECORDS, 1)[0].timestamp
        landed = landed.where(F.col("ingested_at") > F.lit(promoted_at))
    return [r.asDict() for r in landed.collect()]


def _per_source(landing: dict) -> dict:
    """Raw, landed and quarantined rows and new files per source (the agency folder), from the files."""
    sources: dict = {}
    for name, f in landing["files"].items():
        if f.get("status") != "landed":
            continue
        totals = sources.setdefault(
            name.split("/", 1)[0], {"files": 0, "raw": 0, "landed": 0, "quarantined": 0}
        )
        totals["files"] += 1
        for k in ("raw", "landed", "quarantined"):
            totals[k] += f[k]
    return dict(sorted(sources.items()))
