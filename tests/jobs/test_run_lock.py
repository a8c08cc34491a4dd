"""The lake's run lock (lakehouse/runlock.py): one `c2c run` at a time, stale locks taken over."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobs.run_record import REFUSAL_PENDING
from lakehouse.errors import SettingsError
from lakehouse.runlock import LOCK_NAME, Holder, RunLockHeld, release, run_lock
from tests.e2e import c2c

HOST = socket.gethostname()


@pytest.fixture(autouse=True)
def default_timeout(monkeypatch):
    monkeypatch.delenv("C2C_LOCK_STALE_HOURS", raising=False)


@pytest.fixture
def live_pid():
    """The pid of a process that runs for the length of the test."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    yield process.pid
    process.kill()
    process.wait()


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def hours_ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat(timespec="seconds")


def write_lock(lake: Path, holder: Holder) -> Path:
    lake.mkdir(parents=True, exist_ok=True)
    path = lake / LOCK_NAME
    path.write_text(holder.text())
    return path


def test_lock_is_taken_for_the_run_and_released_however_it_ends(tmp_path):
    lake = tmp_path / "lake"
    path = lake / LOCK_NAME
    with run_lock(str(lake), "r-1") as holder:
        assert holder == Holder("r-1", HOST, os.getpid(), holder.started_at)
        assert Holder.parse(path.read_text()) == holder
        assert path.stat().st_mode & 0o777 == 0o600
        assert datetime.now(UTC) - datetime.fromisoformat(holder.started_at) < timedelta(minutes=1)
    assert not path.exists()

    with pytest.raises(RuntimeError, match="a step broke"), run_lock(str(lake), "r-2"):
        assert path.exists()
        raise RuntimeError("a step broke")
    assert not path.exists()


def test_a_live_holder_keeps_the_lake(tmp_path, live_pid):
    """Held by a live process on this host, or by any recent run of another host (its pid cannot be
    checked from here): the second run stops, naming the holder and how to clear a dead one."""
    lake = tmp_path / "lake"
    for holder in (
        Holder("r-live", HOST, live_pid, hours_ago(1)),
        Holder("r-there", "another-host", 4242, hours_ago(23)),
    ):
        path = write_lock(lake, holder)
        with pytest.raises(RunLockHeld) as held, run_lock(str(lake), "r-2"):
            pytest.fail("the lock was taken from a live run")
        assert str(held.value) == (
            f"another c2c run holds the lake: run {holder.run_id} on host {holder.host}, pid {holder.pid}, "
            f"started {holder.started_at} (lock {path}). If that run is no longer running, delete {path} "
            f"and start again; a lock is taken over by itself once its pid is gone on {holder.host} or "
            "after 24 h (C2C_LOCK_STALE_HOURS)."
        )
        assert path.read_text() == holder.text()  # left as it was


@pytest.mark.parametrize(
    ("case", "hours", "reason"),
    [
        ("dead pid on this host", None, "its process {pid} is gone"),
        ("another host, older than the default 24 h", None, "it is older than 24 h (C2C_LOCK_STALE_HOURS)"),
        (
            "another host, older than C2C_LOCK_STALE_HOURS",
            "1.5",
            "it is older than 1.5 h (C2C_LOCK_STALE_HOURS)",
        ),
    ],
)
def test_a_stale_lock_is_taken_over_and_said_so(tmp_path, monkeypatch, capsys, dead_pid, case, hours, reason):
    if hours:
        monkeypatch.setenv("C2C_LOCK_STALE_HOURS", hours)
    stale = {
        "dead pid on this host": Holder("r-old", HOST, dead_pid, hours_ago(1)),
        "another host, older than the default 24 h": Holder("r-old", "another-host", 4242, hours_ago(25)),
        "another host, older than C2C_LOCK_STALE_HOURS": Holder("r-old", "another-host", 4242, hours_ago(2)),
    }[case]
    path = write_lock(tmp_path / "lake", stale)
    with run_lock(str(tmp_path / "lake"), "r-new") as holder:
        assert (
            Holder.parse(path.read_text()) == holder == Holder("r-new", HOST, os.getpid(), holder.started_at)
        )
    assert capsys.readouterr().err == (
        f"c2c: taking over a stale lake lock ({stale.describe()}): {reason.format(pid=stale.pid)}\n"
    )
    assert not path.exists()
    assert sorted(p.name for p in (tmp_path / "lake").iterdir()) == []  # nothing left aside


def test_an_unreadable_lock_is_stale_once_old(tmp_path, capsys):
    path = tmp_path / "lake" / LOCK_NAME
    path.parent.mkdir()
    path.write_text("")  # a run that died between creating the file and writing it
    old = (datetime.now(UTC) - timedelta(minutes=5)).timestamp()
    os.utime(path, (old, old))
    with run_lock(str(tmp_path / "lake"), "r-new") as holder:
        assert Holder.parse(path.read_text()) == holder
    assert (
        capsys.readouterr().err
        == "c2c: taking over a stale lake lock (an unreadable lock): its file is unreadable\n"
    )


