"""What a run leaves behind: its row in `ops.runs`, `var/runs/<run_id>/report.json` (earlier
attempts of one run id kept as `report.<n>.json`) and, when a step fails, the traceback in
`var/runs/<run_id>/run.log` with a report that names the failed step. A run refused because another
holds the lake leaves its report.json only: the lake, `ops.runs` included, is the holder's. The next
run that holds the lake adds the refused runs' rows to `ops.runs` when it records its own ending."""

from __future__ import annotations

import json
import os
import re
import traceback
from datetime import UTC, datetime
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lakehouse.runlock import RunLockHeld
from lakehouse.settings import Settings
from lakehouse.storage import Storage, open_storage
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
    attempt: int | None = None,
) -> None:
    """Append this run to ops.runs; a re-run of the same run id and job commits nothing new. With
    `attempt` (a failed attempt) the row is committed once per attempt instead, so that a later attempt
    of the same run id still records how it ended."""
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
    step = f"{job}/ops.runs" if attempt is None else f"{job}/ops.runs/failed-{attempt}"
    storage.write(df, OPS_RUNS, "append", run_id=run_id, step=step)
    if job == "pipeline":
        record_refusals(spark, storage, settings, by_run_id=run_id)


REFUSAL_PENDING = "not recorded: the lake belongs to the run that holds it"


def record_refusals(spark: SparkSession, storage: Storage, settings: Settings, *, by_run_id: str) -> int:
    """Add to ops.runs a "refused" row for every refused attempt whose report.json (or kept
    report.<n>.json) says it is not recorded yet, then say in each report which run recorded it.
    Called by the run that holds the lake when it records its own ending, however it ends. Rows
    already in ops.runs (the holder died between the commit and the reports) are not added again:
    a refused attempt is (run id, attempt). Returns how many rows were added."""
    pending: dict[tuple[str, int], tuple[Path, dict, list[datetime]]] = {}
    for path in sorted(settings.runs_dir().glob("*/report*.json")):
        try:
            report = json.loads(path.read_text())
            if report.get("status") != "refused" or report.get("ops_runs") != REFUSAL_PENDING:
                continue
            key = (str(report["run_id"]), int(report["attempt"]))
            times = [datetime.fromisoformat(report[k]) for k in ("started_at", "finished_at")]
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            continue  # not a whole refused report (one being written is read by the next run)
        pending[key] = (path, report, times)
    if not pending:
        return 0
    recorded = set()
    if storage.info(OPS_RUNS).exists:
        done = storage.read(OPS_RUNS).where(F.col("status") == "refused").select("run_id", "detail")
        recorded = {(r.run_id, json.loads(r.detail).get("attempt")) for r in done.collect()}
    # One commit per attempt: ops.runs holds one row per (run id, job) in each commit.
    new = sorted(key for key in pending if key not in recorded)
    for run_id, attempt in new:
        _, report, times = pending[(run_id, attempt)]
        detail = {"attempt": attempt, "held_by": report.get("held_by"), "recorded_by": by_run_id}
        row = (run_id, "pipeline", settings.env, storage.engine, *times, "refused", json.dumps(detail))
        df = spark.createDataFrame([row], OPS_RUNS.schema)
        step = f"pipeline/ops.runs/refused/{run_id}/{attempt}"
        storage.write(df, OPS_RUNS, "append", run_id=by_run_id, step=step)
    for path, report, _ in pending.values():
        report["ops_runs"] = f"recorded in ops.runs by run {by_run_id}"
        if path.exists():  # a later attempt of its run id may have just renamed it
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(json.dumps(report, indent=2, default=str))
            tmp.replace(path)
    return len(new)


JAVA_ERROR = re.compile(r"^(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Error|Exception)\b")


class RunFailed(Exception):
    """A step of `c2c run` failed on something other than a user's error (C2CError): the run is recorded
    as failed, and the original exception is the cause. `details` is its traceback, as in run.log."""

    def __init__(self, step: str, error: BaseException, log: Path, details: str) -> None:
        self.step = step
        self.error_class, self.message = describe_error(error)
        self.log = log
        self.details = details
        super().__init__(f"c2c run failed in {step}: {self.error_class}: {self.message}")


def run_dir(settings: Settings, run_id: str) -> Path:
    out = settings.runs_dir() / run_id
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    return out


def write_report(settings: Settings, report: dict) -> None:
    """Write the attempt's report.json. A refused attempt's report found there (a run refused while this
    attempt of the same run id held the lake) is kept as report.<n>.json first, not overwritten."""
    out = run_dir(settings, report["run_id"]) / "report.json"
    if report.get("status") != "refused" and _status(out) == "refused":
        keep_earlier_reports(settings, report["run_id"])
    out.write_text(json.dumps(report, indent=2, default=str))


