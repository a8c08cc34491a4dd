"""Gold's own logic, apart from linkage: gold built on the truth's person ids, against the true metrics.

    .venv/bin/python benchmarks/gold_on_truth.py [--persons 10000] [--keep DIR]

Generates a state (or reuses `<DIR>/raw`), lands it and builds silver as `c2c run` does (raw->bronze
gate, gated silver), and skips identity: the crosswalk is the generator's truth instead
(`_truth/person_truth.csv` joined with silver.person_records on each record's key, see
`lakehouse.gold.accuracy.truth_crosswalk`). Gold is then the pipeline's own gold step
(`jobs.gold_job.run`: build, suppression, the gold gate, publication) on that crosswalk, and every
published cell is compared with `_truth/metrics.csv` (`compare_exactly`): with a perfect linkage
every published number must equal the truth's, since the truth counts only what the extracts carry.

`benchmarks/pipeline.py` does the same on its own run's silver (`gold_on_truth`): the truth lake is
a separate lake holding a copy of that run's silver and the truth crosswalk, so the run's own tables
stay untouched. The same comparison on gold.metric_cells (every cell, before suppression) is shown
beside it: the published cells of a small state are a few of them. Last line: `cells_compared=...
cells_equal=... gold_exact_on_truth=true|false all_cells_exact_on_truth=... all_cells_compared=...
max_rate_diff_pp=... max_median_diff_pct=... gold_s=...`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jobs import bronze_job, gold_job, silver_job  # noqa: E402
from jobs.layer import context  # noqa: E402
from lakehouse.gold.accuracy import compare_exactly, read_true_metrics, truth_crosswalk  # noqa: E402
from lakehouse.identity.evaluate import read_truth  # noqa: E402
from lakehouse.settings import Settings  # noqa: E402
from lakehouse.storage import Storage, open_storage  # noqa: E402
from lakehouse.tables import (  # noqa: E402
    GOLD_METRIC_CELLS,
    GOLD_PUBLISHED_CELLS,
    IDENTITY_CROSSWALK,
    SILVER_PERSON_RECORDS,
)

TRUTH_METRICS = "_truth/metrics.csv"


def copy_silver(source: Settings, target: Settings) -> None:
    """A fresh lake holding only `source`'s silver tables (and their restricted half)."""
    for src, dst in (
        (source.storage.root, target.storage.root),
        (source.storage.restricted_root, target.storage.restricted_root),
    ):
        shutil.rmtree(dst, ignore_errors=True)
        if (Path(src) / "silver").is_dir():
            shutil.copytree(Path(src) / "silver", Path(dst) / "silver")


def land_and_silver(spark, settings: Settings, *, run_id: str) -> dict:
    """Bronze and gated silver on `settings`' lake from its raw root, as `c2c run` builds them (the raw
    files stay where they are, whatever `raw.after_landing` says); no identity, no gold."""
    settings = settings.model_copy(update={"raw": settings.raw.model_copy(update={"after_landing": "keep"})})
    ctx = context(spark, settings, run_id=run_id)
    timings: dict[str, float] = {}
    for job in (bronze_job, silver_job):
        layer = job.run(ctx)
        ctx = ctx.after(layer)
        timings.update(layer.timings_s)
        if layer.blocked is not None:
            raise layer.blocked
    return timings