def test_release_leaves_a_lock_another_run_took_over(tmp_path):
    lake = tmp_path / "lake"
    with run_lock(str(lake), "r-slow") as holder:
        newer = Holder("r-next", HOST, 4242, hours_ago(0))
        (lake / LOCK_NAME).write_text(newer.text())  # r-slow outlived the timeout and lost the lock
    assert (lake / LOCK_NAME).read_text() == newer.text()
    release(lake / LOCK_NAME, holder)  # and again: still not ours
    assert (lake / LOCK_NAME).read_text() == newer.text()


def test_object_store_roots_are_not_locked(tmp_path):
    with run_lock("s3a://state-c2c/lake", "r-1") as holder:
        assert holder is None


def test_a_bad_timeout_setting_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("C2C_LOCK_STALE_HOURS", "a day")
    with pytest.raises(SettingsError) as bad, run_lock(str(tmp_path / "lake"), "r-1"):
        pytest.fail("ran with a bad setting")
    assert (
        str(bad.value)
        == "environment variable C2C_LOCK_STALE_HOURS='a day': expected a number of hours above 0"
    )


def _refused_report(run_id: str, holder: Holder, path: Path, attempt: int = 1) -> dict:
    """The report a refused run leaves, but for its own start and finish times."""
    return {
        "run_id": run_id,
        "attempt": attempt,
        "env": "local",
        "status": "refused",
        "held_by": {
            "run_id": holder.run_id,
            "host": holder.host,
            "pid": holder.pid,
            "started_at": holder.started_at,
        },
        "lock": str(path),
        "ops_runs": REFUSAL_PENDING,
    }


def _without_times(report: dict) -> dict:
    """`report` without its times, after checking them: started before it finished, both just now."""
    started, finished = (datetime.fromisoformat(report[k]) for k in ("started_at", "finished_at"))
    assert started <= finished and datetime.now(UTC) - started < timedelta(minutes=5)
    return {k: v for k, v in report.items() if k not in ("started_at", "finished_at")}


def test_a_refused_run_leaves_its_report_and_keeps_the_earlier_ones(settings, live_pid, monkeypatch):
    """In process: the refused run starts no Spark, writes nothing to the lake (the lock file stays the
    only thing there) and leaves report.json saying who holds the lake; a re-used run id's earlier
    reports are kept as report.<n>.json, as for failed attempts."""
    from jobs import pipeline

    def no_spark(*args, **kwargs):
        pytest.fail("a refused run started Spark")

    monkeypatch.setattr(pipeline, "build_spark", no_spark)
    monkeypatch.setattr(pipeline, "sweep_dead_staging", no_spark)
    lake = Path(settings.storage.root)
    holder = Holder("r-first", HOST, live_pid, hours_ago(0.5))
    path = write_lock(lake, holder)
    runs = settings.runs_dir() / "r-again"
    runs.mkdir(parents=True)
    earlier = {"run_id": "r-again", "attempt": 1, "status": "failed"}
    (runs / "report.json").write_text(json.dumps(earlier))

    for attempt in (2, 3):
        with pytest.raises(RunLockHeld) as held:
            pipeline.main(settings, run_id="r-again", quiet=True)
        assert held.value.holder == holder
        report = json.loads((runs / "report.json").read_text())
        assert _without_times(report) == _refused_report("r-again", holder, path, attempt)

    assert sorted(p.name for p in runs.iterdir()) == ["report.1.json", "report.2.json", "report.json"]
    assert json.loads((runs / "report.1.json").read_text()) == earlier
    assert json.loads((runs / "report.2.json").read_text())["status"] == "refused"
    assert [p.name for p in lake.iterdir()] == [LOCK_NAME] and path.read_text() == holder.text()


def test_a_report_written_by_the_holder_keeps_a_refused_one_of_its_run_id(settings):
    """A run refused while an attempt of the same run id held the lake: that attempt's report, written
    when it ends, keeps the refused one as report.<n>.json."""
    from jobs.run_record import keep_earlier_reports, record_refusal, write_report

    attempt = keep_earlier_reports(settings, "r-same")
    holder = Holder("r-same", HOST, os.getpid(), hours_ago(0.1))
    held = RunLockHeld(Path(settings.storage.root) / LOCK_NAME, holder)
    record_refusal(settings, run_id="r-same", started_at=datetime.now(UTC), held=held)
    write_report(settings, {"run_id": "r-same", "attempt": attempt, "status": "succeeded"})

    runs = settings.runs_dir() / "r-same"
    assert sorted(p.name for p in runs.iterdir()) == ["report.1.json", "report.json"]
    assert json.loads((runs / "report.1.json").read_text())["status"] == "refused"
    assert json.loads((runs / "report.json").read_text()) == {
        "run_id": "r-same",
        "attempt": 1,
        "status": "succeeded",
    }


