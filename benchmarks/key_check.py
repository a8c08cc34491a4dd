"""What checking a table's keys costs before a commit: `Storage.check_keys` (grouping by a 64-bit hash
of the keys, then by the keys only where a hash repeats) against grouping by the keys themselves, on
rows keyed as `identity.linkage_pairs` is (two 64-character record tokens); same rows, same session.

    .venv/bin/python benchmarks/key_check.py [--rows 5000000] [--repeats 3]

`--rows` distinct pairs of SHA-256 hex tokens are written to Parquet once (a temporary folder) and read
back for each check, as the delta-rs engine checks the files it staged; the two checks alternate,
`--repeats` times, and medians are compared. Both must find the keys unique. Last line:
`rows=<n> by_keys_s=<x> hashed_s=<y> hashed_ratio=<y/x>`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyspark.sql import DataFrame  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

from lakehouse.settings import load_settings  # noqa: E402
from lakehouse.spark import build_spark  # noqa: E402
from lakehouse.storage import open_storage  # noqa: E402
from lakehouse.tables import IDENTITY_PAIRS  # noqa: E402

KEYS = list(IDENTITY_PAIRS.keys)


def by_keys(df: DataFrame) -> int:
    """The baseline: one aggregation grouped by the keys themselves; the number of offending keys."""
    null_key = F.lit(False)
    for k in KEYS:
        null_key = null_key | F.col(k).isNull()
    return (
        df.groupBy(*KEYS)
        .agg(F.count(F.lit(1)).alias("_n"), F.max(null_key).alias("_null"))
        .filter("_n > 1 OR _null")
        .limit(5)
        .count()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings("local", overrides={"spark": {"conf": {"spark.ui.enabled": "false"}}})
    spark = build_spark(settings)
    storage = open_storage(spark, settings)
    folder = Path(tempfile.mkdtemp(prefix="c2c-bench-keys-"))
    try:
        (
            spark.range(args.rows)
            .select(
                F.sha2(F.format_string("l:%d", F.col("id")), 256).alias("record_token_l"),
                F.sha2(F.format_string("r:%d", F.col("id") % 99_991), 256).alias("record_token_r"),
            )
            .write.parquet(str(folder / "pairs"))
        )
        pairs = spark.read.parquet(str(folder / "pairs"))
        seconds: dict[str, list[float]] = {"by_keys": [], "hashed": []}
        for _ in range(args.repeats):
            started = time.perf_counter()
            assert by_keys(pairs) == 0
            seconds["by_keys"].append(time.perf_counter() - started)
            started = time.perf_counter()
            storage.check_keys(pairs, IDENTITY_PAIRS)  # raises on a repeated or null key
            seconds["hashed"].append(time.perf_counter() - started)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    base, hashed = median(seconds["by_keys"]), median(seconds["hashed"])
    print({k: [round(s, 2) for s in v] for k, v in seconds.items()})
    print(f"rows={args.rows} by_keys_s={base:.2f} hashed_s={hashed:.2f} hashed_ratio={hashed / base:.2f}")


if __name__ == "__main__":
    main()
