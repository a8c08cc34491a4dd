"""A writer in a process of its own, for tests that race or kill writers.

    python writer_process.py ROOT TABLE_NAME MODE [--kill before-commit|during-write] [--rows N] [--batches K]
                             [--engine delta-rs|delta-spark]

Appends (or overwrites) K batches of N rows with ids offset by the process id. With --kill, the
process SIGKILLs itself at that point of its first write: after Spark wrote every file but before the
commit, or as soon as the first data file appears on disk.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for conftest.make_settings

from conftest import make_settings  # noqa: E402

from lakehouse.spark import build_spark  # noqa: E402
from lakehouse.storage import open_storage  # noqa: E402
from lakehouse.tables import Table  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("table")
    parser.add_argument("mode", choices=["append", "overwrite"])
    parser.add_argument("--kill", choices=["before-commit", "during-write"])
    parser.add_argument("--engine", choices=["delta-rs", "delta-spark"], default="delta-rs")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=1)
    parser.add_argument("--offset", type=int, default=0)
    args = parser.parse_args()

    settings = make_settings(Path(args.root), engine=args.engine)
    spark = build_spark(settings)
    storage = open_storage(spark, settings)
    table = Table(layer="gold", name=args.table, partition_by=("year",))
    table_path = Path(storage.path(table))

    if args.kill == "before-commit":
        type(storage)._commit = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
    elif args.kill == "during-write":
        known = {p for p in table_path.rglob("*.parquet")}

        def watch() -> None:
            while True:
                if any(p not in known for p in table_path.rglob("*.parquet")):
                    os.kill(os.getpid(), signal.SIGKILL)
                time.sleep(0.005)

        threading.Thread(target=watch, daemon=True).start()

    for batch in range(args.batches):
        start = args.offset + batch * args.rows
        df = spark.range(start, start + args.rows).selectExpr(
            "id", "cast(2020 + id % 4 as int) as year", "concat('p', id) as name"
        )
        storage.write(df.repartition(4), table, args.mode)
        print(f"wrote batch {batch}", flush=True)


if __name__ == "__main__":
    main()