def test_the_holder_records_the_runs_it_refused_in_ops_runs_once(spark, settings):
    """Refused attempts (one kept as report.1.json by a later attempt of its run id) get their ops.runs
    rows when the holder records its own ending, and each report says which run recorded it. A second
    recording, as after a holder that died between the commit and the reports, adds nothing."""
    from jobs.run_record import keep_earlier_reports, record_refusal, record_refusals, record_run
    from lakehouse.storage import open_storage
    from lakehouse.tables import OPS_RUNS

    holder = Holder("r-holder", HOST, os.getpid(), hours_ago(0.1))
    held = RunLockHeld(Path(settings.storage.root) / LOCK_NAME, holder)
    for run_id in ("r-a", "r-b", "r-a"):
        record_refusal(settings, run_id=run_id, started_at=datetime.now(UTC), held=held)
    (settings.runs_dir() / "r-broken").mkdir()
    (settings.runs_dir() / "r-broken" / "report.json").write_text('{"status": "refused", "run_')
    storage = open_storage(spark, settings)
    keep_earlier_reports(settings, "r-holder")
    started = datetime.now(UTC)
    record_run(
        spark,
        storage,
        settings,
        run_id="r-holder",
        job="pipeline",
        started_at=started,
        status="succeeded",
        detail={},
    )

    rows = storage.read(OPS_RUNS).orderBy("run_id", "detail").collect()
    held_by = {"run_id": "r-holder", "host": HOST, "pid": os.getpid(), "started_at": holder.started_at}
    assert [(r.run_id, r.job, r.status, json.loads(r.detail)) for r in rows] == [
        ("r-a", "pipeline", "refused", {"attempt": 1, "held_by": held_by, "recorded_by": "r-holder"}),
        ("r-a", "pipeline", "refused", {"attempt": 2, "held_by": held_by, "recorded_by": "r-holder"}),
        ("r-b", "pipeline", "refused", {"attempt": 1, "held_by": held_by, "recorded_by": "r-holder"}),
        ("r-holder", "pipeline", "succeeded", {}),
    ]
    for r in rows[:3]:
        assert r.started_at <= r.finished_at
    for report in ("r-a/report.1.json", "r-a/report.json", "r-b/report.json"):
        saved = json.loads((settings.runs_dir() / report).read_text())
        assert saved["ops_runs"] == "recorded in ops.runs by run r-holder"

    for report in ("r-a/report.json", "r-b/report.json"):  # as if the holder died before saying so
        path = settings.runs_dir() / report
        path.write_text(json.dumps({**json.loads(path.read_text()), "ops_runs": REFUSAL_PENDING}))
    assert record_refusals(spark, storage, settings, by_run_id="r-next") == 0
    assert storage.info(OPS_RUNS).rows == 4
    saved = json.loads((settings.runs_dir() / "r-b" / "report.json").read_text())
    assert saved["ops_runs"] == "recorded in ops.runs by run r-next"


def test_a_second_c2c_run_exits_2_at_once_naming_the_holder(tmp_path, live_pid):
    """The real CLI: the lock is checked before Spark starts, so the second run stops in seconds, prints
    one line, and leaves only its report.json saying it was refused."""
    holder = Holder("r-first", HOST, live_pid, hours_ago(0.5))
    path = write_lock(tmp_path / "var" / "lake", holder)
    result = c2c(
        "run", "--run-id", "r-second", cwd=tmp_path, env={"C2C_PII_KEY": secrets.token_hex(32)}, timeout=120
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"c2c: error: another c2c run holds the lake: run r-first on host {HOST}, pid {live_pid}, "
        f"started {holder.started_at} (lock {path}). If that run is no longer running, delete {path} and "
        f"start again; a lock is taken over by itself once its pid is gone on {HOST} or after 24 h "
        "(C2C_LOCK_STALE_HOURS)."
    ]
    assert path.read_text() == holder.text()
    runs = tmp_path / "var" / "runs"
    assert [p.relative_to(runs).as_posix() for p in sorted(runs.rglob("*"))] == [
        "r-second",
        "r-second/report.json",
    ]
    report = json.loads((runs / "r-second" / "report.json").read_text())
    assert _without_times(report) == _refused_report("r-second", holder, path)
    assert [p.name for p in path.parent.iterdir()] == [LOCK_NAME]  # nothing written to the lake


RACER = """
import sys, time
from pathlib import Path
from lakehouse.runlock import RunLockHeld, acquire
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.005)
try:
    acquire(Path(sys.argv[2]), sys.argv[3])
except RunLockHeld:
    sys.exit(3)
time.sleep(2)  # hold it while the others try
"""


def test_of_runs_racing_for_a_stale_lock_exactly_one_gets_it(tmp_path, dead_pid):
    path = write_lock(tmp_path / "lake", Holder("r-old", HOST, dead_pid, hours_ago(1)))
    go = tmp_path / "go"
    root = Path(__file__).resolve().parents[2]
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(go), str(path), f"r-{i}"],
            cwd=root,
            stderr=subprocess.DEVNULL,
        )
        for i in range(6)
    ]
    go.touch()
    codes = sorted(p.wait(timeout=60) for p in racers)
    assert codes == [0, 3, 3, 3, 3, 3]