def gold_on_truth(spark, settings: Settings, *, run_id: str, silver_from: Settings | None = None) -> dict:
    """The pipeline's gold step on `settings`' lake with the truth's person ids as the crosswalk.

    `silver_from`: another lake whose silver is copied first (a run's lake, kept untouched); without
    it, `settings`' lake must hold silver already. Writes identity.person_crosswalk (the truth's) and
    gold to `settings`' lake. Returns `compare_exactly`'s result, plus `records` and
    `records_without_truth` (silver person records the truth does not list) and `gold_s`."""
    if silver_from is not None:
        copy_silver(silver_from, settings)
    storage = open_storage(spark, settings)
    truth = read_truth(spark, settings)
    if truth is None:
        raise SystemExit(
            f"no {Path(settings.storage.raw_root) / TRUTH_METRICS}: gold on truth needs a generated state"
        )
    records = storage.read(SILVER_PERSON_RECORDS)
    crosswalk = truth_crosswalk(records, truth, run_id=run_id).localCheckpoint()
    storage.write(crosswalk, IDENTITY_CROSSWALK, "overwrite", run_id=run_id, step="truth/crosswalk")
    started = time.perf_counter()
    gold = gold_job.run(context(spark, settings, run_id=run_id))
    if gold.blocked is not None:
        raise gold.blocked
    seconds = time.perf_counter() - started
    truth_cells = true_metrics(settings)
    published = published_cells(storage)
    # Per cohort year, gold publishes the breakdowns the catalog asks for (statewide only for a mart
    # published as pooled cohorts): the truth's other cells have nothing to be compared with.
    tables = published[["metric", "dimension"]].drop_duplicates()
    result = compare_exactly(published, truth_cells.merge(tables, on=["metric", "dimension"]))
    every = compare_exactly(storage.read(GOLD_METRIC_CELLS).toPandas(), truth_cells)
    n_records = records.count()
    return {
        **result,
        "all_cells": {k: v for k, v in every.items() if k != "differing"},
        "records": n_records,
        "records_without_truth": n_records - crosswalk.count(),
        "gold_s": seconds,
    }


def published_cells(storage: Storage) -> pd.DataFrame:
    return storage.read(GOLD_PUBLISHED_CELLS).toPandas()


def true_metrics(settings: Settings) -> pd.DataFrame:
    return read_true_metrics(Path(settings.storage.raw_root) / TRUTH_METRICS)


def show(result: dict, top: int = 10) -> None:
    """The differing cells, worst first."""
    differing = result["differing"]
    print(
        f"  gold on truth: {result['cells_equal']:,}/{result['cells_compared']:,} published cells equal, "
        f"{result['cells_without_truth']} without a truth cell, {result['truth_cells_missing']} truth "
        f"cells gold lacks; {result['records_without_truth']} of {result['records']:,} person records "
        "not in the truth",
        flush=True,
    )
    every = result["all_cells"]
    print(
        f"  every cell before suppression (gold.metric_cells): {every['cells_equal']:,}/"
        f"{every['cells_compared']:,} equal, {every['cells_without_truth']} without a truth cell, "
        f"{every['truth_cells_missing']} truth cells gold lacks",
        flush=True,
    )
    for row in differing.head(top).to_dict(orient="records"):
        print("  differs:", {k: v for k, v in row.items() if v == v}, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--keep", help="work directory to keep and reuse (its raw/ state is reused)")
    parser.add_argument("--top", type=int, default=20, help="differing cells to show")
    args = parser.parse_args()
    from pipeline import settings_for  # benchmarks/pipeline.py, which imports this module

    from lakehouse.spark import build_spark
    from lakehouse.synth.generate import generate

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="c2c-gold-on-truth-"))
    settings = settings_for(work, "truth")
    spark = build_spark(settings)
    try:
        if not (work / "raw" / TRUTH_METRICS).is_file():
            generate(spark, settings.synth.model_copy(update={"persons": args.persons}), work / "raw")
        if not open_storage(spark, settings).info(SILVER_PERSON_RECORDS).exists:
            print("  silver:", land_and_silver(spark, settings, run_id="truth-silver"), flush=True)
        result = gold_on_truth(spark, settings, run_id=f"truth-{datetime.now(UTC):%H%M%S}")
    finally:
        spark.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    show(result, args.top)
    final = {
        "cells_compared": result["cells_compared"],
        "cells_equal": result["cells_equal"],
        "gold_exact_on_truth": str(result["exact"]).lower(),
        "all_cells_exact_on_truth": str(result["all_cells"]["exact"]).lower(),
        "all_cells_compared": result["all_cells"]["cells_compared"],
        "max_rate_diff_pp": result["max_rate_diff_pp"],
        "max_median_diff_pct": result["max_median_diff_pct"],
        "gold_s": round(result["gold_s"], 3),
    }
    print(" ".join(f"{k}={v}" for k, v in final.items()))


if __name__ == "__main__":
    main()
