"""`c2c run`: the main pipeline. Its steps run in order, each a job module with `run(ctx) ->
LayerReport` (jobs/layer.py): bronze, silver, identity, evaluate, gold, then publish (the public
dashboard). Bronze, silver and gold reach the next layer only through their gate
(quality/promotion.py). Evaluate scores the identity a run links against the truth, only on a
synthetic state whose raw root holds one (jobs/evaluate_job.py). Every run holds the
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

from jobs import bronze_job, evaluate_job, gold_job, identity_job, publish_job, silver_job
from jobs.layer import RunContext
from jobs.maintenance_job import sweep_dead_staging
from jobs.progress import Progress, print_summary, with_progress_bar
from jobs.run_record import keep_earlier_reports, record_failure, record_refusal, record_run, write_report
from lakehouse.errors import C2CError
from lakehouse.privacy.zones import prepare_restricted_zone
from lakehouse.runlock import RunLockHeld, run_lock
from lakehouse.settings import Settings
from lakehouse.silver.tokens import check_pii_key
from lakehouse.spark import build_spark
from lakehouse.storage import Storage, open_storage
from lakehouse.synth.generate import generate
from lakehouse.tables import (
    BRONZE_FILES,
    all_tables,
)
from lakehouse.tables.manifest import adopt_existing_lake
from quality.gx_runner import GxValidator
from quality.results import CheckResult, QualityGateFailed, summarize
from quality.store import write_results

# The steps of a run, in order; each is a module with `run(ctx) -> LayerReport` (jobs/layer.py).
STEPS = (
    ("bronze", bronze_job),
    ("silver", silver_job),
    ("identity", identity_job),
    ("evaluate", evaluate_job),
    ("gold", gold_job),
    ("publish", publish_job),
)


def run(
    spark: SparkSession,
    settings: Settings,
    *,
    run_id: str,
    generate_if_empty: bool = True,
    quiet: bool = False,
) -> dict:
    """Run every step in order and return the run report. A quality gate that blocks promotion stops
    the run with QualityGateFailed, after its results, Data Docs and report are written and the run
    is recorded as blocked. Any other exception in a step is recorded as a failed run (report,
    ops.runs row, traceback in run.log) and raised: a C2CError as it is, anything else as RunFailed
    naming the step."""
    storage = open_storage(spark, settings)
    started = datetime.now(UTC)
    timings: dict[str, float] = {}
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
            timings["generate"] = round(time.perf_counter() - t0, 3)
            if not quiet:
                print(
                    f"raw root was empty: generated a synthetic state of {result.persons:,} people in {raw}"
                )
        docs = restricted_docs = None
        if settings.quality.data_docs:
            docs = settings.var_dir / "quality" / "docs"
            if "://" not in settings.storage.restricted_root:  # restricted tables' pages stay in the zone
                restricted_docs = Path(settings.storage.restricted_root) / "quality" / "docs"
        validator = GxValidator(docs, restricted_docs)
        # A lake from before layer manifests: its layers count as promoted as they are, and are due once
        # (bronze is not adopted: what it landed since silver was built is judged at its gate).
        layers = {
            "silver": silver_job.SILVER_TABLES,
            "identity": identity_job.IDENTITY_TABLES,
            "gold": gold_job.GOLD_TABLES,
        }
        adopt_existing_lake(storage, layers, run_id=run_id)
        ctx = RunContext(spark, settings, storage, run_id, started.date(), validator, progress)
        for step, job in STEPS:
            t0 = time.perf_counter()
            layer = job.run(ctx)
            ctx = ctx.after(layer)
            results += layer.checks
            timings.update(layer.timings_s)
            if layer.silent:
                continue
            if step == "evaluate":  # the evaluation of the identity this run linked
                report["identity"]["evaluation"] = layer.section
            else:
                report[step] = layer.section
            progress.say(step, layer.line, time.perf_counter() - t0 if layer.ran else None)
            if layer.blocked is not None:
                raise layer.blocked
        step, t0 = "report", time.perf_counter()
        _finish(spark, storage, settings, report, results, validator, timings, started, status="succeeded")
    except QualityGateFailed:
        _finish(spark, storage, settings, report, results, validator, timings, started, status="blocked")
        raise
    except Exception as exc:
        timings[step] = round(time.perf_counter() - t0, 3)
        failure = record_failure(
            settings, report, timings, step=step, error=exc, spark=spark, storage=storage
        )
        if isinstance(exc, C2CError):
            raise
        raise failure from exc
    return report


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
    """Run the pipeline under the lake's run lock and print its summary (unless `quiet`). A failed
    step raises RunFailed (or its C2CError) after the failure is recorded; a run refused because
    another holds the lake raises RunLockHeld once its report.json says so."""
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
    if not quiet:
        site = report.get("publish", {}).get("site")
        print(f"  site:    {Path(site).resolve() if site else 'not built: gold published no tables'}")
    return 0
