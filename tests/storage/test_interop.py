"""Tables written through Spark open with `deltalake` alone, in a process without Spark or a JVM."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal

READER = """
import json, sys
from deltalake import DeltaTable
table = DeltaTable(sys.argv[1]).to_pyarrow_dataset().to_table()
rows = [{k: (str(v) if v is not None else None) for k, v in r.items()} for r in table.to_pylist()]
print(json.dumps({"version": DeltaTable(sys.argv[1]).version(), "columns": table.column_names,
                  "rows": sorted(rows, key=lambda r: r["id"])}))
"""

SCHEMA = (
    "id LONG, name STRING, county STRING, born DATE, seen_at TIMESTAMP, wage DECIMAL(12,2), "
    "active BOOLEAN, units DOUBLE, grade INT"
)
ROWS = [
    (
        1,
        "Ana",
        "Los Angeles",
        dt.date(2001, 2, 3),
        dt.datetime(2024, 1, 2, 3, 4, 5),
        Decimal("1234.50"),
        True,
        12.5,
        9,
    ),
    (2, "José", "a/b:c=d%", dt.date(1999, 12, 31), None, None, False, None, 12),
    (3, None, None, None, dt.datetime(2020, 6, 30, 23, 59, 59), Decimal("0.01"), None, 0.0, None),
]


def test_deltalake_alone_reads_what_spark_wrote(spark, storage, new_table):
    t = new_table(partition_by=("county",))
    storage.write(spark.createDataFrame(ROWS[:2], SCHEMA), t)
    storage.write(spark.createDataFrame(ROWS[2:], SCHEMA), t)
    out = subprocess.run(
        [sys.executable, "-c", READER, storage.path(t)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)

    spark_rows = [
        {k: (None if v is None else _as_text(v)) for k, v in r.asDict().items()}
        for r in storage.read(t).orderBy("id").collect()
    ]
    assert seen["version"] == 1
    assert sorted(seen["columns"]) == sorted(storage.read(t).columns)
    assert [{k: r[k] for k in sorted(r)} for r in seen["rows"]] == [
        {k: r[k] for k in sorted(r)} for r in spark_rows
    ]


def _as_text(value) -> str:
    if isinstance(value, dt.datetime):  # Spark gives naive UTC; pyarrow gives aware UTC
        return str(value.replace(tzinfo=dt.UTC))
    return str(value)
