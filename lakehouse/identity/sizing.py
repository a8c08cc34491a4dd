"""How big identity's DuckDB work may get on one machine: DuckDB's memory beside the Spark driver's
heap, and how many chunks scoring is split into (lakehouse/identity/link.py)."""

from __future__ import annotations

import math
import os
from typing import Any

# Records a side of one scoring chunk (`predict_chunks`): 10^5 people are about 700,000 records.
PREDICT_CHUNK_RECORDS = 1_000_000


def duckdb_memory_limit(driver_memory: str, physical: int | None = None) -> float:
    """GB for DuckDB beside a Spark driver of heap `driver_memory` ("8g") on a machine of `physical`
    bytes (default: this one's). DuckDB's own default, 80% of the machine, ignores the JVM in the same
    process, whose heap stays resident once grown: together they would ask for more than there is, and
    the kernel kills the run instead of DuckDB spilling. What the heap leaves is shared with the Arrow
    copy of the linkage input and the Python process, so DuckDB takes 60% of it, at least 1 GB."""
    physical = physical or os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    heap = _bytes(driver_memory)
    return round(max(1.0, 0.6 * (physical - heap) / 2**30), 1)


def duckdb_scratch(spark: Any) -> dict[str, str]:
    """DuckDB's config for where it spills: a folder of its own under Spark's first local dir, the
    run's scratch space that `c2c vacuum` knows (DuckDB's default is `.tmp` in whatever folder the
    job was started from). Empty (DuckDB's default) when Spark has no local dir of a path."""
    local = spark.conf.get("spark.local.dir", None) or ""
    first = local.split(",")[0].strip()
    if not first or "://" in first:
        return {}
    return {"temp_directory": os.path.join(os.path.abspath(first), f"duckdb-{os.getpid()}")}


def _bytes(size: str) -> int:
    """A JVM size ("8g", "512m", "1024k", "2t" or bytes) in bytes."""
    size = size.strip().lower().removesuffix("b")
    scale = {"k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}.get(size[-1:], 1)
    return int(float(size.rstrip("kmgt")) * scale)


def predict_chunks(records: int, per_chunk: int = PREDICT_CHUNK_RECORDS) -> int:
    """Chunks a side for scoring `records` records. Candidate pairs within a block grow with the square
    of the records that share it: a state ten times larger has about ten times the people per birth
    date or name and a hundred times their pairs. Scoring all of them at once materializes every pair's
    comparison columns before the review floor discards most of them (at 6.8 million records, more
    than 44 GB of DuckDB scratch space). With the records split into k hashed chunks a side, each of
    the k x k parts holds about 1/k^2 of the pairs; k growing with the records keeps a part about the
    size of one `per_chunk`-record run's, and runs of fewer records are not split at all."""
    return max(1, math.ceil(records / per_chunk))
