"""Time per layer of `c2c run` at 10^4 and 10^5 people, and what the quality gates add.

    .venv/bin/python benchmarks/pipeline.py [--small 10000] [--large 100000] [--keep DIR]

For each size, in one Spark session: generate a state (not counted), run the pipeline on an empty
lake (bronze, the raw->bronze gate, silver built and checked, silver written, identity resolved,
results stored). Then, on copies of that run's bronze, `--repeats` times each and in alternating
order: the pipeline's gated silver step (raw->bronze gate, silver built, checked, promoted, results
and Data Docs stored) and the same silver tables built and written with no gate at all. These
machines are noisy and the first pass runs on a cold JVM, so the medians of the repeats, taken in
the same conditions, are what the gates are measured by:

    gate_share = (median silver with gates - median silver without gates)
                 / (bronze + median silver without gates)

i.e. how much longer the pipeline takes because of the gates. Target: at most 0.20. Then gold's
published cells are compared with the generator's true metrics (`_truth/metrics.csv`) on cells whose
true denominator is at least 100: `max_rate_error_pp` (target 1 point), `max_wage_error_pct`
(target 2%), `max_statewide_rate_error_pp` (target 0.5).

Gold's own logic is then proved apart from linkage (benchmarks/gold_on_truth.py): gold is
built a second time, by the same gold step, on a copy of the run's silver with the truth's person ids
as the crosswalk, in a lake of its own (`<work>/truth`), and every published cell is compared with the
true metrics: `gold_exact_on_truth` is true when every one is equal (rates within 1e-9 points of the
truth's numerator / denominator, medians within 1e-9 %, counts identical). Last, once the benchmark's
Spark session is stopped (benchmarks/outcome_ceiling.py starts its own), `worst_over_ceiling_pp`: over
the same cells as `max_rate_error_pp`, the largest amount by which the run's rate error exceeds the
error of outcome_ceiling's oracle (a perfect linkage of every wage record some rule could place),
i.e. how far linkage is from the best any linkage could do, at its worst cell.

Last line: `name=value` pairs, e.g. `bronze_s_1e5=... gate_share=... max_rate_error_pp=...
max_wage_error_pct=... end_to_end_s=... gold_exact_on_truth=true worst_over_ceiling_pp=...`
(unsuffixed values are the 10^5 ones; `--large 0` runs the small size only, its values suffixed).
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from functools import reduce
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gold_on_truth import gold_on_truth, show  # noqa: E402

from jobs import bronze_job, pipeline, silver_job  # noqa: E402
from jobs.layer import context  # noqa: E402
from lakehouse.gold.accuracy import cell_errors, compare_to_truth, read_true_metrics  # noqa: E402
from lakehouse.settings import Settings, load_settings  # noqa: E402
from lakehouse.silver.codes import load_code_maps  # noqa: E402
from lakehouse.silver.events import keyed_record_key  # noqa: E402
from lakehouse.silver.person_records import build_person_records, family_identities  # noqa: E402
from lakehouse.silver.tokens import pii_key  # noqa: E402
from lakehouse.spark import build_spark  # noqa: E402
from lakehouse.storage import open_storage  # noqa: E402
from lakehouse.synth.generate import generate  # noqa: E402
from lakehouse.synth.records import TRUTH_FILE  # noqa: E402
from lakehouse.tables import BRONZE, GOLD_PUBLISHED_CELLS, SILVER_PERSON_RECORDS  # noqa: E402
from quality.gx_runner import GxValidator  # noqa: E402
from quality.store import write_results  # noqa: E402


def settings_for(work: Path, lake: str) -> Settings:
    return load_settings(
        "local",
        overrides={
            "spark": {"conf": {"spark.local.dir": str(work / "tmp")}},
            "storage": {
                "root": str(work / lake / "lake"),
                "restricted_root": str(work / lake / "restricted"),
                "raw_root": str(work / "raw"),
            },
            "paths": {"var": str(work / lake / "var")},
            "pii": {"dev_key_file": str(work / "pii.key")},
        },
    )


def keyed_truth(work: Path) -> Path:
    """The state's `person_truth.csv` with EDD keys spelled as silver spells them (the SSN's token in
    place of the SSN), for scripts that join the truth in DuckDB: `<work>/person_truth_keyed.csv`."""
    key = pii_key(settings_for(work, "gated"))
    out = work / "person_truth_keyed.csv"
    with (work / "raw" / TRUTH_FILE).open(newline="") as src, out.open("w", newline="") as dst:
        rows = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=rows.fieldnames)
        writer.writeheader()
        for r in rows:
            writer.writerow(
                {**r, "source_record_key": keyed_record_key(r["source"], r["source_record_key"], key)}
            )
    return out


def copy_bronze(gated: Settings, lake: Settings) -> None:
    """A fresh lake holding only the gated lake's bronze tables (and their restricted half)."""
    for source, target in (
        (gated.storage.root, lake.storage.root),
        (gated.storage.restricted_root, lake.storage.restricted_root),
    ):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(Path(source) / "bronze", Path(target) / "bronze")


