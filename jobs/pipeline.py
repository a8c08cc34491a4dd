"""`c2c run`: the main pipeline. Each layer's job is a step: bronze, silver, identity, gold, then the
dashboard (publish). On a synthetic state, whose raw root holds the truth, the identity a run links
is scored against it in a step of its own, evaluate (jobs/evaluate_job.py). Every run holds the
lake's run lock (lakehouse/runlock.py), is recorded in `ops.runs` and leaves
`var/runs/<run_id>/report.json`, failed runs too; a failed step's traceback goes to
`var/runs/<run_id>/run.log`. A run refused because another holds the lake leaves only its
report.json (status "refused"). A re-used run id keeps its earlier reports as `report.<n>.json`."""

from __future__ import annotations

import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from pyspark.sql import SparkSession

from jobs import evaluate_job, gold_job, identity_job, silver_job
from jobs.maintenance_job import sweep_dead_staging
from jobs.progress import Progress, count, print_summary, with_progress_bar
from jobs.run_record import keep_earlier_reports, record_failure, record_refusal, record_run, write_report
from lakehouse.errors import C2CError
from lakehouse.privacy.zones import prepare_restricted_zone, private_dir, retire_landed
from lakehouse.runlock import RunLockHeld, run_lock
from lakehouse.settings import Settings
from lakehouse.silver.tokens import check_pii_key
from lakehouse.sources.landing import land
from lakehouse.spark import build_spark
from lakehouse.storage import Storage, open_storage
from lakehouse.synth.generate import generate
from lakehouse.tables import (
    BRONZE_FILES,
    IDENTITY_CROSSWALK,
    SILVER_PERSON_RECORDS,
    all_tables,
)
from lakehouse.tables.manifest import adopt_existing_lake, layer_due
from quality.gold_gate import GOLD_GATE
from quality.gx_runner import GxValidator
from quality.results import CheckResult, QualityGateFailed, stop_if_blocked, summarize
from quality.store import write_results