def _status(report: Path) -> str | None:
    try:
        return json.loads(report.read_text()).get("status")
    except (OSError, ValueError, AttributeError):
        return None


def record_refusal(settings: Settings, *, run_id: str, started_at: datetime, held: RunLockHeld) -> dict:
    """Record a run refused because another run holds the lake: report.json with status "refused", when
    it started and the run that holds the lake (run id, host, pid, start), earlier reports of the run
    id kept. Nothing else: no Spark, and no ops.runs row yet, since the lake belongs to the holder
    (record_refusals adds it later)."""
    report = {
        "run_id": run_id,
        "attempt": keep_earlier_reports(settings, run_id),
        "env": settings.env,
        "started_at": started_at.isoformat(),
        "status": "refused",
        "held_by": {
            "run_id": held.holder.run_id,
            "host": held.holder.host,
            "pid": held.holder.pid,
            "started_at": held.holder.started_at,
        },
        "lock": str(held.path),
        "finished_at": datetime.now(UTC).isoformat(),
        "ops_runs": REFUSAL_PENDING,
    }
    write_report(settings, report)
    return report


def keep_earlier_reports(settings: Settings, run_id: str) -> int:
    """Before an attempt of `run_id`: keep the previous attempt's report.json as report.<n>.json (n =
    1, 2, ... in order) and return this attempt's number. report.json is always the latest attempt."""
    out = settings.runs_dir() / run_id
    kept = 0
    while (out / f"report.{kept + 1}.json").exists():
        kept += 1
    if (out / "report.json").exists():
        kept += 1
        (out / "report.json").rename(out / f"report.{kept}.json")
    return kept + 1


def describe_error(error: BaseException) -> tuple[str, str]:
    """The error's class and the first line of its message (at most 300 characters), for the report and
    the terminal. A Java exception that reached Python through Py4J or as Spark's UnknownException is
    named by its Java class."""
    name = type(error).__name__
    try:
        text = str(getattr(error, "_desc", None) or error)
    except Exception:  # a Py4J error asks the JVM for its text, and the JVM may be gone
        text = getattr(error, "errmsg", "") or ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if name == "Py4JJavaError":  # "An error occurred while calling o42.collect.\n: java.lang.Out..."
        lines = lines[1:]
    first = lines[0].removeprefix(": ") if lines else ""
    if JAVA_ERROR.match(first):
        name, _, first = first.partition(": ")
    return name, first if len(first) <= 300 else first[:299] + "…"


def record_failure(
    settings: Settings,
    report: dict,
    steps: dict[str, float],
    *,
    step: str,
    error: BaseException,
    spark: SparkSession | None = None,
    storage: Storage | None = None,
) -> RunFailed:
    """Record a failed attempt, each part best effort: the traceback in run.log, a failed row in
    ops.runs, and report.json with the step, the error's class and first line and the timings so far.
    Returns the RunFailed to raise."""
    run_id = report["run_id"]
    details = "".join(traceback.format_exception(error))
    jvm_trace = getattr(error, "_stackTrace", None)  # PySpark leaves the JVM's stack out of the message
    if isinstance(jvm_trace, str) and jvm_trace.strip() and jvm_trace not in details:
        details += f"JVM stacktrace:\n{jvm_trace.rstrip()}\n"
    log = _append_log(settings, run_id, f"attempt {report['attempt']} failed in {step}", details)
    failure = RunFailed(step, error, log, details)
    report.update(
        {
            "status": "failed",
            "failed_step": step,
            "error": {"class": failure.error_class, "message": failure.message},
            "finished_at": datetime.now(UTC).isoformat(),
            "timings_s": steps,
            "log": str(log),
        }
    )
    report["ops_runs"] = "not recorded: Spark did not start"
    if spark is not None:
        try:
            record_run(
                spark,
                storage or open_storage(spark, settings),
                settings,
                run_id=run_id,
                job="pipeline",
                started_at=datetime.fromisoformat(report["started_at"]),
                status="failed",
                detail={
                    "attempt": report["attempt"],
                    "failed_step": step,
                    "error": report["error"],
                    "steps": dict(steps),
                },
                attempt=report["attempt"],
            )
            report["ops_runs"] = "recorded"
        except Exception as exc:
            _append_log(
                settings, run_id, "recording it in ops.runs failed", "".join(traceback.format_exception(exc))
            )
            report["ops_runs"] = f"not recorded ({describe_error(exc)[0]}): see run.log"
    write_report(settings, report)
    return failure


def _append_log(settings: Settings, run_id: str, title: str, text: str) -> Path:
    """Append to var/runs/<run_id>/run.log (0600: a traceback may quote more than the report does)."""
    log = run_dir(settings, run_id) / "run.log"
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as f:
        f.write(f"{datetime.now(UTC).isoformat(timespec='seconds')} run {run_id}: {title}\n{text}\n")
    return log
