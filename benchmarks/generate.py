"""People simulated and written per minute by `c2c generate`, at 10^4 and 10^5 people, same session.

    .venv/bin/python benchmarks/generate.py [--small 10000] [--large 100000]

Both sizes run in one Spark session (the session start is not counted). The ratio of the two rates
shows how cost grows: near 1 means linear. Last line:
`persons_per_min_1e4=<x> persons_per_min_1e5=<y>` (plus the ratio).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lakehouse.settings import load_settings  # noqa: E402
from lakehouse.spark import build_spark  # noqa: E402
from lakehouse.synth.generate import generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="c2c-bench-generate-"))
    settings = load_settings("local", overrides={"spark": {"conf": {"spark.local.dir": str(work / "tmp")}}})
    spark = build_spark(settings)
    rates = {}
    try:
        generate(spark, settings.synth.model_copy(update={"persons": 500}), work / "warmup")
        for n in (args.small, args.large):
            started = time.perf_counter()
            result = generate(spark, settings.synth.model_copy(update={"persons": n}), work / f"state-{n}")
            seconds = time.perf_counter() - started
            rates[n] = n / seconds * 60
            size = sum(p.stat().st_size for p in (work / f"state-{n}").rglob("*") if p.is_file())
            print(
                f"persons={n:,} seconds={seconds:.1f} lines={result.lines:,} bytes={size:,} "
                f"persons_per_min={rates[n]:,.0f}",
                flush=True,
            )
    finally:
        spark.stop()
        shutil.rmtree(work, ignore_errors=True)
    small, large = rates[args.small], rates[args.large]
    ratio = large / small
    print(f"persons_per_min_1e4={small:.0f} persons_per_min_1e5={large:.0f} ratio_1e5_vs_1e4={ratio:.2f}")


if __name__ == "__main__":
    main()