def run(
    spark: SparkSession,
    settings: Settings,
    *,
    run_id: str,
    generate_if_empty: bool = True,
    quiet: bool = False,
) -> dict:
    """Run every step that exists, in order, and return the run report. A quality gate that blocks
    promotion stops the run with QualityGateFailed, after its results, Data Docs and report are
    written and the run is recorded as blocked. Any other exception in a step is recorded as a failed
    run (report, ops.runs row, traceback in run.log) and raised: a C2CError as it is, anything else
    as RunFailed naming the step."""
    storage = open_storage(spark, settings)
    started = datetime.now(UTC)
    steps: dict[str, float] = {}
    report: dict = {
        "run_id": run_id,
        "attempt": keep_earlier_reports(settings, run_id),
        "env": settings.env,
        "engine": storage.engine,
        "started_at": started.isoformat(),
    }
    raw = Path(settings.storage.raw_root)
    validator: GxValidator | None = None
    results: list[CheckResult] = []
    progress = Progress(quiet=quiet)
    step, t0 = "generate", time.perf_counter()
    try:
        empty = "://" not in settings.storage.raw_root and not (raw.exists() and any(raw.iterdir()))
        # A raw root emptied by `raw.after_landing` after earlier loads is not a new lake to fill.
        if empty and generate_if_empty and not storage.info(BRONZE_FILES).exists:
            # The embedded default starts from nothing: make a small synthetic state to run on.
            result = generate(spark, settings.synth, raw)
            steps["generate"] = round(time.perf_counter() - t0, 3)
            if not quiet:
                print(
                    f"raw root was empty: generated a synthetic state of {result.persons:,} people in {raw}"
                )
        step, t0 = "bronze", time.perf_counter()
        progress.say("bronze", f"landing new files from {settings.storage.raw_root}")
        if "://" not in settings.storage.raw_root and not raw.exists():
            private_dir(raw)  # a landing area removed once everything was landed: nothing new to land
        landing = land(
            spark,
            storage,
            settings.storage.raw_root,
            # Once rows and ledger are committed, every extract the run saw can leave the landing area.
            after_landing=lambda files, load_id: retire_landed(spark, settings, files, load_id=load_id),
        )
        steps["bronze"] = round(time.perf_counter() - t0, 3)
        report["bronze"] = {**landing, "sources": _per_source(landing)}
        landed = [f for f in landing["files"].values() if f.get("status") == "landed"]
        progress.say(
            "bronze",
            f"{len(landed)}/{len(landing['files'])} files landed, "
            f"{count(sum(f.get('landed', 0) for f in landed))} rows, "
            f"{count(sum(f.get('quarantined', 0) for f in landed))} quarantined",
            steps["bronze"],
        )
        step, t0 = "silver", time.perf_counter()
        docs = restricted_docs = None
        if settings.quality.data_docs:
            docs = settings.var_dir / "quality" / "docs"
            if "://" not in settings.storage.restricted_root:  # restricted tables' pages stay in the zone
                restricted_docs = Path(settings.storage.restricted_root) / "quality" / "docs"
        validator = GxValidator(docs, restricted_docs)
        # A lake from before layer manifests: its layers count as promoted as they are, and are due once.
        layers = {
            "silver": silver_job.SILVER_TABLES,
            "identity": identity_job.IDENTITY_TABLES,
            "gold": gold_job.GOLD_TABLES,
        }
        adopt_existing_lake(storage, layers, run_id=run_id)
        pending = silver_job.landed_since_promotion(storage)
        # Due: new bronze, a promotion cut short (a table newer than the manifest), or no manifest yet.
        if pending or silver_job.due(storage):
            progress.say("silver", "standardizing, checking and promoting the new bronze rows")
            report["silver"] = silver_job.gated_silver(
                spark,
                settings,
                storage,
                pending,
                run_id=run_id,
                load_id=landing["load_id"],
                run_date=started.date(),
                validator=validator,
                results=results,
                steps=steps,
            )
            written = sum(t["rows_written"] for t in report["silver"].values())
            progress.say(
                "silver",
                f"{len(report['silver'])} tables, {count(written)} rows written",
                time.perf_counter() - t0,
            )
        else:
            report["silver"] = "unchanged (no new bronze rows)"
            progress.say("silver", report["silver"])
        step, t0 = "identity", time.perf_counter()
        if _identity_behind(storage):
            progress.say("identity", f"linking person records on {settings.identity.backend}")
            report["identity"] = identity_job.run(spark, settings, storage, run_id=run_id)
            steps["identity"] = round(time.perf_counter() - t0, 3)
            ident = report["identity"]
            linked = (
                f"{count(ident['records'])} person records -> {count(ident['persons'])} persons"
                if isinstance(ident, dict)
                else str(ident)
            )
            progress.say("identity", linked, steps["identity"])
            if isinstance(ident, dict) and evaluate_job.has_truth(settings):
                step, t0 = "evaluate", time.perf_counter()
                ident["evaluation"] = evaluate_job.run(spark, settings, storage, run_id=run_id)
                steps["evaluate"] = round(time.perf_counter() - t0, 3)
                progress.say("evaluate", evaluate_job.figures(ident["evaluation"]), steps["evaluate"])
        else:
            report["identity"] = "unchanged (no new person records)"
            progress.say("identity", report["identity"])
        step, t0 = "gold", time.perf_counter()
        if _gold_behind(storage):
            progress.say("gold", "building cohorts and outcomes, suppressing, publishing")
            report["gold"] = _gold(spark, settings, storage, results, run_id=run_id)
            steps["gold"] = round(time.perf_counter() - t0, 3)
            progress.say("gold", f"{report['gold']['published_files']} tables published", steps["gold"])
        else:
            report["gold"] = "unchanged (no new silver or identity data)"
            progress.say("gold", report["gold"])
        step, t0 = "report", time.perf_counter()
        _finish(spark, storage, settings, report, results, validator, steps, started, status="succeeded")
    except QualityGateFailed:
        _finish(spark, storage, settings, report, results, validator, steps, started, status="blocked")
        raise
    except Exception as exc:
        steps[step] = round(time.perf_counter() - t0, 3)
        failure = record_failure(settings, report, steps, step=step, error=exc, spark=spark, storage=storage)
        if isinstance(exc, C2CError):
            raise
        raise failure from exc
    return report


def _gold(
    spark: SparkSession, settings: Settings, storage: Storage, results: list[CheckResult], *, run_id: str
) -> dict:
    """Build gold, suppress, stage the site's files, run the gold gate, and publish only if it passes."""
    built = gold_job.build(spark, settings, storage, run_id=run_id)
    checks = gold_job.disclose_and_check(built)
    staging, files = gold_job.stage_site(settings, built, run_id=run_id)
    checks.append(gold_job.identifier_check(files))
    results += checks
    try:
        stop_if_blocked(GOLD_GATE, checks, settings, run_id)
    except QualityGateFailed:
        gold_job.discard_site(staging)
        raise
    site = gold_job.publish(spark, settings, storage, built, staging, run_id=run_id)
    return {**gold_job.report(built, checks, files), "site_data": str(site)}


def _gold_behind(storage: Storage) -> bool:
    """True when identity exists and gold is due: no manifest, a gold table newer than its manifest
    (a promotion cut short), or silver's or identity's manifest newer than the ones gold was built on."""
    if not storage.info(IDENTITY_CROSSWALK).exists:
        return False
    return layer_due(storage, "gold", gold_job.GOLD_TABLES, gold_job.input_versions(storage))


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


