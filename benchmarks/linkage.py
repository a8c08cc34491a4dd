"""Identity resolution on every generator profile at 10^4 and 10^5 people: its quality and time
against an untuned Splink baseline on the same records.

    .venv/bin/python benchmarks/linkage.py [--sizes 10000 100000] [--profiles default dirty mobile]
                                           [--keep DIR]

For each profile (`lakehouse/synth/profiles.py`) and size, in one Spark session: generate a state (not
timed) and run `c2c run` on an empty lake (bronze, silver, then the identity step, which trains its
model since the new deployment has no champion). The platform's crosswalk is scored against
`_truth/person_truth.csv` with `lakehouse/identity/evaluate.py` (pairwise and B-cubed F1).

Then, on the same silver person records read back from the lake, an untuned Splink 5 baseline on
DuckDB: Splink's library comparisons (NameComparison for first and last name, DateOfBirthComparison,
ExactMatch for gender, ZIP and SSN token), blocking on name, birth date or SSN token, the standard
training recipe (prior from deterministic rules, u from random pairs, m by EM on two blocking rules),
predict, connected components at 0.95. It is scored with the same functions.

Times cover the same span on both sides: from the silver records in the lake to clusters, training
included. Ours is the identity step's own phases (to_duckdb, which reads silver and computes the
features, train, predict, cluster with the guards); the whole step, which also assigns stable ids,
writes the identity tables, scores itself against the truth and registers the model in MLflow, is
printed per state as `identity_step_s`. Last line: `min_f1=<lowest of ours> min_margin=<lowest of ours
minus the baseline's F1> time_ratio=<ours / baseline, default profile, largest size>`, then F1,
B-cubed F1 and times per profile and size (`f1_dirty_1e4=...`).
"""

from __future__ import annotations

import argparse
import logging
import math
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyspark.sql import DataFrame, SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

from jobs import pipeline  # noqa: E402
from lakehouse.identity.evaluate import evaluation_report, read_truth  # noqa: E402
from lakehouse.settings import Settings, load_settings  # noqa: E402
from lakehouse.spark import build_spark  # noqa: E402
from lakehouse.storage import open_storage  # noqa: E402
from lakehouse.synth.generate import generate  # noqa: E402
from lakehouse.synth.profiles import PROFILES, with_profile  # noqa: E402
from lakehouse.tables import IDENTITY_CROSSWALK, SILVER_PERSON_RECORDS  # noqa: E402

# The identity step's phases that take silver records to clusters (Resolution.seconds): to_duckdb
# on the duckdb backend, stage on the spark one.
LINKAGE_PHASES = ("to_duckdb", "stage", "train", "predict", "cluster")
BASELINE_THRESHOLD = 0.95


def settings_for(work: Path) -> Settings:
    return _lake_settings(work, var=work / "var", key=work / "pii.key")


def workdir_settings(work: Path) -> Settings:
    """Settings of a lake a `c2c run` left in `work` (its `var/`)."""
    var = work / "var"
    return _lake_settings(var, var=var, key=var / "secrets" / "pii_dev.key")


def _lake_settings(roots: Path, *, var: Path, key: Path) -> Settings:
    """Local settings whose scratch, lake, restricted zone and raw root are folders of `roots`."""
    return load_settings(
        "local",
        overrides={
            "spark": {"conf": {"spark.local.dir": str(roots / "tmp")}},
            "storage": {
                "root": str(roots / "lake"),
                "restricted_root": str(roots / "restricted"),
                "raw_root": str(roots / "raw"),
            },
            "paths": {"var": str(var)},
            "pii": {"dev_key_file": str(key)},
        },
    )


