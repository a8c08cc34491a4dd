"""Where check results go: `ops.quality_results` (one row per check per run) and Data Docs."""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import SparkSession

from lakehouse.storage import Storage
from lakehouse.tables import OPS_QUALITY_RESULTS
from quality.results import CheckResult


def write_results(
    spark: SparkSession, storage: Storage, results: list[CheckResult], *, run_id: str, checked_at: datetime
) -> int:
    """Append this run's results (a re-run of the same run id commits nothing new); returns the count."""
    if not results:
        return 0
    rows = [r.row(run_id, checked_at) for r in results]
    df = spark.createDataFrame(rows, OPS_QUALITY_RESULTS.schema)
    storage.write(df, OPS_QUALITY_RESULTS, "append", run_id=run_id, step="quality/results")
    return len(rows)