def _identity_behind(storage: Storage) -> bool:
    """True when silver person records exist and identity is due: no manifest, an identity table newer
    than its manifest (a promotion cut short), or silver's manifest newer than the one identity was
    built on."""
    if not storage.info(SILVER_PERSON_RECORDS).exists:
        return False
    return layer_due(storage, "identity", identity_job.IDENTITY_TABLES, identity_job.input_versions(storage))


def _finish(
    spark: SparkSession,
    storage: Storage,
    settings: Settings,
    report: dict,
    results: list[CheckResult],
    validator: GxValidator | None,
    steps: dict[str, float],
    started: datetime,
    *,
    status: str,
) -> None:
    """Store check results and Data Docs, record the run in ops.runs, write report.json."""
    run_id = report["run_id"]
    t0 = time.perf_counter()
    write_results(spark, storage, results, run_id=run_id, checked_at=started)
    docs = validator.build_docs() if results and validator else None
    steps["quality_store"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    record_run(
        spark,
        storage,
        settings,
        run_id=run_id,
        job="pipeline",
        started_at=started,
        status=status,
        detail={"steps": dict(steps)},
    )
    steps["record_run"] = round(time.perf_counter() - t0, 3)
    gates: dict = {}
    for r in results:
        gates.setdefault(r.gate, []).append(r)
    report.update(
        {
            "status": status,
            "finished_at": datetime.now(UTC).isoformat(),
            "timings_s": steps,
            "quality": {
                "gates": {gate: summarize(rs) for gate, rs in gates.items()},
                "data_docs": str(docs) if docs else None,
            },
            "tables": _table_summary(storage),
        }
    )
    write_report(settings, report)


def _table_summary(storage: Storage) -> dict[str, dict]:
    summary = {}
    for table in all_tables():
        info = storage.info(table)
        if info.exists:
            summary[table.fqn] = {"path": info.path, "version": info.version, "rows": info.rows}
    return summary


def main(settings: Settings, *, run_id: str, generate_if_empty: bool = True, quiet: bool = False) -> int:
    """Run the pipeline under the lake's run lock, print its summary (unless `quiet`), build the
    dashboard. A failed step raises RunFailed (or its C2CError) after the failure is recorded; a run
    refused because another holds the lake raises RunLockHeld once its report.json says so."""
    invoked_at = datetime.now(UTC)
    # Before any step: a run that cannot tokenize must not land raw extracts first.
    check_pii_key(settings)
    prepare_restricted_zone(settings)
    # One run at a time: a second run stops here, before Spark starts, naming the run that holds it, and
    # leaves report.json saying so (nothing in the lake: it is the holder's).
    with ExitStack() as held_lake:
        try:
            holder = held_lake.enter_context(run_lock(settings.storage.root, run_id))
        except RunLockHeld as held:
            try:
                record_refusal(settings, run_id=run_id, started_at=invoked_at, held=held)
            except OSError as exc:  # the refusal itself still reaches the user
                print(f"c2c: the refused run's report.json could not be written: {exc}", file=sys.stderr)
            raise
        sweep_dead_staging(settings, holder, quiet=quiet)  # what killed runs left
        started, t0 = datetime.now(UTC), time.perf_counter()
        try:
            # A terminal gets Spark's stage progress bar; a scheduler's log does not.
            spark = build_spark(
                with_progress_bar(settings) if not quiet and sys.stderr.isatty() else settings
            )
        except Exception as exc:
            report = {"run_id": run_id, "attempt": keep_earlier_reports(settings, run_id)}
            report.update({"env": settings.env, "started_at": started.isoformat()})
            steps = {"spark": round(time.perf_counter() - t0, 3)}
            failure = record_failure(settings, report, steps, step="spark", error=exc)
            if isinstance(exc, C2CError):
                raise
            raise failure from exc
        report = run(spark, settings, run_id=run_id, generate_if_empty=generate_if_empty, quiet=quiet)
        if not quiet:
            print_summary(settings, report)
        # The public dashboard, last: built from the published tables only (jobs/publish_job.py).
        from jobs import publish_job

        t0 = time.perf_counter()
        try:
            site = publish_job.build_if_published(settings)
        except Exception as exc:
            steps = {**report["timings_s"], "publish": round(time.perf_counter() - t0, 3)}
            failure = record_failure(settings, report, steps, step="publish", error=exc, spark=spark)
            if isinstance(exc, C2CError):
                raise
            raise failure from exc
    if not quiet:
        print(f"  site:    {site.index.resolve() if site else 'not built: gold published no tables'}")
    return 0