def silver_with_gates(spark, lake: Settings, *, load_id: str) -> float:
    """The pipeline's own raw->bronze gate and silver step on `lake` (a copy of the gated run's bronze),
    with their results and Data Docs stored, as `c2c run` does."""
    started = time.perf_counter()
    validator = GxValidator(lake.var_dir / "quality" / "docs")
    run_id = f"repeat-{datetime.now(UTC):%H%M%S%f}"
    ctx = replace(context(spark, lake, run_id=run_id), validator=validator)
    checks, blocked = bronze_job.gate_and_promote(ctx, load_id)
    silver = silver_job.run(ctx) if blocked is None else None
    results = [*checks, *(silver.checks if silver else ())]
    write_results(spark, ctx.storage, results, run_id=run_id, checked_at=datetime.now(UTC))
    validator.build_docs()
    for gate in (blocked, silver.blocked if silver else None):
        if gate is not None:
            raise gate
    return time.perf_counter() - started


def silver_without_gates(spark, gated: Settings, ungated: Settings) -> float:
    """Build every silver table from the gated lake's bronze and write it to another lake, unchecked."""
    started = time.perf_counter()
    source, target = open_storage(spark, gated), open_storage(spark, ungated)
    key, codes = pii_key(gated), load_code_maps(gated.conf_dir)
    bronze = {f: source.read(t) for f, t in BRONZE.items() if source.info(t).exists}
    identities = [family_identities(f, df, key=key) for f, df in bronze.items() if f != "EMPLOYERS"]
    records = build_person_records(reduce(lambda a, b: a.unionByName(b), identities), key=key)
    target.write(records, SILVER_PERSON_RECORDS, "overwrite", run_id="baseline", step="silver")
    for table, build in silver_job.EVENT_TABLES:
        events = build(bronze, codes=codes, key=key)
        if events is not None:
            target.write(events, table, "overwrite", run_id="baseline", step=f"silver/{table.name}")
    return time.perf_counter() - started


def gold_accuracy(spark, settings: Settings, truth: Path) -> dict:
    """Published (unsuppressed) cells against the generator's true metrics, on cells whose true
    denominator is at least 100 (targets: within 1 point for rates, 2% for median wages)."""
    published = open_storage(spark, settings).read(GOLD_PUBLISHED_CELLS).toPandas()
    result = compare_to_truth(published, read_true_metrics(truth), min_denominator=100)
    for row in result["worst"][:5]:
        print("  worst cell:", {k: v for k, v in row.items() if v == v}, flush=True)
    return result


def measure(spark, work: Path, persons: int, repeats: int) -> dict[str, float]:
    gated, ungated = settings_for(work, "gated"), settings_for(work, "ungated")
    generate(spark, gated.synth.model_copy(update={"persons": persons}), work / "raw")
    run_id = f"bench-{datetime.now(UTC):%H%M%S}"
    started = time.perf_counter()
    report = pipeline.run(spark, gated, run_id=run_id, generate_if_empty=False)
    end_to_end = time.perf_counter() - started
    t = report["timings_s"]
    accuracy = gold_accuracy(spark, gated, work / "raw" / "_truth" / "metrics.csv")
    on_truth = gold_on_truth(spark, settings_for(work, "truth"), run_id=f"{run_id}-truth", silver_from=gated)
    show(on_truth)
    silver_gated = t["gate_bronze"] + t["silver_build_and_gate"] + t["silver_write"] + t["quality_store"]
    # Wall time of the tables' finishing checks (GX suites and unknown codes, run at once).
    finishing = report["silver"]["silver.person_records"]["timings_s"]["finishing_checks_of_all_tables"]
    with_gates, without = [], []
    for i in range(repeats):
        lake = settings_for(work, f"repeat-{i}")
        copy_bronze(gated, lake)
        runs = [
            lambda: with_gates.append(silver_with_gates(spark, lake, load_id=report["bronze"]["load_id"])),
            lambda: without.append(silver_without_gates(spark, gated, ungated)),
        ]
        for step in runs if i % 2 == 0 else reversed(runs):
            step()
        shutil.rmtree(work / f"repeat-{i}", ignore_errors=True)
        shutil.rmtree(work / "ungated", ignore_errors=True)
    gated_s, baseline = median(with_gates), median(without)
    print(f"  silver with gates {with_gates}, without {without}", flush=True)
    rows = sum(v["rows_built"] for v in report["silver"].values())
    out = {
        "bronze_s": t["bronze"],
        "silver_s": silver_gated,
        "silver_gated_median_s": gated_s,
        "silver_ungated_median_s": baseline,
        "finishing_checks_s": finishing,
        "identity_s": t.get("identity", 0.0),
        "gold_s": t.get("gold", 0.0),
        "end_to_end_s": end_to_end,
        "max_rate_error_pp": accuracy["max_rate_error_pp"],
        "max_wage_error_pct": accuracy["max_wage_error_pct"],
        "max_statewide_rate_error_pp": accuracy["max_statewide_rate_error_pp"],
        "cells_compared": accuracy["cells_compared"],
        "gold_exact_on_truth": on_truth["exact"],
        "cells_on_truth": on_truth["cells_compared"],
        "cells_equal_on_truth": on_truth["cells_equal"],
        "silver_rows": rows,
        "gate_share": (gated_s - baseline) / (t["bronze"] + baseline),
    }
    print(f"persons={persons:,} {pairs_line(out)}", flush=True)
    return out


