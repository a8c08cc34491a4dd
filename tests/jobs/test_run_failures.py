"""What a failed `c2c run` leaves (report.json, an ops.runs row, run.log) and what it prints.

The steps are stand-ins (monkeypatched) that land nothing and fail where a test says: the failure
handling around them is what runs for real, on the shared Spark session."""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime
from pathlib import Path

import pytest
from pyspark.errors import PySparkRuntimeError
from pyspark.errors.exceptions.captured import UnknownException

from jobs import bronze_job, cli, identity_job, pipeline, silver_job
from jobs.layer import LayerReport
from jobs.run_record import RunFailed
from lakehouse.errors import StorageError
from lakehouse.runlock import LOCK_NAME
from lakehouse.storage import open_storage
from lakehouse.tables import OPS_RUNS
from tests.conftest import ROOT

LANDING = {"load_id": "l-1", "files": {}, "files_new": 0, "files_duplicate": 0}
MAX_RESULT_SIZE = (
    "org.apache.spark.SparkException: Job aborted due to stage failure: Total size of serialized results "
    "of 9 tasks (1029.4 MiB) is bigger than spark.driver.maxResultSize (1024.0 MiB)"
)


@pytest.fixture
def steps(spark, settings, monkeypatch, tmp_path):
    """Stand-in steps: bronze lands nothing, silver builds nothing, identity links, gold is not due.
    `steps.fail(name, error)` makes the bronze or identity step raise `error`. The CLI runs on these
    settings, with a PII key from the environment, in `tmp_path` (so paths print relative)."""

    class Steps:
        def fail(self, step: str, error: BaseException) -> None:
            def raise_error(*args, **kwargs):
                raise error

            monkeypatch.setattr(
                *{"bronze": (bronze_job, "land"), "identity": (identity_job, "run")}[step], raise_error
            )

    monkeypatch.setattr(bronze_job, "land", lambda *args, **kwargs: dict(LANDING))
    monkeypatch.setattr(pipeline, "GxValidator", lambda *docs: None)
    monkeypatch.setattr(silver_job, "run", lambda ctx: LayerReport("silver", {}, "0 tables, 0 rows written"))
    linked = LayerReport("identity", "linked (stand-in)", "linked (stand-in)")
    monkeypatch.setattr(identity_job, "run", lambda ctx: linked)
    monkeypatch.setattr(pipeline, "build_spark", lambda s: spark)
    monkeypatch.setattr(cli, "load_settings", lambda *args, **kwargs: settings)
    monkeypatch.setenv("C2C_PII_KEY", secrets.token_hex(32))
    monkeypatch.chdir(tmp_path)
    (Path(settings.storage.raw_root) / "edd").mkdir(parents=True)  # not empty: no synthetic state
    return Steps()


def read_report(settings, run_id: str, name: str = "report.json") -> dict:
    """A report with its clock readings checked and replaced by their type."""
    report = json.loads((settings.runs_dir() / run_id / name).read_text())
    for key in ("started_at", "finished_at"):
        if key in report:
            datetime.fromisoformat(report[key])
            report[key] = "<time>"
    if "timings_s" in report:
        assert all(isinstance(v, float) and v >= 0 for v in report["timings_s"].values())
        report["timings_s"] = sorted(report["timings_s"])
    return report


def failed_runs(spark, settings) -> list[tuple]:
    rows = open_storage(spark, settings).read(OPS_RUNS).collect()
    failed = [
        (r["run_id"], r["job"], r["env"], r["status"], json.loads(r["detail"]))
        for r in rows
        if r["status"] == "failed"
    ]
    return sorted(failed, key=lambda row: (row[0], row[-1]["attempt"]))


