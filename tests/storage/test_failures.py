"""Concurrent writers and writers killed mid-write: the table is never corrupt, orphans get vacuumed."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from chispa import assert_df_equality

from lakehouse.errors import ConcurrentWriteError
from lakehouse.storage.delta_rs import DeltaRsStorage
from lakehouse.tables import Table

WRITER = Path(__file__).with_name("writer_process.py")


def batch(spark, start, n):
    return spark.range(start, start + n).selectExpr(
        "id", "cast(2020 + id % 4 as int) as year", "concat('p', id) as name"
    )


def disk_files(path: str) -> set[str]:
    out = set()
    for folder, dirs, names in os.walk(path):
        dirs[:] = [d for d in dirs if d != "_delta_log"]
        out |= {os.path.join(folder, n) for n in names if n.endswith(".parquet")}
    return out


def live_files(storage, table) -> set[str]:
    from deltalake import DeltaTable

    return {os.path.normpath(f) for f in DeltaTable(storage.path(table)).file_uris()}


def race(*writers):
    """Run the callables in threads, release them together; return each one's result or exception."""
    results: list = [None] * len(writers)

    def go(i, fn):
        try:
            results[i] = fn()
        except Exception as exc:  # the test inspects it
            results[i] = exc

    threads = [threading.Thread(target=go, args=(i, fn)) for i, fn in enumerate(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return results


def test_two_concurrent_appends_both_land(spark, storage, new_table):
    t = new_table(partition_by=("year",))
    storage.write(batch(spark, 0, 100), t)
    results = race(
        lambda: storage.write(batch(spark, 100, 100), t),
        lambda: storage.write(batch(spark, 200, 100), t),
    )
    assert all(not isinstance(r, Exception) for r in results), results
    assert sorted(r.version for r in results) == [1, 2]
    assert_df_equality(storage.read(t), batch(spark, 0, 300), ignore_row_order=True, ignore_nullable=True)


def test_overwrite_racing_an_append_never_corrupts(spark, settings, new_table, monkeypatch):
    """Both writers have their files in place before either commits (a barrier in the commit step)."""
    storage = DeltaRsStorage(spark, settings)
    t = new_table(partition_by=("year",))
    storage.write(batch(spark, 0, 100), t)
    first_version_files = live_files(storage, t)
    barrier = threading.Barrier(2, timeout=120)
    real_commit = DeltaRsStorage._commit

    def commit_together(self, *args, **kwargs):
        barrier.wait()
        return real_commit(self, *args, **kwargs)

    monkeypatch.setattr(DeltaRsStorage, "_commit", commit_together)
    results = race(
        lambda: storage.write(batch(spark, 1000, 50), t, "overwrite"),
        lambda: storage.write(batch(spark, 2000, 50), t, "append"),
    )
    failures = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(f, ConcurrentWriteError) for f in failures), failures
    current = storage.read(t)
    overwrite, append = batch(spark, 1000, 50), batch(spark, 2000, 50)
    valid = [overwrite, overwrite.unionByName(append), batch(spark, 0, 100).unionByName(append)]
    assert any(sorted(current.collect()) == sorted(v.collect()) for v in valid)
    # Files on disk but not live may only be ones the overwrite replaced: a failed writer leaves nothing.
    assert disk_files(storage.path(t)) - live_files(storage, t) <= first_version_files
    storage.vacuum(t, retain_hours=0)
    assert disk_files(storage.path(t)) == live_files(storage, t)


@pytest.mark.slow
def test_two_writer_processes_append_concurrently(spark, settings, storage):
    root = Path(settings.storage.root).parent
    t = Table(layer="gold", name="raced", partition_by=("year",))
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(WRITER),
                str(root),
                "raced",
                "append",
                "--rows",
                "500",
                "--batches",
                "3",
                "--offset",
                str(offset),
                "--engine",
                storage.engine,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for offset in (0, 10_000)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-3000:] for o in outputs]
    expected = batch(spark, 0, 1500).unionByName(batch(spark, 10_000, 1500))
    assert_df_equality(storage.read(t), expected, ignore_row_order=True, ignore_nullable=True)
    assert [c.version for c in storage.history(t)] == list(range(5, -1, -1))


@pytest.mark.slow
@pytest.mark.parametrize("kill_point", ["before-commit", "during-write"])
def test_killed_writer_leaves_previous_version_and_vacuum_removes_orphans(
    spark, settings, storage, kill_point
):
    if kill_point == "before-commit" and storage.engine != "delta-rs":
        pytest.skip("delta-spark commits inside its own write call; the during-write kill covers it")
    root = Path(settings.storage.root).parent
    t = Table(layer="gold", name="killed", partition_by=("year",))
    storage.write(batch(spark, 0, 100), t)
    proc = subprocess.run(
        [
            sys.executable,
            str(WRITER),
            str(root),
            "killed",
            "append",
            "--rows",
            "200000",
            "--offset",
            "500",
            "--kill",
            kill_point,
            "--engine",
            storage.engine,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert storage.info(t).version == 0
    assert_df_equality(storage.read(t), batch(spark, 0, 100), ignore_row_order=True, ignore_nullable=True)

    path = Path(storage.path(t))
    orphans = disk_files(str(path)) - live_files(storage, t)
    staged = list((path / "_staging").glob("*"))
    assert orphans or staged, "the killed writer should have left files behind"
    removed = storage.vacuum(t, retain_hours=0)
    assert removed
    assert disk_files(str(path)) == live_files(storage, t)
    assert not list((path / "_staging").glob("*"))
    assert storage.info(t).rows == 100


def test_one_step_raced_by_two_writers_commits_once(spark, settings, new_table, monkeypatch):
    """Two writers of the same step (same run id), both past the check that the step has not committed
    yet, commit together: the step's application transaction is checked again inside the commit, against
    every commit since the writer read the table, so one lands and the other commits nothing (it
    reports the step as done, as a re-run of it would)."""
    storage = DeltaRsStorage(spark, settings)
    t = new_table(partition_by=("year",))
    storage.write(batch(spark, 0, 100), t)
    barrier = threading.Barrier(2, timeout=120)
    real_commit = DeltaRsStorage._commit

    def commit_together(self, *args, **kwargs):
        barrier.wait()
        return real_commit(self, *args, **kwargs)

    monkeypatch.setattr(DeltaRsStorage, "_commit", commit_together)
    results = race(
        lambda: storage.write(batch(spark, 100, 50), t, run_id="run-1", step="land"),
        lambda: storage.write(batch(spark, 100, 50), t, run_id="run-1", step="land"),
    )
    assert not any(isinstance(r, Exception) for r in results), results
    assert sorted(r.skipped for r in results) == [False, True]
    assert_df_equality(storage.read(t), batch(spark, 0, 150), ignore_row_order=True, ignore_nullable=True)
    assert storage.info(t).version == 1
