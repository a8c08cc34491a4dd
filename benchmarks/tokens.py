"""What keeping the PII key out of query plans costs: the keyed-hash UDF against an HMAC composed from
Spark expressions, which puts the key's pads in every plan as literals; same rows, same Spark session.

    .venv/bin/python benchmarks/tokens.py [--rows 5000000] [--repeats 3]

Each variant hashes `--rows` distinct messages shaped like EDD record keys and writes the result to
Spark's `noop` sink, alternating, `--repeats` times; medians are compared. Last line:
`rows=<n> expression_s=<x> udf_s=<y> udf_ratio=<y/x>`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyspark.sql import functions as F  # noqa: E402

from lakehouse.settings import load_settings  # noqa: E402
from lakehouse.silver.tokens import hmac_sha256  # noqa: E402
from lakehouse.spark import build_spark  # noqa: E402

KEY = b"0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"


def expression_hmac(message, key: bytes):
    """HMAC-SHA256 from Spark expressions, the baseline of the comparison. Never use it on real data: the
    key's pads are plan literals, so every plan, log and UI page that shows the plan shows them."""
    block = key.ljust(64, b"\0")
    ipad, opad = bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)
    inner = F.unhex(F.sha2(F.concat(F.lit(ipad), F.encode(message, "UTF-8")), 256))
    return F.sha2(F.concat(F.lit(opad), inner), 256)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    spark = build_spark(load_settings("local", overrides={"spark": {"conf": {"spark.ui.enabled": "false"}}}))
    messages = (
        spark.range(args.rows)
        .select(F.format_string("edd:%08d-%09d", F.col("id") % 99_991, F.col("id")).alias("m"))
        .cache()
    )
    messages.count()
    variants = {"expression": expression_hmac, "udf": hmac_sha256}
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, fn in variants.items():
            started = time.perf_counter()
            messages.select(fn(F.col("m"), KEY).alias("t")).write.format("noop").mode("overwrite").save()
            seconds[name].append(time.perf_counter() - started)
    expression, udf = median(seconds["expression"]), median(seconds["udf"])
    print({k: [round(s, 2) for s in v] for k, v in seconds.items()})
    print(f"rows={args.rows} expression_s={expression:.2f} udf_s={udf:.2f} udf_ratio={udf / expression:.2f}")


if __name__ == "__main__":
    main()
