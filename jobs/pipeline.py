"""`c2c run`: the main pipeline. Each layer's job is a step; later issues add bronze, silver, identity
and gold. Every run is recorded in `ops.runs` and leaves `var/runs/<run_id>/report.json`."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from pyspark.sql import SparkSession

from jobs import silver_job
from lakehouse.settings import Settings
from lakehouse.sources.landing import land
from lakehouse.spark import build_spark
from lakehouse.storage import Storage, open_storage
from lakehouse.synth.generate import generate
from lakehouse.tables import OPS_RUNS


def record_run(
    spark: SparkSession,
    storage: Storage,
    settings: Settings,
    *,
    run_id: str,
    job: str,
    started_at: datetime,
    status: str,
    detail: dict,
) -> None:
    """Append this run to ops.runs; a re-run of the same run id and job commits nothing new."""
    row = (
        run_id,
        job,
        settings.env,
        storage.engine,
        started_at,
        datetime.now(UTC),
        status,
        json.dumps(detail),
    )
    df = spark.createDataFrame([row], OPS_RUNS.schema)
    storage.write(df, OPS_RUNS, "append", run_id=run_id, step=f"{job}/ops.runs")


def run(spark: SparkSession, settings: Settings, *, run_id: str) -> dict:
    """Run every step that exists, in order, and return the run report."""
    storage = open_storage(spark, settings)
    started = datetime.now(UTC)
    steps: dict[str, float] = {}
    raw = Path(settings.storage.raw_root)
    if "://" not in settings.storage.raw_root and not (raw.exists() and any(raw.iterdir())):
        # The embedded default starts from nothing: make a small synthetic state to run on.
        t0 = time.perf_counter()
        result = generate(spark, settings.synth, raw)
        steps["generate"] = round(time.perf_counter() - t0, 3)
        print(f"raw root was empty: generated a synthetic state of {result.persons:,} people in {raw}")
    t0 = time.perf_counter()
    landing = land(spark, storage, settings.storage.raw_root)
    steps["bronze"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    silver = silver_job.run(
        spark, settings, storage, run_id=run_id, bronze_changed=bool(landing["files_new"])
    )
    steps["silver"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    record_run(
        spark,
        storage,
        settings,
        run_id=run_id,
        job="pipeline",
        started_at=started,
        status="succeeded",
        detail={"steps": dict(steps)},
    )
    steps["record_run"] = round(time.perf_counter() - t0, 3)
    report = {
        "run_id": run_id,
        "env": settings.env,
        "engine": storage.engine,
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "timings_s": steps,
        "bronze": landing,
        "silver": silver,
        "tables": {t: i for t, i in _table_summary(storage).items()},
    }
    out = settings.runs_dir() / run_id
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str))
    return report


def _table_summary(storage: Storage) -> dict[str, dict]:
    from lakehouse.tables import all_tables

    summary = {}
    for table in all_tables():
        info = storage.info(table)
        if info.exists:
            summary[table.fqn] = {"path": info.path, "version": info.version, "rows": info.rows}
    return summary


def main(settings: Settings, *, run_id: str) -> int:
    spark = build_spark(settings)
    report = run(spark, settings, run_id=run_id)
    print(f"run {run_id} finished on the {report['engine']} engine ({settings.env})")
    print(f"  raw:     {settings.storage.raw_root}")
    b = report["bronze"]
    quarantined = sum(f.get("quarantined", 0) for f in b["files"].values())
    landed = sum(f.get("landed", 0) for f in b["files"].values())
    print(
        f"  bronze:  {b['files_new']} new files, {b['files_duplicate']} duplicates: "
        f"{landed:,} rows landed, {quarantined:,} quarantined"
    )
    print(f"  lake:    {settings.storage.root}")
    print(f"  report:  {settings.runs_dir() / run_id / 'report.json'}")
    print("  tables:  c2c tables   (or make run && .venv/bin/c2c tables)")
    return 0