def baseline_settings():
    """Splink out of the box: library comparisons with their default levels, simple blocking."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_token",
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("last_name"),
            cl.DateOfBirthComparison("birth_date", input_is_string=True, datetime_format="%Y-%m-%d"),
            cl.ExactMatch("gender"),
            cl.ExactMatch("zip"),
            cl.ExactMatch("ssn_token"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "last_name"),
            block_on("birth_date"),
            block_on("ssn_token"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def run_baseline(records: DataFrame, *, max_pairs: float) -> tuple[object, float]:
    """Link `records` (silver person records) with the untuned baseline; returns the clusters as an
    Arrow table [record_token, cluster_id] and the seconds from reading the records to clusters."""
    import duckdb
    from splink import DuckDBAPI, Linker, block_on

    started = time.perf_counter()
    arrow = records.select(
        "record_token",
        "first_name",
        "last_name",
        F.date_format("birth_date", "yyyy-MM-dd").alias("birth_date"),
        "gender",
        "zip",
        "ssn_token",
    ).toArrow()
    con = duckdb.connect()
    con.register("records_arrow", arrow)
    con.execute("CREATE TABLE records AS SELECT * FROM records_arrow")
    db_api = DuckDBAPI(con)
    linker = Linker(
        db_api.register("records", dataset_display_name="records"),
        baseline_settings(),
        log_level=logging.WARNING,
    )
    training = linker.training
    training.estimate_probability_two_random_records_match(
        [block_on("first_name", "last_name", "birth_date"), block_on("ssn_token", "birth_date")],
        recall=0.7,
    )
    training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=1)
    training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "last_name"))
    training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
    predictions = linker.inference.predict(threshold_match_probability=BASELINE_THRESHOLD)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=BASELINE_THRESHOLD
    )
    table = con.sql(f"SELECT record_token, cluster_id FROM {clusters.physical_name}").to_arrow_table()
    seconds = time.perf_counter() - started
    con.close()
    return table, seconds


def scores(crosswalk: DataFrame, truth: DataFrame) -> dict[str, float]:
    """Pairwise precision, recall, F1 and B-cubed F1 of a crosswalk against the truth."""
    evaluation = evaluation_report(crosswalk, truth)
    pw, bc = evaluation["pairwise"], evaluation["bcubed"]
    return {"precision": pw["precision"], "recall": pw["recall"], "f1": pw["f1"], "bcubed_f1": bc["f1"]}


def measure(spark: SparkSession, work: Path, persons: int, *, profile: str) -> dict[str, float]:
    settings = settings_for(work)
    generate(
        spark, with_profile(settings.synth, profile).model_copy(update={"persons": persons}), work / "raw"
    )
    report = pipeline.run(
        spark, settings, run_id=f"bench-{datetime.now(UTC):%H%M%S}", generate_if_empty=False
    )
    identity = report["identity"]
    if not isinstance(identity, dict):
        raise RuntimeError(f"the identity step did not run: {identity}")
    storage = open_storage(spark, settings)
    truth = read_truth(spark, settings)
    if truth is None:
        raise RuntimeError(f"no truth under {settings.storage.raw_root}: the generated state lacks _truth/")
    ours = scores(storage.read(IDENTITY_CROSSWALK), truth)

    records = storage.read(SILVER_PERSON_RECORDS)
    clusters, baseline_s = run_baseline(records, max_pairs=settings.identity.train_max_pairs)
    baseline_crosswalk = records.select("source", "source_record_key", "record_token").join(
        spark.createDataFrame(clusters.to_pandas(), "record_token STRING, cluster_id STRING"),
        "record_token",
        "left",
    )
    baseline = scores(baseline_crosswalk.withColumnRenamed("cluster_id", "person_id"), truth)

    linkage_s = sum(identity["timings_s"].get(phase, 0.0) for phase in LINKAGE_PHASES)
    out = {
        "records": float(identity["records"]),
        "identity_step_s": report["timings_s"]["identity"],
        "linkage_s": linkage_s,
        "baseline_s": baseline_s,
        "time_ratio": linkage_s / baseline_s,
        "precision": ours["precision"],
        "recall": ours["recall"],
        "f1": ours["f1"],
        "bcubed_f1": ours["bcubed_f1"],
        "baseline_precision": baseline["precision"],
        "baseline_recall": baseline["recall"],
        "baseline_f1": baseline["f1"],
        "baseline_bcubed_f1": baseline["bcubed_f1"],
    }
    print(f"persons={persons:,} " + " ".join(f"{k}={_fmt(k, v)}" for k, v in out.items()), flush=True)
    return out


def _fmt(name: str, value: float) -> str:
    if name == "records":
        return f"{value:.0f}"
    seconds = name.endswith("_s") or "_s_" in name
    return f"{value:.3f}" if seconds else f"{value:.4f}"


def _suffix(persons: int) -> str:
    """10000 -> '1e4'; a size that is not a power of ten keeps its digits."""
    exponent = round(math.log10(persons))
    return f"1e{exponent}" if 10**exponent == persons else str(persons)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--profiles", nargs="+", default=list(PROFILES), choices=list(PROFILES))
    parser.add_argument("--keep", help="work directory to keep (default: a temporary one, removed)")
    args = parser.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="c2c-bench-linkage-"))
    spark = build_spark(settings_for(root / "session"))
    results: dict[tuple[str, int], dict[str, float]] = {}
    try:
        for profile in args.profiles:
            for n in args.sizes:
                work = root / f"{profile}-{n}"
                shutil.rmtree(work, ignore_errors=True)
                print(f"profile={profile}", end=" ", flush=True)
                results[profile, n] = measure(spark, work, n, profile=profile)
    finally:
        spark.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    reference = results.get(("default", max(args.sizes))) or results[args.profiles[0], max(args.sizes)]
    pairs = {
        "min_f1": min(r["f1"] for r in results.values()),
        "min_margin": min(r["f1"] - r["baseline_f1"] for r in results.values()),
        "time_ratio": reference["time_ratio"],
    }
    for (profile, n), r in sorted(results.items()):
        s = f"{profile}_{_suffix(n)}"
        for key in ("f1", "bcubed_f1", "baseline_f1", "baseline_bcubed_f1", "linkage_s", "baseline_s"):
            pairs[f"{key}_{s}"] = r[key]
    print(" ".join(f"{k}={_fmt(k, v)}" for k, v in pairs.items()))


if __name__ == "__main__":
    main()
