"""Operators' commands for faults in the bronze landing and for cleaning up: releasing a file lets a
blocked load pass the raw->bronze gate with its parsed rows in bronze; excluding one removes exactly
its rows; both are recorded with who, when and why; vacuum removes a dead run's staging folder and
unreferenced old files but nothing a version in use reads, and refuses while a run holds the lake.

Each test lands a small raw tree written here (wage files, an enrollment file) into its own lake."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs.bronze_job import landed_since_promotion
from jobs.cli import main
from jobs.maintenance_job import sweep_dead_staging
from lakehouse.runlock import LOCK_NAME, Holder
from lakehouse.settings import QualitySettings, load_settings
from lakehouse.sources.decisions import (
    BRONZE_FILE_DECISIONS,
    Decision,
    DecisionError,
    decide,
    read_decisions,
)
from lakehouse.sources.landing import land, read_ledger
from lakehouse.sources.layouts import LAYOUTS
from lakehouse.storage import Storage, open_storage
from lakehouse.tables import BRONZE, BRONZE_FILES, BRONZE_QUARANTINE, Table
from lakehouse.tables.manifest import write_manifest
from lakehouse.vacuum import Removed, remove_dead_staging, vacuum_tables
from quality.bronze_gate import blocking_files, check_bronze_load
from quality.gx_runner import GxValidator
from tests.conftest import ROOT

pytestmark = pytest.mark.filterwarnings("ignore:'PYARROW_IGNORE_TIMEZONE':UserWarning")

BAD, GOOD, ENROLL = "edd/DE9C_20201.csv", "edd/DE9C_20202.csv", "calpads/SENR_2019.txt"
WAGE_COLUMNS = [n for n, _ in LAYOUTS["DE9C"].columns]


def _wage(i: int, amount: str | None = None) -> str:
    """A made-up wage line; `amount` not a number makes it unparseable."""
    return f"{10000000 + i},20201,{900000000 + i},Given{i},,Family{i},{amount or f'{1000 + i}.00'}"


BAD_LINES = [_wage(i) for i in range(10)] + [_wage(i, "12x") for i in range(10, 40)]  # 25% parse
GOOD_LINES = [_wage(i) for i in range(100, 103)] + [_wage(103, "n/a")]
ENROLL_LINES = [
    "2018-19^19647331932979^1038472651^0004417^05^20180815^20190607^E155^",
    "2018-19^19647331932979^1092834110^0004983^06^20180815^20190111^T160^",
]


def _put(raw: Path, name: str, family: str, lines: list[str]) -> str:
    path = raw / name
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "\n".join([LAYOUTS[family].header, *lines]).encode() + b"\n"
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def _wages(storage: Storage) -> list[tuple]:
    """bronze.edd_de9c as (file, row number, the raw fields), sorted."""
    df = storage.read(BRONZE["DE9C"]).select("_source_file", "_row_number", *WAGE_COLUMNS)
    return sorted(tuple(r) for r in df.collect())


def _rows_of(file: str, lines: list[str], rows: list[int]) -> list[tuple]:
    return sorted((file, n, *lines[n - 2].split(",")) for n in rows)


def _quarantined(storage: Storage) -> dict[str, int]:
    counted = storage.read(BRONZE_QUARANTINE).groupBy("file").count().collect()
    return {r["file"]: r["count"] for r in counted}


def _ledger(storage: Storage) -> list[tuple]:
    df = storage.read(BRONZE_FILES).select("file", "status", "raw_rows", "landed_rows", "quarantined_rows")
    return sorted(tuple(r) for r in df.collect())


def _failing(spark, storage: Storage) -> list[tuple]:
    """The raw->bronze gate on what silver has not promoted: its failing `fail` checks."""
    results = check_bronze_load(
        spark,
        landed_since_promotion(storage),
        storage.read(BRONZE_FILES),
        "load",
        validator=GxValidator(None),
        quality=QualitySettings(),
    )
    return [(r.check_id, r.examples) for r in results if r.blocks]


def _decide(spark, storage: Storage, file: str, decision: str, **kwargs):
    columns = BRONZE_FILES.struct(spark).fieldNames()
    return decide(spark, storage, read_ledger(storage, columns), columns, file, decision, **kwargs)


def test_release_lets_a_blocked_load_pass_with_the_files_parsed_rows_in_bronze(spark, settings, tmp_path):
    raw, storage = tmp_path / "raw", open_storage(spark, settings)
    bad_sha = _put(raw, BAD, "DE9C", BAD_LINES)
    _put(raw, ENROLL, "SENR", ENROLL_LINES)
    load_id = land(spark, storage, str(raw))["load_id"]
    assert _failing(spark, storage) == [
        ("parse_rate", ["edd/DE9C (25.0% of 40 rows)"]),
        ("file_parse_rate", [f"{BAD} (25.0%)"]),
    ]
    assert blocking_files(landed_since_promotion(storage), QualitySettings()) == {
        BAD: "file: 25.0% of its 40 rows parsed (min 50%)"
    }

    outcome = _decide(spark, storage, BAD, "release", reason="agency confirmed the amounts", by="ops-a")

    assert outcome.applied and outcome.dropped == {}
    recorded = read_decisions(storage)
    assert recorded == [outcome.decision]
    assert recorded[0] == Decision(
        outcome.decision.decision_id,
        BAD,
        bad_sha,
        load_id,
        "release",
        "agency confirmed the amounts",
        "ops-a",
        outcome.decision.decided_at,
        40,
        10,
        30,
    )
    assert abs(datetime.now(UTC) - recorded[0].decided_at) < timedelta(minutes=1)
    assert _ledger(storage) == [(ENROLL, "landed", 2, 2, 0), (BAD, "released", 40, 10, 30)]
    # The gate passes; the file's parsed rows are in bronze for silver to read; its unparsed rows
    # stay counted in quarantine.
    assert _failing(spark, storage) == []
    assert blocking_files(landed_since_promotion(storage), QualitySettings()) == {}
    assert _wages(storage) == _rows_of(BAD, BAD_LINES, list(range(2, 12)))
    assert _quarantined(storage) == {BAD: 30}
    # A later landing keeps the decision: nothing lands again, bronze still counts back.
    versions = {t.fqn: storage.info(t).version for t in (BRONZE["DE9C"], BRONZE_QUARANTINE, BRONZE_FILES)}
    assert land(spark, storage, str(raw))["files"] == {}
    assert {t.fqn: storage.info(t).version for t in (BRONZE["DE9C"], BRONZE_QUARANTINE, BRONZE_FILES)} == (
        versions
    )
    # Released twice: nothing recorded; an unknown file is refused.
    again = _decide(spark, storage, BAD, "release", reason="again", by="ops-b")
    assert not again.applied and again.decision == outcome.decision
    assert read_decisions(storage) == [outcome.decision]
    with pytest.raises(DecisionError, match="no file 'edd/nope.csv' in the ledger"):
        _decide(spark, storage, "edd/nope.csv", "release", reason="x", by="ops-a")


def test_exclude_removes_exactly_that_files_rows_from_bronze(spark, settings, tmp_path):
    raw, storage = tmp_path / "raw", open_storage(spark, settings)
    _put(raw, BAD, "DE9C", BAD_LINES)
    _put(raw, GOOD, "DE9C", GOOD_LINES)
    _put(raw, ENROLL, "SENR", ENROLL_LINES)
    land(spark, storage, str(raw))
    enroll = sorted(tuple(r) for r in storage.read(BRONZE["SENR"]).collect())
    enroll_version = storage.info(BRONZE["SENR"]).version

    outcome = _decide(spark, storage, BAD, "exclude", reason="wrong layout; resend asked", by="ops-a")

    assert outcome.applied
    assert outcome.dropped == {"bronze.edd_de9c": 10, "bronze.quarantine": 30}
    assert _wages(storage) == _rows_of(GOOD, GOOD_LINES, [2, 3, 4])
    assert _quarantined(storage) == {GOOD: 1}
    assert sorted(tuple(r) for r in storage.read(BRONZE["SENR"]).collect()) == enroll
    assert storage.info(BRONZE["SENR"]).version == enroll_version
    assert _ledger(storage) == [
        (ENROLL, "landed", 2, 2, 0),
        (BAD, "excluded", 40, 10, 30),
        (GOOD, "landed", 4, 3, 1),
    ]
    assert [(d.file, d.decision, d.decided_by, d.reason) for d in read_decisions(storage)] == [
        (BAD, "exclude", "ops-a", "wrong layout; resend asked")
    ]
    assert _failing(spark, storage) == []  # the gate judges the other files only
    # Still under the raw root, the excluded content does not land again; a second exclusion and a
    # release of what is gone change nothing.
    versions = {t.fqn: storage.info(t).version for t in (BRONZE["DE9C"], BRONZE_QUARANTINE, BRONZE_FILES)}
    assert land(spark, storage, str(raw))["files"] == {}
    assert not _decide(spark, storage, BAD, "exclude", reason="again", by="ops-a").applied
    with pytest.raises(DecisionError, match="excluded, so bronze no longer holds its rows"):
        _decide(spark, storage, BAD, "release", reason="x", by="ops-a")
    assert {t.fqn: storage.info(t).version for t in (BRONZE["DE9C"], BRONZE_QUARANTINE, BRONZE_FILES)} == (
        versions
    )
    # A corrected version of the file lands as new content under its name.
    _put(raw, BAD, "DE9C", BAD_LINES[:10])
    assert land(spark, storage, str(raw))["files"][BAD]["landed"] == 10
    assert _ledger(storage)[1:3] == [(BAD, "excluded", 40, 10, 30), (BAD, "landed", 10, 10, 0)]


def test_a_decision_recorded_but_not_applied_is_applied_by_the_next_landing(spark, settings, tmp_path):
    """A command cut short after recording its decision: the next run's landing puts it in force
    before it counts bronze back against the ledger."""
    raw, storage = tmp_path / "raw", open_storage(spark, settings)
    sha = _put(raw, BAD, "DE9C", BAD_LINES)
    _put(raw, GOOD, "DE9C", GOOD_LINES)
    load_id = land(spark, storage, str(raw))["load_id"]
    row = ("d-1", BAD, sha, load_id, "exclude", "cut short", "ops-a", datetime.now(UTC), 40, 10, 30)
    storage.write(spark.createDataFrame([row], BRONZE_FILE_DECISIONS.schema), BRONZE_FILE_DECISIONS)

    report = land(spark, storage, str(raw))

    assert report["files"] == {}
    assert report["decisions_applied"] == [
        {
            "file": BAD,
            "decision": "exclude",
            "rows_dropped": {"bronze.edd_de9c": 10, "bronze.quarantine": 30},
        }
    ]
    assert _wages(storage) == _rows_of(GOOD, GOOD_LINES, [2, 3, 4])
    assert _quarantined(storage) == {GOOD: 1}
    assert "decisions_applied" not in land(spark, storage, str(raw))


# ---- vacuum --------------------------------------------------------------------------------------


def _age(path: Path, hours: float) -> None:
    """Set the modification time of `path` and everything under it `hours` back."""
    then = time.time() - hours * 3600
    for p in [path, *path.rglob("*")]:
        os.utime(p, (then, then))


def _staging(root: Path, table: str, write_id: str, size: int) -> Path:
    folder = root / table / "_staging" / write_id
    (folder / "part=1").mkdir(parents=True)
    (folder / "part=1" / "part-0.parquet").write_bytes(b"x" * size)
    return folder


def test_vacuum_removes_dead_runs_staging_and_unreferenced_old_files_only(spark, settings, tmp_path):
    storage = open_storage(spark, settings)
    lake, restricted = Path(settings.storage.root), Path(settings.storage.restricted_root)
    probe = Table(layer="gold", name="vacuum_probe", schema="id INT")
    path = Path(storage.path(probe))
    storage.write(spark.createDataFrame([(i,) for i in range(5)], "id INT"), probe)
    write_manifest(storage, "gold", [probe], {}, run_id="r-0")  # names version 0
    storage.write(spark.createDataFrame([(i,) for i in range(10, 15)], "id INT"), probe, "overwrite")
    old_orphan, new_orphan = path / "part-orphan-old.parquet", path / "part-orphan-new.parquet"
    old_orphan.write_bytes(b"o" * 11)
    new_orphan.write_bytes(b"n" * 13)
    _age(old_orphan, 24 * 10)
    # Staging: two folders of runs no longer alive (public and restricted root), one of the run
    # holding the lake now (written after it took the lock).
    dead = _staging(lake, "gold/vacuum_probe", "20260101T000000-dead", 7)
    dead_restricted = _staging(restricted, "bronze/edd_de9c", "20260101T000000-gone", 5)
    _age(dead, 2)
    _age(dead_restricted, 2)
    holder = Holder(
        "r-now", socket.gethostname(), os.getpid(), (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    )
    alive = _staging(lake, "silver/k12_enrollments", "20260101T000000-alive", 3)

    expected_staging = [
        Removed(str(dead), 7, "staging"),
        Removed(str(dead_restricted), 5, "staging"),
    ]
    assert remove_dead_staging(settings, holder, dry_run=True) == expected_staging
    assert dead.exists() and dead_restricted.exists()
    assert remove_dead_staging(settings, holder) == expected_staging
    assert not dead.exists() and not dead_restricted.exists() and alive.exists()
    assert not (restricted / "bronze/edd_de9c/_staging").exists()  # left empty: removed
    # A run's first step, once it holds the lock, does the same.
    later = _staging(restricted, "silver/person_records", "20260101T000000-later", 2)
    _age(later, 2)
    assert sweep_dead_staging(settings, holder, quiet=True) == [Removed(str(later), 2, "staging")]
    assert not later.exists() and alive.exists()
    assert sweep_dead_staging(settings, None) == []  # no lock (an object store): nothing is known dead

    # Older than 7 days: only the old orphan; the replaced version 0 is younger (and a manifest names it).
    assert vacuum_tables(storage, 24 * 7, tables=[probe]) == [Removed(str(old_orphan), 11, "unreferenced")]
    # Older than 0 hours: the new orphan too, but version 0, which the manifest names, stays readable.
    assert vacuum_tables(storage, 0, tables=[probe]) == [Removed(str(new_orphan), 13, "unreferenced")]
    assert sorted(r[0] for r in storage.read(probe, version=0).collect()) == list(range(5))
    # Once the manifest names version 1, version 0's files go; the latest version reads whole.
    write_manifest(storage, "gold", [probe], {}, run_id="r-1")
    v0_files = {p for p in path.glob("*.parquet")} - {Path(u) for u in _files_of(storage, probe)}
    removed = vacuum_tables(storage, 0, tables=[probe])
    assert sorted(r.path for r in removed) == sorted(str(p) for p in v0_files) and len(v0_files) >= 1
    assert all(r.bytes > 0 and r.kind == "unreferenced" for r in removed)
    assert sorted(r[0] for r in storage.read(probe).collect()) == list(range(10, 15))
    assert storage.info(probe).version == 1  # no vacuum commit: layers do not look cut short
    assert vacuum_tables(storage, 0, tables=[probe]) == []


def _scratch(local: Path, name: str, size: int, hours: float) -> Path:
    """A Spark scratch folder with one file of `size` bytes in a subfolder, all last changed `hours` ago."""
    (local / name / "0c").mkdir(parents=True)
    (local / name / "0c" / "shuffle_0_1_0.data").write_bytes(b"s" * size)
    _age(local / name, hours)
    return local / name


def test_spark_scratch_unchanged_for_the_stale_age_goes_whatever_the_lock(settings, monkeypatch, capsys):
    """Spark's `blockmgr-*` and `spark-*` folders and DuckDB's `duckdb-*` ones under spark.local.dir
    that killed processes left:
    removed once nothing in them changed for C2C_LOCK_STALE_HOURS (default 24), lock or no lock. A
    folder with anything newer (a live notebook's, however long idle) and other folders stay. No Spark
    is started."""
    monkeypatch.delenv("C2C_LOCK_STALE_HOURS", raising=False)
    local = Path(settings.spark.conf["spark.local.dir"])
    old = _scratch(local, "blockmgr-0d1e", 6, 25)
    old_driver = _scratch(local, "spark-5b2c", 3, 25)
    old_duckdb = _scratch(local, "duckdb-31349", 7, 25)
    _scratch(local, "warehouse", 2, 25)  # not Spark's scratch
    fresh = _scratch(local, "blockmgr-7f3a", 4, 25)
    (fresh / "0c" / "shuffle_0_2_0.data").write_bytes(b"s" * 9)  # written just now: alive
    recent = _scratch(local, "blockmgr-9e4f", 5, 2)
    # A URI entry in the list is never looked at.
    conf = {**settings.spark.conf, "spark.local.dir": f"hdfs://nn/tmp,{local}"}
    settings = settings.model_copy(update={"spark": settings.spark.model_copy(update={"conf": conf})})
    expected = [
        Removed(str(old), 6, "spark-scratch"),
        Removed(str(old_duckdb), 7, "spark-scratch"),
        Removed(str(old_driver), 3, "spark-scratch"),
    ]

    assert remove_dead_staging(settings, None, dry_run=True) == expected
    assert old.exists() and old_driver.exists() and old_duckdb.exists()  # a dry run removes nothing
    assert sweep_dead_staging(settings, None) == expected
    assert capsys.readouterr().out == "spark scratch: removed 3 folder(s) unchanged for 24 h (16 bytes)\n"
    assert sorted(p.name for p in local.iterdir()) == ["blockmgr-7f3a", "blockmgr-9e4f", "warehouse"]
    # The same stale age as the lock's: with C2C_LOCK_STALE_HOURS=1, a folder unchanged for 2 h goes too.
    monkeypatch.setenv("C2C_LOCK_STALE_HOURS", "1")
    assert sweep_dead_staging(settings, None, quiet=True) == [Removed(str(recent), 5, "spark-scratch")]
    assert sorted(p.name for p in local.iterdir()) == ["blockmgr-7f3a", "warehouse"]


def _files_of(storage: Storage, table: Table) -> list[str]:
    from deltalake import DeltaTable

    return [u.removeprefix("file://") for u in DeltaTable(storage.path(table)).file_uris()]


# ---- the command line ------------------------------------------------------------------------------


@pytest.fixture
def live_pid():
    """The pid of another process that runs for the length of the test."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    yield process.pid
    process.kill()
    process.wait()


def test_the_commands_from_the_command_line(spark, tmp_path, monkeypatch, capsys, live_pid):
    """`c2c quarantine list|release|exclude` and `c2c vacuum` in process, on a lake under ./var."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("C2C_ENV", "local")
    settings = load_settings("local", ROOT / "conf")
    raw = Path(settings.storage.raw_root)
    _put(raw, BAD, "DE9C", BAD_LINES)
    _put(raw, GOOD, "DE9C", GOOD_LINES)
    land(spark, open_storage(spark, settings), str(raw))
    capsys.readouterr()

    def c2c(*args: str) -> tuple[int, list[str], list[str]]:
        status = main(list(args))
        out, err = capsys.readouterr()
        return status, out.splitlines(), err.splitlines()

    header = f"{'file':<18}  status          raw     landed   unparsed  gate or decision"
    assert c2c("quarantine", "list") == (
        0,
        [
            header,
            f"{BAD}  landed           40         10         30  blocks the gate: file: 25.0% of its 40 rows "
            "parsed (min 50%)",
            f"{GOOD}  landed            4          3          1  blocks the gate: family edd/DE9C: 29.5% "
            "of 44 rows parsed (min 95%)",
            "2 file(s) block the raw->bronze gate; 0 released, 0 excluded; 31 unparsed rows in "
            "bronze.quarantine",
            "accept a file's parsed rows: c2c quarantine release FILE --reason TEXT",
            "drop a file's rows from bronze: c2c quarantine exclude FILE --reason TEXT",
        ],
        [],
    )
    status, out, err = c2c("quarantine", "exclude", "edd/DE9C_1999.csv", "--reason", "x")
    assert (status, out, len(err)) == (2, [], 1)
    assert err[0].startswith("c2c: error: no file 'edd/DE9C_1999.csv' in the ledger bronze.files")

    status, out, err = c2c(
        "quarantine", "release", str(raw / BAD), "--reason", "amounts confirmed", "--by", "ops-a"
    )
    assert (status, err, len(out)) == (0, [], 2)
    assert out[0].startswith(f"released {BAD} (sha256 ")
    assert out[0].endswith(
        "its 10 parsed rows are accepted and the raw->bronze gate no longer judges it; its 30 unparsed "
        "rows stay in bronze.quarantine as missing data"
    )
    assert out[1].startswith("recorded in bronze.file_decisions by ops-a at ")
    status, out, _ = c2c("quarantine", "list")
    assert out[1].startswith(f"{BAD}  released         40         10         30  by ops-a at ")
    assert out[1].endswith("Z: amounts confirmed")
    assert out[2] == f"{GOOD}  landed            4          3          1"  # 75%: 1 bad row, too few to judge
    assert out[3] == (
        "0 file(s) block the raw->bronze gate; 1 released, 0 excluded; 31 unparsed rows in bronze.quarantine"
    )

    # vacuum: refused while another live run holds the lake; then a dry run that removes nothing.
    lake = Path(settings.storage.root)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    (lake / LOCK_NAME).write_text(Holder("r-live", socket.gethostname(), live_pid, started).text())
    status, out, err = c2c("vacuum")
    assert (status, out, len(err)) == (2, [], 1)
    assert err[0].startswith("c2c: error: vacuum refused: a run holds the lake (run r-live on host ")
    (lake / LOCK_NAME).unlink()
    monkeypatch.delenv("C2C_LOCK_STALE_HOURS", raising=False)
    dead_scratch = _scratch(Path(settings.spark.conf["spark.local.dir"]), "blockmgr-dead", 8, 30)
    status, out, err = c2c("vacuum", "--dry-run", "--older-than", "0h")
    assert (status, err) == (0, [])
    assert out[0] == f"would remove              8 bytes  {dead_scratch}"
    assert out[-1].startswith(
        "vacuum (dry run): would remove 0 staging folder(s) of runs no longer alive (0 bytes), 1 Spark "
        "scratch folder(s) unchanged for 24 h (8 bytes) and "
    )
    assert dead_scratch.exists()
    assert not (lake / LOCK_NAME).exists()
    assert c2c("vacuum", "--older-than", "7 days")[0] == 2
    assert _failing(spark, open_storage(spark, settings)) == []
    assert storage_rows(settings, spark) == 10


def storage_rows(settings, spark) -> int:
    return open_storage(spark, settings).read(BRONZE["DE9C"]).where(F.col("_source_file") == BAD).count()