def worst_over_ceiling(work: Path) -> float | None:
    """`worst_over_ceiling_pp` of a size's work directory: on the cells `max_rate_error_pp` compares,
    the largest (run's rate error - the ceiling oracle's rate error), in points.

    The oracle is benchmarks/outcome_ceiling.py's, from its own functions: it needs that size's lake
    as the run left it (silver.person_records and the events the linkage input reads, the model
    registry, gold.published_cells), its raw/_truth files and the PII key, all under `work`. It
    starts and stops Spark sessions of its own, so it runs after the benchmark's session is stopped
    and before the work directory is removed."""
    import duckdb
    from outcome_ceiling import ambiguous_wage_records, load, oracle_cells

    con = duckdb.connect()
    load(con, work)
    ambiguous_wage_records(con, keyed_truth(work))
    wageless = {t for (t,) in con.execute("SELECT t FROM wageless").fetchall()}
    settings = settings_for(work, "gated")
    spark = build_spark(settings)
    try:
        published = open_storage(spark, settings).read(GOLD_PUBLISHED_CELLS).toPandas()
        oracle = oracle_cells(spark, work / "raw", wageless)
    finally:
        spark.stop()
    truth = read_true_metrics(work / "raw" / "_truth" / "metrics.csv")
    keys = ["metric", "cohort_year", "dimension", "group"]
    ours = cell_errors(published, truth)
    best = cell_errors(oracle, truth)
    both = ours[ours["kind"] == "rate"].merge(best[[*keys, "error_pp"]], on=keys, suffixes=("", "_ceiling"))
    if both.empty:
        return None
    both["over_pp"] = both["error_pp"] - both["error_pp_ceiling"]
    for row in both.nlargest(3, "over_pp")[
        [*keys, "denominator_true", "error_pp", "error_pp_ceiling"]
    ].to_dict(orient="records"):
        print("  over the ceiling:", row, flush=True)
    return float(both["over_pp"].max())


def pairs_line(values: dict) -> str:
    """`name=value` pairs; a value that could not be measured (no cell large enough) is `nan`, a
    yes/no one `true` or `false`."""
    return " ".join(
        f"{k}={str(v).lower()}" if isinstance(v, bool) else f"{k}={float('nan') if v is None else v:.3f}"
        for k, v in values.items()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3, help="gated and ungated silver, each")
    parser.add_argument("--keep", help="work directory to keep (default: a temporary one, removed)")
    args = parser.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="c2c-bench-pipeline-"))
    spark = build_spark(settings_for(root, "warmup"))
    results = {}
    sizes = [args.small, args.large] if args.large else [args.small]
    try:
        try:
            for n in sizes:
                work = root / f"state-{n}"
                shutil.rmtree(work, ignore_errors=True)
                results[n] = measure(spark, work, n, args.repeats)
        finally:
            spark.stop()
        for n in sizes:
            results[n]["worst_over_ceiling_pp"] = worst_over_ceiling(root / f"state-{n}")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    small = results[args.small]
    on_truth = {
        "gold_exact_on_truth_1e4": small["gold_exact_on_truth"],
        "worst_over_ceiling_pp_1e4": small["worst_over_ceiling_pp"],
    }
    if not args.large:
        print(pairs_line({f"{k}_1e4": v for k, v in small.items() if not k.endswith("_1e4")} | on_truth))
        return
    large = results[args.large]
    pairs = {
        "bronze_s_1e4": small["bronze_s"],
        "silver_s_1e4": small["silver_s"],
        "bronze_s_1e5": large["bronze_s"],
        "silver_s_1e5": large["silver_s"],
        "silver_gated_median_s_1e5": large["silver_gated_median_s"],
        "silver_ungated_median_s_1e5": large["silver_ungated_median_s"],
        "identity_s_1e4": small["identity_s"],
        "identity_s_1e5": large["identity_s"],
        "gold_s_1e4": small["gold_s"],
        "gold_s_1e5": large["gold_s"],
        "end_to_end_s_1e4": small["end_to_end_s"],
        "end_to_end_s": large["end_to_end_s"],
        "cost_ratio_1e5_vs_1e4": (large["bronze_s"] + large["silver_s"])
        / (small["bronze_s"] + small["silver_s"]),
        "gate_share_1e4": small["gate_share"],
        "gate_share": large["gate_share"],
        "max_statewide_rate_error_pp": large["max_statewide_rate_error_pp"],
        "max_rate_error_pp_1e4": small["max_rate_error_pp"],
        "max_rate_error_pp": large["max_rate_error_pp"],
        "max_wage_error_pct": large["max_wage_error_pct"],
        **on_truth,
        "gold_exact_on_truth": large["gold_exact_on_truth"],
        "worst_over_ceiling_pp": large["worst_over_ceiling_pp"],
    }
    print(pairs_line(pairs))


if __name__ == "__main__":
    main()
