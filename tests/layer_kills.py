"""The layer kill tests' shared parts (tests/jobs/test_layers.py, tests/jobs/test_layers_identity_gold.py):
copies of the shared `pipeline_run` lake, the whole outcome of a lake to compare, and runs of the pipeline
cut short inside one layer by a commit that raises, as a killed process would leave the lake."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jobs import gold_job, identity_job, pipeline, silver_job
from jobs.run_record import RunFailed
from lakehouse.settings import Settings, load_settings
from lakehouse.storage import open_storage
from lakehouse.tables import (
    GOLD_PUBLISHED_CELLS,
    IDENTITY_CROSSWALK,
    IDENTITY_PAIRS,
    IDENTITY_PERSON_ID_HISTORY,
    Table,
)
from lakehouse.tables.manifest import latest_manifest
from tests.conftest import ROOT
from tests.e2e import PipelineRun

LAYERS = ("silver", "identity", "gold")
ALL_TABLES = (*silver_job.SILVER_TABLES, *identity_job.IDENTITY_TABLES, *gold_job.GOLD_TABLES)


class Killed(RuntimeError):
    """Stands for the process being killed at that point."""


def copy_lake(pipeline_run: PipelineRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A copy of the finished shared lake in `tmp_path`, made the working directory, and the settings of
    `c2c run` in it (paths resolve from the working directory, as the CLI's do)."""
    shutil.copytree(pipeline_run.var, tmp_path / "var", symlinks=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("C2C_PII_KEY", raising=False)  # the lake's own dev key, copied with it
    return load_settings("local", ROOT / "conf")


def uninterrupted_results(spark, pipeline_run: PipelineRun, workdir: Path) -> dict:
    """What the uninterrupted run left, read from a copy in `workdir` (the shared lake is not written to)."""
    shutil.copytree(pipeline_run.var, workdir / "var", symlinks=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(workdir)
        results = lake_results(spark, load_settings("local", ROOT / "conf"))
    assert len(results["csv"]) > 10, "no published CSV files: the comparison would prove nothing"
    return results


def lake_results(spark, settings) -> dict:
    """The whole outcome of silver, identity and gold, without run ids and timestamps: each table's row
    count, the crosswalk, the linkage pairs, the id history, the published cells and the published
    CSV files."""
    storage = open_storage(spark, settings)

    def rows(table: Table, *drop: str) -> list[tuple]:
        df = storage.read(table).drop("run_id", *drop)
        # NaN (a rule-made pair's probability) is not equal to itself: compare it as None.
        plain = [tuple(None if v != v else v for v in r) for r in df.collect()]
        return sorted(plain, key=repr)

    pairs = [(*r[:2], None if r[2] is None else round(r[2], 9), *r[3:]) for r in rows(IDENTITY_PAIRS)]
    return {
        "rows": {t.fqn: storage.info(t).rows for t in ALL_TABLES if storage.info(t).exists},
        "crosswalk": rows(IDENTITY_CROSSWALK),
        "pairs": pairs,
        "history": rows(IDENTITY_PERSON_ID_HISTORY, "recorded_at"),
        "published": rows(GOLD_PUBLISHED_CELLS),
        # The dashboard's published files, byte for byte.
        "csv": {p.name: p.read_bytes() for p in sorted((settings.var_dir / "site" / "data").glob("*.csv"))},
    }


def run_pipeline(spark, settings, run_id: str) -> dict:
    return pipeline.run(spark, settings, run_id=run_id, quiet=True)


class KillSwitch:
    """Counts the commits of one layer's tables and of its manifest, in order, and raises Killed just
    before the manifest (`kill_at` "manifest") or before the commit after the `kill_at`-th, as if the
    process died right after that commit. With `kill_at` None it only counts."""

    def __init__(self, tables: tuple[Table, ...], kill_at: int | str | None) -> None:
        self.tables, self.kill_at, self.seen, self.writing = tables, kill_at, [], False

    def count(self, name: str) -> None:
        if self.kill_at == len(self.seen) or self.kill_at == "manifest" and name.endswith(" manifest"):
            raise Killed(f"killed after {self.seen[-1]}")
        self.seen.append(name)

    def install(self, m: pytest.MonkeyPatch, engine: type, job) -> None:
        real_commit, real_write, real_manifest = engine.commit, engine.write, job.write_manifest

        def commit(storage, staged, *args, **kwargs):
            if staged.table in self.tables and not self.writing:
                self.count(staged.table.fqn)
            return real_commit(storage, staged, *args, **kwargs)

        def write(storage, df, table, *args, **kwargs):
            if table in self.tables:
                self.count(table.fqn)
            self.writing = True  # an engine's write may commit through `commit`: one commit, counted once
            try:
                return real_write(storage, df, table, *args, **kwargs)
            finally:
                self.writing = False

        def write_manifest(storage, layer, *args, **kwargs):
            self.count(f"{layer} manifest")
            return real_manifest(storage, layer, *args, **kwargs)

        m.setattr(engine, "commit", commit)
        m.setattr(engine, "write", write)
        m.setattr(job, "write_manifest", write_manifest)


def killed_then_repaired(spark, lake, monkeypatch, job, layer: str, kills, repair_id: str) -> list[str]:
    """Runs of the pipeline killed inside `layer` (its tables committed by `job`, then its manifest),
    one per (run id, kill point) of `kills`, as a killed process would leave the lake: each must
    leave the layer unpromoted and due. Then the run `repair_id`, not killed. Returns that run's
    commits in order; the kill points are checked against them."""
    storage = open_storage(spark, lake)
    tables = {"silver": silver_job.SILVER_TABLES, "identity": identity_job.IDENTITY_TABLES}.get(
        layer, gold_job.GOLD_TABLES
    )
    due = {"silver": silver_job.due, "identity": identity_job.due}.get(layer, gold_job.due)
    run_ids = {run_id for run_id, _ in kills}
    killed_after: list[str] = []
    for run_id, kill_at in [*kills, (repair_id, None)]:
        switch = KillSwitch(tables, kill_at)
        with monkeypatch.context() as m:
            switch.install(m, type(storage), job)
            if kill_at is None:
                report = run_pipeline(spark, lake, run_id)
                break
            with pytest.raises(RunFailed) as failed:
                run_pipeline(spark, lake, run_id)
        assert isinstance(failed.value.__cause__, Killed), failed.value
        killed_after.append(switch.seen[-1])
        # Not promoted by a killed run (a first run cut short is adopted as a lake from before manifests:
        # as it is, with unknown inputs, so due).
        manifest = latest_manifest(storage, layer)
        assert manifest is None or manifest.run_id not in run_ids, manifest
        assert due(storage), f"{layer} not due after a run killed after {switch.seen[-1]}"
    assert report["status"] == "succeeded"
    seen = switch.seen
    points = [len(seen) - 1 if k == "manifest" else k for _, k in kills]
    assert seen[-1] == f"{layer} manifest" and killed_after == [seen[k - 1] for k in points], (
        killed_after,
        seen,
    )
    assert {t.fqn for t in tables if storage.info(t).exists} <= set(seen)
    return seen