def test_a_failed_step_leaves_a_report_an_ops_row_and_a_log(spark, settings, steps):
    """An error from the JVM in identity: the run stops with RunFailed naming the step; report.json says
    failed, where, what (class and first line) and the timings so far; ops.runs has the row; the
    traceback is in run.log and nowhere in the report."""
    java = spark.sparkContext._jvm
    try:
        java.java.lang.Integer.parseInt("x")  # a Java exception, as PySpark raises it
    except Exception as exc:
        error = exc
    steps.fail("identity", error)
    with pytest.raises(RunFailed) as failed:
        pipeline.run(spark, settings, run_id="r-fail")
    assert (failed.value.step, failed.value.error_class, failed.value.message) == (
        "identity",
        "NumberFormatException",
        'For input string: "x"',
    )
    assert failed.value.__cause__ is error
    log = settings.runs_dir() / "r-fail" / "run.log"
    report = read_report(settings, "r-fail")
    assert report == {
        "run_id": "r-fail",
        "attempt": 1,
        "env": "local",
        "engine": "delta-rs",
        "started_at": "<time>",
        "bronze": {**LANDING, "sources": {}},
        "silver": {},
        "status": "failed",
        "failed_step": "identity",
        "error": {"class": "NumberFormatException", "message": 'For input string: "x"'},
        "finished_at": "<time>",
        "timings_s": ["bronze", "identity"],
        "log": str(log),
        "ops_runs": "recorded",
    }
    timings = json.loads((settings.runs_dir() / "r-fail" / "report.json").read_text())["timings_s"]
    assert failed_runs(spark, settings) == [
        (
            "r-fail",
            "pipeline",
            "local",
            "failed",
            {"attempt": 1, "failed_step": "identity", "error": report["error"], "steps": timings},
        )
    ]
    header, _, body = log.read_text().partition("\n")
    assert header.endswith(" run r-fail: attempt 1 failed in identity")
    assert body == failed.value.details + "\n"
    assert body.startswith("Traceback (most recent call last):")
    assert "java.lang.NumberFormatException" in body and "Traceback" not in json.dumps(report)
    assert log.stat().st_mode & 0o777 == 0o600


def test_a_reused_run_id_keeps_every_earlier_report(spark, settings, steps):
    """report.json is the latest attempt; the earlier ones stay as report.1.json, report.2.json, in
    order. Each failed attempt has its ops.runs row, and a later success would still be recorded."""
    earlier = {"run_id": "r-again", "attempt": 1, "status": "succeeded"}
    (settings.runs_dir() / "r-again").mkdir(parents=True)
    (settings.runs_dir() / "r-again" / "report.json").write_text(json.dumps(earlier))
    steps.fail("bronze", RuntimeError("the landing area is not mounted"))
    with pytest.raises(RunFailed):
        pipeline.run(spark, settings, run_id="r-again")
    second = read_report(settings, "r-again")
    with pytest.raises(RunFailed):
        pipeline.run(spark, settings, run_id="r-again")

    out = settings.runs_dir() / "r-again"
    assert sorted(p.name for p in out.iterdir()) == [
        "report.1.json",
        "report.2.json",
        "report.json",
        "run.log",
    ]
    assert json.loads((out / "report.1.json").read_text()) == earlier
    assert read_report(settings, "r-again", "report.2.json") == second
    assert second == {
        "run_id": "r-again",
        "attempt": 2,
        "env": "local",
        "engine": "delta-rs",
        "started_at": "<time>",
        "status": "failed",
        "failed_step": "bronze",
        "error": {"class": "RuntimeError", "message": "the landing area is not mounted"},
        "finished_at": "<time>",
        "timings_s": ["bronze"],
        "log": str(out / "run.log"),
        "ops_runs": "recorded",
    }
    assert read_report(settings, "r-again") == {**second, "attempt": 3}
    assert [
        (run_id, detail["attempt"], detail["failed_step"])
        for run_id, *_, detail in failed_runs(spark, settings)
    ] == [
        ("r-again", 2, "bronze"),
        ("r-again", 3, "bronze"),
    ]
    headers = [line for line in (out / "run.log").read_text().splitlines() if " run r-again: " in line]
    assert [h.split(" ", 1)[1] for h in headers] == [
        "run r-again: attempt 2 failed in bronze",
        "run r-again: attempt 3 failed in bronze",
    ]


