"""One SQL for both identity backends: the steps after scoring (pair guards, the decision, the
cluster guards, the joins of lakehouse/identity/attach.py and joins.py) are written once, in DuckDB's dialect,
and run either on an in-process DuckDB connection or on Spark, where each statement is translated by
sqlglot (`spark_backend.to_spark_sql`) and each table is a temporary view of a checkpointed
DataFrame, so nothing per record comes to the driver.

The SQL keeps to what both engines share: every table is (re)made by one SELECT
(`create`), never changed in place (no UPDATE, DELETE or INSERT), and only small results
(counts, a threshold) are read back (`rows`, `one`).
"""

from __future__ import annotations

from typing import Any, Protocol


class Engine(Protocol):
    name: str

    def create(self, table: str, sql: str) -> None:
        """Make (or replace) `table` as the result of the SELECT `sql`, which may read `table`."""

    def rows(self, sql: str) -> list[tuple]:
        """The rows of a query whose result is small."""

    def one(self, sql: str) -> tuple | None:
        """The first row of a query."""

    def drop(self, table: str) -> None:
        """Forget `table`, if it exists."""


class DuckEngine:
    """The statements on a DuckDB connection (`con`, also reachable for DuckDB-only work)."""

    name = "duckdb"

    def __init__(self, con: Any) -> None:
        self.con = con

    def create(self, table: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TABLE {table} AS {sql}")

    def rows(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def one(self, sql: str) -> tuple | None:
        found = self.con.execute(sql).fetchall()  # every row read: the connection is free again
        return found[0] if found else None

    def drop(self, table: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {table}")


class SparkEngine:
    """The statements on Spark: each table is a temporary view of a checkpointed DataFrame (reliable
    checkpoints when the session has a checkpoint directory, local ones otherwise), so a table
    rebuilt from itself reads its previous version and lineage stays one step long.

    A table's data is released as soon as the table is rebuilt (once its new version is written) or
    dropped, so an iterative step holds two versions at most in executor storage or the checkpoint
    directory, not one per iteration."""

    name = "spark"

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self.frames: dict[str, Any] = {}
        self.reliable = bool(spark.sparkContext.getCheckpointDir())

    def sql(self, sql: str) -> Any:
        from lakehouse.identity.spark_backend import to_spark_sql

        return self.spark.sql(to_spark_sql(sql))

    def create(self, table: str, sql: str) -> None:
        frame = self.sql(sql)
        self.put(table, frame)

    def put(self, table: str, frame: Any) -> None:
        """Make `table` the checkpointed `frame` (a DataFrame built elsewhere); the table's previous
        version, which `frame` may have been built from, is released once `frame` is written."""
        frame = frame.checkpoint(eager=True) if self.reliable else frame.localCheckpoint(eager=True)
        frame.createOrReplaceTempView(table)
        previous, self.frames[table] = self.frames.get(table), frame
        if previous is not None:
            release(previous)

    def frame(self, table: str) -> Any:
        return self.frames[table] if table in self.frames else self.spark.table(table)

    def rows(self, sql: str) -> list[tuple]:
        return [tuple(r) for r in self.sql(sql).collect()]

    def one(self, sql: str) -> tuple | None:
        found = self.sql(sql).take(1)
        return tuple(found[0]) if found else None

    def drop(self, table: str) -> None:
        """Forget `table` and release its data: no frame handed out for it may be read after this."""
        self.spark.catalog.dropTempView(table)
        frame = self.frames.pop(table, None)
        if frame is not None:
            release(frame)

    def close(self) -> None:
        """Drop every view this engine made. Their data is not released here, since the caller may
        still read the frames it took (the pairs and clusters of a resolution): Spark's cleaner frees
        it once those frames are no longer referenced."""
        for table in self.frames:
            self.spark.catalog.dropTempView(table)
        self.frames.clear()


def release(frame: Any) -> None:
    """Free the data of a checkpointed DataFrame now rather than when Spark's cleaner finds it
    unreferenced: the blocks of a local checkpoint (executor memory and spill disk), the files of a
    reliable one. Anything not yet computed from `frame` can no longer be computed afterwards."""
    plan = frame._jdf.queryExecution().logical()
    if plan.getClass().getSimpleName() != "LogicalRDD":
        return
    rdd = plan.rdd()
    rdd.unpersist(False)
    written = rdd.getCheckpointFile()
    if written.isDefined():
        jvm = frame.sparkSession._jvm
        path = jvm.org.apache.hadoop.fs.Path(written.get())
        path.getFileSystem(frame.sparkSession._jsc.hadoopConfiguration()).delete(path, True)


def as_engine(con: Any) -> Engine:
    """`con` when it is an engine already, else a DuckDB connection wrapped in one."""
    return con if isinstance(con, (DuckEngine, SparkEngine)) else DuckEngine(con)
