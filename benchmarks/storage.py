"""Write and read throughput of the delta-rs engine against Spark's native Parquet, same data, same session.

    .venv/bin/python benchmarks/storage.py [--rows 5000000] [--rounds 3]

The DataFrame is materialized in memory first, so both writers pay only for writing. Rounds alternate
the two writers (this machine is noisy) and the ratio uses the median of each. Reads are full scans of
every column (`format("noop")`). Last line: `write_ratio=<x> read_ratio=<y>` (engine time / native time).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyspark import StorageLevel  # noqa: E402
from pyspark.sql import DataFrame, SparkSession  # noqa: E402

from lakehouse.settings import load_settings  # noqa: E402
from lakehouse.spark import build_spark  # noqa: E402
from lakehouse.storage import open_storage  # noqa: E402
from lakehouse.tables import Table  # noqa: E402


def synthetic_wages(spark: SparkSession, rows: int) -> DataFrame:
    """Rows shaped like quarterly wage records: person token, employer, quarter, wages, county."""
    return spark.range(rows).selectExpr(
        "id",
        "sha2(cast(id % 1500000 as string), 256) as person_token",
        "cast(id % 250000 as int) as employer_id",
        "cast(2015 + id % 8 as int) as year",
        "cast(1 + id % 4 as int) as quarter",
        "round(rand(7) * 30000, 2) as wages",
        "concat('county_', cast(id % 58 as string)) as county",
        "date_add(date'2015-01-01', cast(id % 2900 as int)) as reported_on",
    )


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="c2c-bench-storage-"))
    settings = load_settings(
        "local",
        overrides={
            "storage": {
                "root": str(work / "lake"),
                "restricted_root": str(work / "r"),
                "raw_root": str(work / "raw"),
            },
            "spark": {"conf": {"spark.local.dir": str(work / "tmp")}},
            "paths": {"var": str(work / "var")},
        },
    )
    spark = build_spark(settings)
    storage = open_storage(spark, settings, engine="delta-rs")
    df = synthetic_wages(spark, args.rows).persist(StorageLevel.MEMORY_ONLY)
    df.count()
    print(f"rows={args.rows:,} partitions={df.rdd.getNumPartitions()} engine={storage.engine}")

    native_w, engine_w, native_r, engine_r = [], [], [], []
    try:
        for r in range(args.rounds):
            native_dir = work / f"native-{r}"
            table = Table(layer="gold", name=f"bench_{r}", partition_by=("year",))
            steps = [
                (native_w, lambda: df.write.partitionBy("year").parquet(str(native_dir))),
                (engine_w, lambda: storage.write(df, table, "overwrite")),
            ]
            reads = [
                (
                    native_r,
                    lambda: spark.read.parquet(str(native_dir)).write.format("noop").mode("overwrite").save(),
                ),
                (engine_r, lambda: storage.read(table).write.format("noop").mode("overwrite").save()),
            ]
            order = (lambda pair: pair) if r % 2 == 0 else (lambda pair: pair[::-1])  # cancel warm-up bias
            for samples, fn in order(steps) + order(reads):
                samples.append(timed(fn))
            assert storage.read(table).count() == args.rows
            print(
                f"round {r}: write native={native_w[-1]:.2f}s engine={engine_w[-1]:.2f}s  "
                f"read native={native_r[-1]:.2f}s engine={engine_r[-1]:.2f}s",
                flush=True,
            )
    finally:
        spark.stop()
        shutil.rmtree(work, ignore_errors=True)

    write_ratio = statistics.median(engine_w) / statistics.median(native_w)
    read_ratio = statistics.median(engine_r) / statistics.median(native_r)
    print(
        f"rows_per_s_native_write={args.rows / statistics.median(native_w):,.0f} "
        f"rows_per_s_engine_write={args.rows / statistics.median(engine_w):,.0f}"
    )
    print(f"write_ratio={write_ratio:.3f} read_ratio={read_ratio:.3f}")


if __name__ == "__main__":
    main()