def test_the_one_line_names_the_setting_that_fixes_it(spark, settings, steps, capsys):
    """Spark's maxResultSize failure in identity (a collect to the driver at ~10^6 people): one line on
    stderr, exit status 1, even with --quiet; the report names the Java class; the lock is released."""
    steps.fail("identity", UnknownException(desc=MAX_RESULT_SIZE, stackTrace="\tat org.apache.spark..."))
    assert cli.main(["run", "--run-id", "r-big", "--quiet"]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == (
        "c2c run failed in identity: Spark driver result too large (spark.driver.maxResultSize) — raise "
        f"spark.driver.maxResultSize under spark: conf: in {ROOT / 'conf' / 'local.yml'}, or set "
        "identity.backend: spark; traceback in var/runs/r-big/run.log\n"
    )
    assert read_report(settings, "r-big")["error"] == {
        "class": "org.apache.spark.SparkException",
        "message": MAX_RESULT_SIZE.split(": ", 1)[1],
    }
    assert not (Path(settings.storage.root) / LOCK_NAME).exists()


def test_debug_prints_the_traceback_too(spark, settings, steps, capsys):
    steps.fail("bronze", RuntimeError("the landing area is not mounted"))
    line = (
        "c2c run failed in bronze: RuntimeError: the landing area is not mounted; "
        "traceback in var/runs/r-plain/run.log\n"
    )
    assert cli.main(["run", "--run-id", "r-plain"]) == 1
    # stdout: the progress up to the step that failed; stderr: the one line
    assert capsys.readouterr() == (f"bronze: landing new files from {settings.storage.raw_root}\n", line)

    assert cli.main(["run", "--run-id", "r-debug", "--debug"]) == 1
    out = capsys.readouterr()
    header, _, body = (settings.runs_dir() / "r-debug" / "run.log").read_text().partition("\n")
    assert body.startswith("Traceback (most recent call last):")
    assert out.err == body.removesuffix("\n") + line.replace("r-plain", "r-debug")


def test_a_user_error_in_a_step_keeps_exit_2_and_its_message(spark, settings, steps, capsys):
    """A C2CError raised by a step is recorded as a failed run too, and prints as it always has."""
    message = "bronze.files: the table's log is newer than this engine understands; upgrade c2c"
    steps.fail("bronze", StorageError(message))
    assert cli.main(["run", "--run-id", "r-user"]) == 2
    assert capsys.readouterr() == (
        f"bronze: landing new files from {settings.storage.raw_root}\n",
        f"c2c: error: {message}\n",
    )
    report = read_report(settings, "r-user")
    assert (report["status"], report["failed_step"], report["error"]) == (
        "failed",
        "bronze",
        {"class": "StorageError", "message": message},
    )


def test_missing_java_says_how_to_install_it(settings, steps, monkeypatch, capsys):
    """Spark cannot start: the report is written all the same; there is no Spark to record a row with."""

    def no_java(settings):
        raise PySparkRuntimeError(errorClass="JAVA_GATEWAY_EXITED", messageParameters={})

    monkeypatch.setattr(pipeline, "build_spark", no_java)
    monkeypatch.setattr(cli.shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    assert cli.main(["run", "--run-id", "r-nojava"]) == 1
    assert capsys.readouterr().err == (
        "c2c run failed in spark: Java not found (Spark needs Java 17) — install it (make system-deps, or "
        "apt-get install openjdk-17-jre-headless) or set JAVA_HOME; traceback in var/runs/r-nojava/run.log\n"
    )
    assert read_report(settings, "r-nojava") == {
        "run_id": "r-nojava",
        "attempt": 1,
        "env": "local",
        "started_at": "<time>",
        "status": "failed",
        "failed_step": "spark",
        "error": {
            "class": "PySparkRuntimeError",
            "message": "[JAVA_GATEWAY_EXITED] Java gateway process exited before sending its port number.",
        },
        "finished_at": "<time>",
        "timings_s": ["spark"],
        "log": str(settings.runs_dir() / "r-nojava" / "run.log"),
        "ops_runs": "not recorded: Spark did not start",
    }


def test_quiet_prints_no_summary(spark, settings, steps, capsys):
    """A run that succeeds prints each layer's progress and its summary by default, and nothing with
    --quiet."""
    assert cli.main(["run", "--run-id", "r-quiet", "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
    assert cli.main(["run", "--run-id", "r-loud"]) == 0
    # each layer's progress line, then the summary; elapsed times vary and read as <t>
    printed = [re.sub(r", [0-9hms.]+$", ", <t>", line) for line in capsys.readouterr().out.splitlines()]
    assert printed == [
        f"bronze: landing new files from {settings.storage.raw_root}",
        "bronze: 0/0 files landed, 0 rows, 0 quarantined, <t>",
        "silver: 0 tables, 0 rows written, <t>",
        "identity: linked (stand-in), <t>",
        "gold: unchanged (no new silver or identity data)",
        "publish: not built: gold published no tables",
        "run r-loud finished on the delta-rs engine (local)",
        f"  raw:     {settings.storage.raw_root}",
        "  bronze:  0 new files, 0 duplicates: 0 rows landed, 0 quarantined",
        "  silver:  0 tables, 0 rows written, 0 held back in quarantine",
        "  identity: linked (stand-in)",
        "  gold:    unchanged (no new silver or identity data)",
        f"  lake:    {settings.storage.root}",
        f"  report:  {settings.runs_dir() / 'r-loud' / 'report.json'}",
        "  tables:  c2c tables   (or make run && .venv/bin/c2c tables)",
        "  site:    not built: gold published no tables",
    ]
    assert read_report(settings, "r-loud")["status"] == "succeeded"
